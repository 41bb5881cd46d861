package caddymodule

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	_ "github.com/caddyserver/caddy/v2/modules/standard"
)

func adapt(t testing.TB, text string) (string, error) {
	t.Helper()
	adapter := caddyfile.Adapter{ServerType: httpcaddyfile.ServerType{}}
	out, _, err := adapter.Adapt([]byte(text), map[string]any{"filename": "Caddyfile"})
	return string(out), err
}

// The block from the public interface must adapt exactly as written.
func TestIssueCaddyfileAdapts(t *testing.T) {
	out, err := adapt(t, `{
	mfa {
		storage sqlite ./mfagate.db
		issuer "Example Corp"
	}
}
:8080 {
	reverse_proxy 127.0.0.1:9000
	mfa_gateway
}
`)
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Apps struct {
			MFA  App `json:"mfa"`
			HTTP struct {
				Servers map[string]struct {
					Routes []struct {
						Handle []struct {
							Handler string          `json:"handler"`
							Routes  json.RawMessage `json:"routes"`
						} `json:"handle"`
					} `json:"routes"`
				} `json:"servers"`
			} `json:"http"`
		} `json:"apps"`
	}
	if err := json.Unmarshal([]byte(out), &cfg); err != nil {
		t.Fatal(err)
	}
	var s *struct{ Type, Path string }
	if err := json.Unmarshal(cfg.Apps.MFA.StorageRaw, &s); err != nil {
		t.Fatal(err)
	}
	if s == nil || s.Type != "sqlite" || s.Path != "./mfagate.db" || cfg.Apps.MFA.Issuer != "Example Corp" {
		t.Fatalf("mfa app: %+v", cfg.Apps.MFA)
	}
	gw := strings.Index(out, `"handler":"mfa_gateway"`)
	rp := strings.Index(out, `"handler":"reverse_proxy"`)
	if gw < 0 || rp < 0 || gw > rp {
		t.Fatalf("mfa_gateway must come before reverse_proxy:\n%s", out)
	}
}

func TestGlobalOptionsAllAdapt(t *testing.T) {
	out, err := adapt(t, `{
	mfa {
		storage sqlite
		issuer Corp
		bcrypt_cost 11
		min_password_score 2
		session_idle_timeout 30m
		session_lifetime 8h
		portal https://mfa.example.com
		push_timeout 90s
		push_hosts fcm.googleapis.com *.notify.windows.com
		push_contact mailto:it@example.com
		admin_group ops
		sign_in_log_retention 720h
		keys {
			session_hash {env.A}
			session_block {env.B}
			factor {env.C}
		}
		lockout {
			account_limit 5
			ip_limit 20
			window 10m
			duration 1h
		}
	}
}
:8080 {
	mfa_gateway {
		portal_prefix /auth/
	}
}
`)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"bcrypt_cost":11`, `"min_password_score":2`, `"session_idle_timeout":1800000000000`, `"session_lifetime":28800000000000`,
		`"session_hash":"{env.A}"`, `"factor":"{env.C}"`, `"account_limit":5`, `"duration":3600000000000`, `"portal_prefix":"/auth/"`,
		`"portal":"https://mfa.example.com"`, `"push_timeout":90000000000`, `"push_hosts":["fcm.googleapis.com","*.notify.windows.com"]`,
		`"push_contact":"mailto:it@example.com"`, `"admin_group":"ops"`, `"sign_in_log_retention":2592000000000000`} {
		if !strings.Contains(out, want) {
			t.Errorf("adapted JSON lacks %s:\n%s", want, out)
		}
	}
}

// min_password_score 0 (length rule only) is kept, not taken for "unset";
// without the option the JSON has none and the default 3 applies.
func TestMinPasswordScore(t *testing.T) {
	out, err := adapt(t, "{\n\tmfa {\n\t\tmin_password_score 0\n\t}\n}\n")
	if err != nil || !strings.Contains(out, `"min_password_score":0`) {
		t.Fatalf("min_password_score 0: %v\n%s", err, out)
	}
	out, err = adapt(t, "{\n\tmfa {\n\t\tissuer Corp\n\t}\n}\n")
	if err != nil || strings.Contains(out, "min_password_score") {
		t.Fatalf("without the option: %v\n%s", err, out)
	}
	var a App
	a.setDefaults()
	if a.passwordPolicy().MinScore != 3 {
		t.Fatalf("default min score %d, want 3", a.passwordPolicy().MinScore)
	}
	zero := 0
	a = App{MinPasswordScore: &zero}
	a.setDefaults()
	if a.passwordPolicy().MinScore != 0 {
		t.Fatalf("min score 0 became %d", a.passwordPolicy().MinScore)
	}
}

func TestCaddyfileErrorsNameTheLine(t *testing.T) {
	for name, text := range map[string]string{
		"unknown option":     "{\n\tmfa {\n\t\tbogus 1\n\t}\n}\n",
		"argument on mfa":    "{\n\tmfa extra\n}\n",
		"storage args":       "{\n\tmfa {\n\t\tstorage\n\t}\n}\n",
		"negative cost":      "{\n\tmfa {\n\t\tbcrypt_cost -1\n\t}\n}\n",
		"score too high":     "{\n\tmfa {\n\t\tmin_password_score 5\n\t}\n}\n",
		"score not a number": "{\n\tmfa {\n\t\tmin_password_score high\n\t}\n}\n",
		"score missing":      "{\n\tmfa {\n\t\tmin_password_score\n\t}\n}\n",
		"issuer two values":  "{\n\tmfa {\n\t\tissuer a b\n\t}\n}\n",
		"directive arg":      ":80 {\n\tmfa_gateway now\n}\n",
		"directive option":   ":80 {\n\tmfa_gateway {\n\t\tnope\n\t}\n}\n",
		"lockout bad window": "{\n\tmfa {\n\t\tlockout {\n\t\t\twindow soon\n\t\t}\n\t}\n}\n",
	} {
		if _, err := adapt(t, text); err == nil || !strings.Contains(err.Error(), "Caddyfile:") {
			t.Errorf("%s: error %v does not name the line", name, err)
		}
	}
}

func FuzzCaddyfile(f *testing.F) {
	f.Add("{\n\tmfa {\n\t\tstorage sqlite x.db\n\t\tissuer \"A B\"\n\t}\n}\n:80 {\n\tmfa_gateway\n}\n")
	f.Add(":80 {\n\tmfa_gateway {\n\t\tportal_prefix /x/\n\t}\n}\n")
	f.Add("{\n\tmfa {\n\t\tkeys {\n\t\t\tfactor abc\n\t\t}\n\t\tlockout {\n\t\t\twindow 1m\n\t\t}\n\t}\n}\n")
	f.Fuzz(func(t *testing.T, text string) {
		// Must never panic; errors are fine.
		_, _ = adapt(t, text)
	})
}

// TestReadmeConfigurationAdapts keeps the README's configuration block
// honest: every option it shows must parse.
func TestReadmeConfigurationAdapts(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	start := strings.Index(text, "```caddyfile\n")
	if start < 0 {
		t.Fatal("README has no caddyfile block")
	}
	block := text[start+len("```caddyfile\n"):]
	block = block[:strings.Index(block, "```")]
	if _, err := adapt(t, block); err != nil {
		t.Fatalf("README configuration does not adapt: %v", err)
	}
}
