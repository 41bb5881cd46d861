package caddymodule

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
)

// provision runs the app's Provision as Caddy would, and its Cleanup at the
// end of the test.
func provision(t *testing.T, a *App) error {
	t.Helper()
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	t.Cleanup(cancel)
	err := a.Provision(ctx)
	t.Cleanup(func() {
		if err := a.Cleanup(); err != nil {
			t.Error(err)
		}
	})
	return err
}

// unsetenv makes name unset for the test (and restores it after).
func unsetenv(t *testing.T, name string) {
	t.Helper()
	t.Setenv(name, "")
	os.Unsetenv(name)
}

// storageJSON is the storage object of the JSON config: {"type": typ,
// field: value}, without "type" when typ is empty (meaning sqlite).
func storageJSON(t *testing.T, typ, field, value string) json.RawMessage {
	t.Helper()
	obj := map[string]string{field: value}
	if typ != "" {
		obj["type"] = typ
	}
	b, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// A key given as an unset placeholder fails provisioning, naming the option,
// before the store is opened: it is never replaced by a generated key.
func TestProvisionRefusesKeyFromUnsetPlaceholder(t *testing.T) {
	unsetenv(t, "MFAGATE_TEST_UNSET_KEY")
	for _, option := range []string{"session_hash", "session_block", "factor", "app_password_tag"} {
		t.Run(option, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "mfagate.db")
			keys := new(KeysConfig)
			field := map[string]*string{
				"session_hash": &keys.SessionHash, "session_block": &keys.SessionBlock,
				"factor": &keys.Factor, "app_password_tag": &keys.AppPasswordTag,
			}[option]
			*field = "{env.MFAGATE_TEST_UNSET_KEY}"
			a := &App{StorageRaw: storageJSON(t, "sqlite", "path", db), Keys: keys, BcryptCost: 10}
			err := provision(t, a)
			want := `keys ` + option + ` is set to "{env.MFAGATE_TEST_UNSET_KEY}", which is empty`
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("Provision: %v, want an error containing %q", err, want)
			}
			if exists(db) {
				t.Fatal("the store was opened (and a key could have been generated into it)")
			}
		})
	}
}

// A key given through a set placeholder is used, not a generated one.
func TestProvisionUsesKeyFromPlaceholder(t *testing.T) {
	key := make([]byte, 32)
	rand.Read(key)
	t.Setenv("MFAGATE_TEST_FACTOR_KEY", base64.StdEncoding.EncodeToString(key))
	a := &App{
		StorageRaw: storageJSON(t, "sqlite", "path", filepath.Join(t.TempDir(), "mfagate.db")),
		Keys:       &KeysConfig{Factor: "{env.MFAGATE_TEST_FACTOR_KEY}"},
		BcryptCost: 10,
	}
	if err := provision(t, a); err != nil {
		t.Fatal(err)
	}
	// Nothing was generated for the factor key; the others were.
	absent := func() ([]byte, error) { return []byte("absent"), nil }
	ctx := context.Background()
	if got, err := a.services.Store.Secret(ctx, "key.factor", absent); err != nil || string(got) != "absent" {
		t.Fatalf("factor key kept in the store (%v): the configured key was not used", err)
	}
	if got, err := a.services.Store.Secret(ctx, "key.session.hash", absent); err != nil || len(got) != 64 {
		t.Fatalf("unconfigured session_hash key: %d bytes, %v", len(got), err)
	}
}

// A storage location given as an unset placeholder fails provisioning,
// naming the option, instead of falling back to the default location.
func TestProvisionRefusesStorageFromUnsetPlaceholder(t *testing.T) {
	data := t.TempDir()
	t.Setenv("XDG_DATA_HOME", data)
	unsetenv(t, "MFAGATE_TEST_UNSET_DB")
	cases := map[string]json.RawMessage{
		`sqlite path is set to "{env.MFAGATE_TEST_UNSET_DB}", which is empty`:  storageJSON(t, "sqlite", "path", "{env.MFAGATE_TEST_UNSET_DB}"),
		`postgres dsn is set to "{env.MFAGATE_TEST_UNSET_DB}", which is empty`: storageJSON(t, "postgres", "dsn", "{env.MFAGATE_TEST_UNSET_DB}"),
	}
	for want, storage := range cases {
		a := &App{StorageRaw: storage, BcryptCost: 10}
		if err := provision(t, a); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Provision: %v, want an error containing %q", err, want)
		}
	}
	if exists(filepath.Join(data, "caddy", "mfagate", "mfagate.db")) {
		t.Fatal("fell back to the default database")
	}
}

