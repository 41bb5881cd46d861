package caddymodule

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/factor/password"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store/sqlite"
)

// importHashes returns an argon2id hash of "ada's password" (small
// parameters) and a bcrypt hash of "ben's password".
func importHashes(t *testing.T) (argon, bcryptHash string) {
	t.Helper()
	salt := []byte("cli-import-salt!")
	key := argon2.IDKey([]byte("ada's password"), salt, 1, 1024, 1, 32)
	argon = fmt.Sprintf("$argon2id$v=19$m=1024,t=1,p=1$%s$%s", base64.RawStdEncoding.EncodeToString(salt),
		base64.RawStdEncoding.EncodeToString(key))
	b, err := bcrypt.GenerateFromPassword([]byte("ben's password"), 10)
	if err != nil {
		t.Fatal(err)
	}
	return argon, string(b)
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func openSQLite(t *testing.T, db string) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestCLIImport: a bad file (a $6$ hash on line 7) is refused naming the
// line and creates nothing, not even the store; a dry run before the
// first start writes nothing; the import then creates the store and both
// users (MFA enabled, hashes as they were, the disabled one blocked),
// audited; importing again is refused (names taken), as is a file naming
// a user twice.
func TestCLIImport(t *testing.T) {
	argon, bcryptHash := importHashes(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "mfagate.db")
	config := writeConfig(t, dir, "\t\tstorage sqlite "+db+"\n\t\tbcrypt_cost 10")

	bad := writeFile(t, dir, "bad.yml", `users:
  ada:
    password: "`+argon+`"
  ben:
    displayname: Ben
    email: ben@example.com
    password: "$6$rounds=5000$saltsalt$c29tZWhhc2g"
`)
	stdout, _, err := runCLI(t, "", "user", "import", bad, "--config", config)
	if err == nil || !strings.Contains(err.Error(), `line 7: user "ben": password: unsupported password hash: sha512-crypt`) ||
		!strings.Contains(err.Error(), "nothing imported") {
		t.Fatalf("bad file: %v\n%s", err, stdout)
	}
	if exists(db) {
		t.Fatal("a refused file created the store")
	}

	good := writeFile(t, dir, "users.yml", `users:
  ada:
    disabled: false
    displayname: "Ada Lovelace"
    password: "`+argon+`"
    email: ada@example.com
    groups: [admins, dev]
  Ben:
    password: '`+bcryptHash+`'
    disabled: true
`)
	stdout, stderr, err := runCLI(t, "", "user", "import", good, "--dry-run", "--config", config)
	if err != nil || !strings.Contains(stdout, "2 users would be imported (1 hashes to be replaced by bcrypt cost 10 at first sign-in); 1 blocked") ||
		!strings.Contains(stdout, "dry run: nothing was written") || !strings.Contains(stderr, "it would be created") {
		t.Fatalf("dry run before the first start: %v\n%s\n%s", err, stdout, stderr)
	}
	if exists(db) {
		t.Fatal("a dry run created the store")
	}
	if strings.Contains(stdout, argon) || strings.Contains(stdout, bcryptHash) {
		t.Fatalf("the output shows a hash:\n%s", stdout)
	}

	stdout, stderr, err = runCLI(t, "", "user", "import", good, "--config", config)
	if err != nil || !strings.Contains(stdout, "2 users imported (1 hashes to be replaced by bcrypt cost 10 at first sign-in); 1 blocked") {
		t.Fatalf("import: %v\n%s\n%s", err, stdout, stderr)
	}
	if !strings.Contains(stderr, "created sqlite store "+db) {
		t.Errorf("stderr does not say the store was created: %q", stderr)
	}
	st := openSQLite(t, db)
	ctx := context.Background()
	ada, err := st.UserByName(ctx, "ada")
	if err != nil || ada.PasswordHash != argon || ada.MFAState != model.MFAEnabled || ada.DisplayName != "Ada Lovelace" ||
		fmt.Sprint(ada.Groups) != "[admins dev]" || !ada.BlockedAt.IsZero() {
		t.Fatalf("ada: %+v %v", ada, err)
	}
	ben, err := st.UserByName(ctx, "ben")
	if err != nil || ben.PasswordHash != bcryptHash || ben.BlockedAt.IsZero() || !strings.Contains(ben.BlockedReason, good) {
		t.Fatalf("ben: %+v %v", ben, err)
	}
	events, _ := st.AuditEvents(ctx, 0, 0)
	audited := 0
	for _, e := range events {
		if e.Event == audit.UserCreated && strings.Contains(e.Detail, "imported from "+good+" by cli (os user ") {
			audited++
		}
	}
	if audited != 2 {
		t.Fatalf("%d imports audited: %+v", audited, events)
	}

	// Again: both names are taken, nothing changes; a dry run says so too.
	for _, extra := range [][]string{nil, {"--dry-run"}} {
		_, _, err = runCLI(t, "", append([]string{"user", "import", good, "--config", config}, extra...)...)
		if err == nil || !strings.Contains(err.Error(), `line 2: user "ada": a user of this name exists already`) ||
			!strings.Contains(err.Error(), `line 8: user "ben": a user of this name exists already`) {
			t.Fatalf("import again %v: %v", extra, err)
		}
	}
	twice := writeFile(t, dir, "twice.yml", "users:\n  cy:\n    password: '"+bcryptHash+"'\n  CY:\n    password: '"+bcryptHash+"'\n")
	_, _, err = runCLI(t, "", "user", "import", twice, "--config", config)
	if err == nil || !strings.Contains(err.Error(), `line 4: user "CY": the username "cy" is given twice (first on line 2)`) {
		t.Fatalf("a name twice: %v", err)
	}
	if us, _ := st.ListUsers(ctx); len(us) != 2 {
		t.Fatalf("%d users after refused imports", len(us))
	}
	if !password.IsArgon2id(ada.PasswordHash) {
		t.Fatal("ada's hash should wait for her first sign-in")
	}
}

// A dry run on an existing store lists the users and writes nothing.
func TestCLIImportDryRunWritesNothing(t *testing.T) {
	_, bcryptHash := importHashes(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "mfagate.db")
	config := writeConfig(t, dir, "\t\tstorage sqlite "+db+"\n\t\tbcrypt_cost 10")
	if _, _, err := runCLI(t, strongPassword+"\n", "user", "add", "zed", "--password-stdin", "--config", config); err != nil {
		t.Fatal(err)
	}
	file := writeFile(t, dir, "users.yml", "users:\n  cy:\n    displayname: Cy\n    password: '"+bcryptHash+"'\n    groups: [ops]\n")
	stdout, _, err := runCLI(t, "", "user", "import", file, "--dry-run", "--config", config)
	if err != nil || !strings.Contains(stdout, "cy") || !strings.Contains(stdout, "ops") ||
		!strings.Contains(stdout, "1 users would be imported (0 hashes to be replaced") {
		t.Fatalf("dry run: %v\n%s", err, stdout)
	}
	st := openSQLite(t, db)
	if us, _ := st.ListUsers(context.Background()); len(us) != 1 || us[0].Username != "zed" {
		t.Fatalf("users after a dry run: %+v", us)
	}
	if _, err := st.UserByName(context.Background(), "cy"); err == nil {
		t.Fatal("the dry run created cy")
	}
}

// TestCLIImportCostBound: a hash costlier than 2 checks at the server's
// bcrypt cost (bcrypt 12 on a cost-10 server: 4) refuses the file, naming
// its line and --allow-reset; with --allow-reset that user is imported
// with no usable password, said in the output and the audit log, and
// reset-password gives them one.
func TestCLIImportCostBound(t *testing.T) {
	_, bcryptHash := importHashes(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "mfagate.db")
	config := writeConfig(t, dir, "\t\tstorage sqlite "+db+"\n\t\tbcrypt_cost 10")
	costly := "$2y$12$" + strings.Repeat("a", 53)
	file := writeFile(t, dir, "users.yml", "users:\n  ben:\n    password: '"+bcryptHash+"'\n  dee:\n    displayname: Dee\n    password: '"+costly+"'\n")
	stdout, _, err := runCLI(t, "", "user", "import", file, "--config", config)
	if err == nil || !strings.Contains(err.Error(), `line 6: user "dee": password: password hash too costly to check: a check against this bcrypt hash costs about 4.0 checks at this server's bcrypt cost 10, more than 2.0`) ||
		!strings.Contains(err.Error(), "--allow-reset") {
		t.Fatalf("costly hash: %v\n%s", err, stdout)
	}
	if exists(db) {
		t.Fatal("a refused file created the store")
	}
	stdout, _, err = runCLI(t, "", "user", "import", file, "--allow-reset", "--config", config)
	if err != nil || !strings.Contains(stdout, "2 users imported (0 hashes to be replaced by bcrypt cost 10 at first sign-in); 1 with no usable password") ||
		!strings.Contains(stdout, "none: too costly, an admin resets it") {
		t.Fatalf("--allow-reset: %v\n%s", err, stdout)
	}
	st := openSQLite(t, db)
	ctx := context.Background()
	dee, err := st.UserByName(ctx, "dee")
	if err != nil || dee.PasswordHash != "" || dee.DisplayName != "Dee" {
		t.Fatalf("dee: %+v %v", dee, err)
	}
	if ben, _ := st.UserByName(ctx, "ben"); ben.PasswordHash != bcryptHash {
		t.Fatal("ben's hash was not kept")
	}
	events, _ := st.AuditEvents(ctx, dee.ID, 0)
	if len(events) != 1 || !strings.Contains(events[0].Detail, "no usable password") {
		t.Fatalf("dee's import audited as %+v", events)
	}
	stdout, _, err = runCLI(t, "", "user", "reset-password", "dee", "--config", config)
	if err != nil {
		t.Fatalf("reset-password: %v\n%s", err, stdout)
	}
	if dee, _ = st.UserByName(ctx, "dee"); dee.PasswordHash == "" || dee.PasswordExpiresAt.IsZero() {
		t.Fatalf("dee after reset-password: %+v", dee)
	}
}
