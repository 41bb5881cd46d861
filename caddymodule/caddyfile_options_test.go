package caddymodule

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// caddyfileOptionJSON maps every Caddyfile option the parser accepts, by
// its place ("mfa/lockout/window": `window` inside `lockout` inside the
// global `mfa` block; "mfa_gateway/realm": `realm` in the directive's
// block), to the JSON key it must produce, as a dotted path inside the
// `mfa` app ("apps.mfa") or the `mfa_gateway` handler. A new option must
// be added here and to the syntax comment in caddyfile.go, or
// TestCaddyfileOptionsLandInJSON fails.
var caddyfileOptionJSON = map[string]string{
	"mfa/storage":                   "storage.type",
	"mfa/storage/max_conns":         "storage.max_conns",
	"mfa/storage/query_timeout":     "storage.query_timeout",
	"mfa/storage/connect_timeout":   "storage.connect_timeout",
	"mfa/issuer":                    "issuer",
	"mfa/bcrypt_cost":               "bcrypt_cost",
	"mfa/sign_in_cpu_share":         "sign_in_cpu_share",
	"mfa/min_password_score":        "min_password_score",
	"mfa/session_idle_timeout":      "session_idle_timeout",
	"mfa/session_lifetime":          "session_lifetime",
	"mfa/keys":                      "keys",
	"mfa/keys/session_hash":         "keys.session_hash",
	"mfa/keys/session_block":        "keys.session_block",
	"mfa/keys/factor":               "keys.factor",
	"mfa/keys/app_password_tag":     "keys.app_password_tag",
	"mfa/keys/vapid_private":        "keys.vapid_private",
	"mfa/keys/vapid_public":         "keys.vapid_public",
	"mfa/lockout":                   "lockout",
	"mfa/lockout/account_limit":     "lockout.account_limit",
	"mfa/lockout/ip_limit":          "lockout.ip_limit",
	"mfa/lockout/window":            "lockout.window",
	"mfa/lockout/duration":          "lockout.duration",
	"mfa/lockout/consecutive_limit": "lockout.consecutive_limit",
	"mfa/portal":                    "portal",
	"mfa/push_timeout":              "push_timeout",
	"mfa/push_number_digits":        "push_number_digits",
	"mfa/push_hosts":                "push_hosts",
	"mfa/push_contact":              "push_contact",
	"mfa/admin_group":               "admin_group",
	"mfa/sign_in_log_retention":     "sign_in_log_retention",
	"mfa/webauthn":                  "webauthn",
	"mfa/webauthn/rp_id":            "webauthn.rp_id",

	"mfa_gateway/portal_prefix":         "portal_prefix",
	"mfa_gateway/require_mfa":           "require_mfa",
	"mfa_gateway/app_passwords_only":    "app_passwords_only",
	"mfa_gateway/realm":                 "realm",
	"mfa_gateway/site_name":             "site_name",
	"mfa_gateway/public_paths":          "public_paths",
	"mfa_gateway/redirect_domains":      "redirect_domains",
	"mfa_gateway/strip_headers":         "strip_headers",
	"mfa_gateway/passkeys_passwordless": "passkeys_passwordless",
}

// parserScopes names where the options of each parsing function sit.
var parserScopes = map[string]string{
	"App.UnmarshalCaddyfile":             "mfa/",
	"parseKeys":                          "mfa/keys/",
	"parseLockout":                       "mfa/lockout/",
	"parseWebAuthn":                      "mfa/webauthn/",
	"PostgresStorage.UnmarshalCaddyfile": "mfa/storage/",
	"Gateway.UnmarshalCaddyfile":         "mfa_gateway/",
}

// onlyCommentedInDocs writes the options the docs show only in comments
// (the README's PostgreSQL storage is commented out), so that every map
// entry is checked against the JSON it produces.
const onlyCommentedInDocs = `{
	mfa {
		storage postgres {env.MFA_DATABASE_URL} {
			max_conns 10
			query_timeout 5s
			connect_timeout 5s
		}
	}
}
`