// A storage path given through a set placeholder is used.
func TestProvisionUsesStoragePathFromPlaceholder(t *testing.T) {
	db := filepath.Join(t.TempDir(), "from-env.db")
	t.Setenv("MFAGATE_TEST_DB", db)
	a := &App{StorageRaw: storageJSON(t, "", "path", "{env.MFAGATE_TEST_DB}"), BcryptCost: 10}
	if err := provision(t, a); err != nil {
		t.Fatal(err)
	}
	if !exists(db) {
		t.Fatalf("no database at %s", db)
	}
}

// Every option is checked before the store is opened, and the error names
// it as the config spells it.
func TestProvisionChecksOptionsBeforeOpening(t *testing.T) {
	short := base64.StdEncoding.EncodeToString([]byte("short"))
	cases := map[string]func(a *App){
		"keys factor: must decode to 32 bytes, got 5":        func(a *App) { a.Keys = &KeysConfig{Factor: short} },
		"keys session_hash: not valid base64":                func(a *App) { a.Keys = &KeysConfig{SessionHash: "%%%"} },
		"bcrypt_cost must be between 10 and 31, got 4":       func(a *App) { a.BcryptCost = 4 },
		"sign_in_cpu_share must be above 0 and at most 1":    func(a *App) { a.SignInCPUShare = 1.5 },
		"min_password_score must be between 0 and 4, got 7":  func(a *App) { seven := 7; a.MinPasswordScore = &seven },
		"min_password_score must be between 0 and 4, got -1": func(a *App) { m := -1; a.MinPasswordScore = &m },
		"session_idle_timeout (48h0m0s) is longer than":      func(a *App) { a.SessionIdleTimeout = caddy.Duration(48 * time.Hour) },
		"session_idle_timeout and session_lifetime must be":  func(a *App) { a.SessionLifetime = -1 },
	}
	for want, set := range cases {
		db := filepath.Join(t.TempDir(), "mfagate.db")
		a := &App{StorageRaw: storageJSON(t, "sqlite", "path", db), BcryptCost: 10}
		set(a)
		if err := provision(t, a); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Provision: %v, want an error containing %q", err, want)
		}
		if exists(db) {
			t.Errorf("%s: the store was opened", want)
		}
	}
}

// push_hosts takes DNS names and wildcards of them, and addresses only as
// exact entries: an IPv6 zone, an IPv4-mapped or unspecified address, a
// wildcard of an address are refused before the store opens.
func TestPushHostsChecked(t *testing.T) {
	for _, bad := range []string{"*.127.0.0.1", "[::ffff:127.0.0.1]:8443", "0.0.0.0", "[fe80::1%eth0]", "::1", "a_b.example.com", "*.com", "fcm.googleapis.com:0"} {
		db := filepath.Join(t.TempDir(), "mfagate.db")
		a := &App{StorageRaw: storageJSON(t, "sqlite", "path", db), BcryptCost: 10, PushHosts: []string{"fcm.googleapis.com", bad}}
		if err := provision(t, a); err == nil || !strings.Contains(err.Error(), "push_hosts entry") {
			t.Errorf("push_hosts %q: %v", bad, err)
		}
		if exists(db) {
			t.Errorf("push_hosts %q: the store was opened", bad)
		}
	}
	a := &App{StorageRaw: storageJSON(t, "sqlite", "path", filepath.Join(t.TempDir(), "ok.db")), BcryptCost: 10,
		PushHosts: []string{"*.notify.windows.com", "127.0.0.1:8443", "[::1]:8443", "push.internal:8443"}}
	if err := provision(t, a); err != nil {
		t.Fatalf("valid push_hosts refused: %v", err)
	}
}