// TestCaddyfileOptionsLandInJSON adapts Caddyfile.example and every
// caddyfile block of the README (read now, never rewritten) with Caddy's
// own adapter, and checks that each mfa option written there produces its
// JSON key; every option the parser accepts must have a map entry and a
// line in the syntax comment of caddyfile.go, and every map entry must be
// seen producing its JSON at least once.
func TestCaddyfileOptionsLandInJSON(t *testing.T) {
	accepted := parserOptions(t)
	documented := syntaxCommentOptions(t)
	for _, opt := range accepted {
		if _, ok := caddyfileOptionJSON[opt]; !ok {
			t.Errorf("the parser accepts %s, which has no entry in caddyfileOptionJSON: add it there and to the syntax comment", opt)
		}
		if !slices.Contains(documented, opt) {
			t.Errorf("the parser accepts %s, which the syntax comment in caddyfile.go does not list", opt)
		}
	}
	for opt := range caddyfileOptionJSON {
		if !slices.Contains(accepted, opt) {
			t.Errorf("caddyfileOptionJSON has %s, which the parser does not accept", opt)
		}
	}

	sources := map[string]string{"onlyCommentedInDocs": onlyCommentedInDocs}
	example, err := os.ReadFile("../Caddyfile.example")
	if err != nil {
		t.Fatal(err)
	}
	sources["Caddyfile.example"] = string(example)
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := readmeCaddyfileBlocks(string(readme))
	if len(blocks) == 0 {
		t.Fatal("README.md has no caddyfile block")
	}
	for name, block := range blocks {
		sources[name] = asWholeCaddyfile(t, block)
	}

	seen := map[string]bool{}
	for name, text := range sources {
		for _, opt := range optionsLandInJSON(t, name, text) {
			seen[opt] = true
		}
	}
	for opt := range caddyfileOptionJSON {
		if !seen[opt] && slices.Contains(accepted, opt) {
			t.Errorf("%s is written in no adapted Caddyfile (README, Caddyfile.example, onlyCommentedInDocs): its JSON key is never checked", opt)
		}
	}
}

// optionsLandInJSON adapts text and checks each mfa option written in it
// against the JSON; it returns the options it checked.
func optionsLandInJSON(t *testing.T, name, text string) []string {
	t.Helper()
	out, err := adapt(t, text)
	if err != nil {
		t.Errorf("%s does not adapt: %v\n%s", name, err, text)
		return nil
	}
	var cfg map[string]any
	if err := json.Unmarshal([]byte(out), &cfg); err != nil {
		t.Fatal(err)
	}
	app, _ := lookupJSON(cfg, "apps.mfa").(map[string]any)
	gateways := handlersNamed(cfg, "mfa_gateway")
	var checked []string
	for _, opt := range writtenOptions(t, name, text) {
		key, ok := caddyfileOptionJSON[opt]
		if !ok {
			t.Errorf("%s writes %s, which has no entry in caddyfileOptionJSON", name, opt)
			continue
		}
		found := false
		if strings.HasPrefix(opt, "mfa/") {
			found = lookupJSON(app, key) != nil
		}
		for _, g := range gateways {
			found = found || (strings.HasPrefix(opt, "mfa_gateway/") && lookupJSON(g, key) != nil)
		}
		if !found {
			t.Errorf("%s writes %s, but the adapted JSON has no %q there:\n%s", name, opt, key, out)
			continue
		}
		checked = append(checked, opt)
	}
	return checked
}

// writtenOptions lists the options written in the global mfa block and in
// mfa_gateway blocks (anywhere in a site, also inside route or handle),
// by place as in caddyfileOptionJSON. Comments are not options.
func writtenOptions(t *testing.T, name, text string) []string {
	t.Helper()
	blocks, err := caddyfile.Parse(name, []byte(text))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var opts []string
	for _, sb := range blocks {
		global := len(sb.Keys) == 0
		for _, seg := range sb.Segments {
			for _, place := range linePlaces(seg) {
				switch i := slices.Index(place, "mfa_gateway"); {
				case global && place[0] == "mfa" && len(place) > 1:
					opts = append(opts, strings.Join(place, "/"))
				case !global && i >= 0 && i < len(place)-1:
					opts = append(opts, strings.Join(place[i:], "/"))
				}
			}
		}
	}
	return opts
}

// linePlaces gives, for each line of a segment, its first word preceded by
// the first words of the lines that opened the blocks around it.
func linePlaces(seg caddyfile.Segment) [][]string {
	var places [][]string
	var open []string
	current, nextLine := "", -1
	for _, tok := range seg {
		switch {
		case tok.Text == "{" && !tok.Quoted():
			open = append(open, current)
		case tok.Text == "}" && !tok.Quoted():
			open = open[:max(len(open)-1, 0)]
		case tok.Line >= nextLine:
			current = tok.Text
			places = append(places, append(slices.Clone(open), current))
		}
		nextLine = tok.Line + tok.NumLineBreaks() + 1
	}
	return places
}

// readmeCaddyfileBlocks returns the README's ```caddyfile blocks by line.
func readmeCaddyfileBlocks(readme string) map[string]string {
	blocks := map[string]string{}
	re := regexp.MustCompile("(?ms)^```caddyfile\n(.*?)^```")
	for _, m := range re.FindAllStringSubmatchIndex(readme, -1) {
		line := strings.Count(readme[:m[0]], "\n") + 1
		blocks["README.md:"+strconv.Itoa(line)] = readme[m[2]:m[3]]
	}
	return blocks
}

// asWholeCaddyfile returns a README block as a reader would use it: a
// whole Caddyfile as written; a fragment of the global options (starting
// with `mfa`) inside the global block's braces; a fragment of a site's
// directives (starting with `mfa_gateway`, `mfa_portal`, `route` or
// `handle`) inside a site block. The README itself is never changed.
func asWholeCaddyfile(t *testing.T, block string) string {
	t.Helper()
	toks, err := caddyfile.Tokenize([]byte(block), "README.md")
	if err != nil || len(toks) == 0 {
		t.Fatalf("README block does not tokenize (%v):\n%s", err, block)
	}
	switch toks[0].Text {
	case "mfa":
		return "{\n" + block + "\n}\n"
	case "mfa_gateway", "mfa_portal", "route", "handle":
		return ":8080 {\n" + block + "\n}\n"
	}
	return block
}

// lookupJSON follows a dotted path through JSON objects; nil if absent.
func lookupJSON(v any, path string) any {
	for _, key := range strings.Split(path, ".") {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = obj[key]
	}
	return v
}

// handlersNamed finds every JSON object with "handler": name.
func handlersNamed(v any, name string) []map[string]any {
	var found []map[string]any
	switch v := v.(type) {
	case map[string]any:
		if v["handler"] == name {
			found = append(found, v)
		}
		for _, child := range v {
			found = append(found, handlersNamed(child, name)...)
		}
	case []any:
		for _, child := range v {
			found = append(found, handlersNamed(child, name)...)
		}
	}
	return found
}

// parserOptions reads the package's source: the string cases of every
// `switch d.Val()` are the options the parser accepts, placed by the
// function they are in (parserScopes).
func parserOptions(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var opts []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range file.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			opts = append(opts, switchedOptions(t, fn)...)
		}
	}
	slices.Sort(opts)
	return opts
}

func switchedOptions(t *testing.T, fn *ast.FuncDecl) []string {
	t.Helper()
	name := fn.Name.Name
	if fn.Recv != nil && len(fn.Recv.List) == 1 {
		if star, ok := fn.Recv.List[0].Type.(*ast.StarExpr); ok {
			if id, ok := star.X.(*ast.Ident); ok {
				name = id.Name + "." + name
			}
		}
	}
	var opts []string
	ast.Inspect(fn.Body, func(n ast.Node) bool {
		sw, ok := n.(*ast.SwitchStmt)
		if !ok || !isValCall(sw.Tag) {
			return true
		}
		scope, known := parserScopes[name]
		if !known {
			t.Errorf("%s reads Caddyfile options (switch d.Val()): add it to parserScopes", name)
		}
		for _, stmt := range sw.Body.List {
			for _, expr := range stmt.(*ast.CaseClause).List {
				if lit, ok := expr.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					s, _ := strconv.Unquote(lit.Value)
					opts = append(opts, scope+s)
				}
			}
		}
		return true
	})
	return opts
}

// isValCall reports whether e is `d.Val()`.
func isValCall(e ast.Expr) bool {
	call, ok := e.(*ast.CallExpr)
	if !ok {
		return false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	return ok && sel.Sel.Name == "Val" && len(call.Args) == 0
}

// syntaxCommentOptions reads the syntax shown in the doc comments of
// parseGlobalOption and parseGatewayDirective, placed like the options
// of caddyfileOptionJSON.
func syntaxCommentOptions(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "caddyfile.go", nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	var opts []string
	for _, decl := range f.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || fn.Doc == nil || (fn.Name.Name != "parseGlobalOption" && fn.Name.Name != "parseGatewayDirective") {
			continue
		}
		var open []string
		for _, line := range strings.Split(fn.Doc.Text(), "\n") {
			words := strings.Fields(line)
			if !strings.HasPrefix(line, "\t") || len(words) == 0 {
				continue
			}
			if strings.HasPrefix(words[0], "}") {
				open = open[:max(len(open)-1, 0)]
				continue
			}
			opts = append(opts, strings.Join(append(slices.Clone(open), words[0]), "/"))
			if strings.HasSuffix(words[len(words)-1], "{") {
				open = append(open, words[0])
			}
		}
	}
	if len(opts) == 0 {
		t.Fatal("no syntax comment found on parseGlobalOption or parseGatewayDirective")
	}
	return opts
}

// A README fragment is wrapped as a reader would use it, and options are
// found by place, also inside route, never in comments.
func TestCaddyfileFragmentsAreWrapped(t *testing.T) {
	for block, want := range map[string][]string{
		"mfa {\n\tissuer Corp # not: realm x\n\tlockout {\n\t\twindow 1m\n\t}\n}\n": {"mfa/issuer", "mfa/lockout", "mfa/lockout/window"},
		"mfa_gateway {\n\trealm Files\n}\n":                                         {"mfa_gateway/realm"},
		"route {\n\tmfa_gateway {\n\t\trequire_mfa\n\t}\n}\n":                       {"mfa_gateway/require_mfa"},
		"{\n\tmfa {\n\t\t# portal https://x\n\t}\n}\n":                              nil,
	} {
		text := asWholeCaddyfile(t, block)
		if got := writtenOptions(t, "fragment", text); !slices.Equal(got, want) {
			t.Errorf("%q: options %v, want %v", block, got, want)
		}
		if _, err := adapt(t, text); err != nil {
			t.Errorf("%q wrapped as\n%s\ndoes not adapt: %v", block, text, err)
		}
	}
}
