package caddymodule

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/mfagate/mfagate/internal/store/sqlite"
)

// strongPassword passes the default password policy.
const strongPassword = "orchid lantern 42 quibble"

// runCLI runs `caddy mfa args...` in-process with stdin as the standard
// input; it returns standard output and standard error.
func runCLI(t *testing.T, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	in, err := os.CreateTemp(t.TempDir(), "stdin")
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	fmt.Fprint(in, stdin)
	if _, err := in.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	saved := os.Stdin
	os.Stdin = in
	defer func() { os.Stdin = saved }()

	root := &cobra.Command{Use: "mfa", SilenceUsage: true, SilenceErrors: true}
	buildMFACommand(root)
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err = root.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

func writeConfig(t *testing.T, dir, mfaBlock string) string {
	t.Helper()
	path := filepath.Join(dir, "Caddyfile")
	text := "{\n\tmfa {\n" + mfaBlock + "\n\t}\n}\n:0 {\n\tmfa_gateway\n}\n"
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// The CLI does not create a database the server never sees: a missing
// SQLite file is an error naming the path, and nothing is created.
func TestCLIRefusesMissingSQLiteDatabase(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "sub", "mfagate.db")
	config := writeConfig(t, dir, "\t\tstorage sqlite "+db)
	for _, args := range [][]string{
		{"user", "add", "alice", "--password-stdin"},
		{"user", "list"},
		{"user", "passwd", "alice", "--password-stdin"},
		{"user", "remove", "alice"},
		{"user", "mfa", "alice", "enforced"},
		{"app-passwords", "list", "alice"},
		{"app-passwords", "delete-all", "alice"},
	} {
		stdout, _, err := runCLI(t, "alice password 1\n", append(args, "--config", config)...)
		if err == nil || !strings.Contains(err.Error(), "no sqlite database at "+db) ||
			!strings.Contains(err.Error(), "Start the server once") || !strings.Contains(err.Error(), "--config") {
			t.Errorf("%v: error %v, want one naming %s with a hint", args, err, db)
		}
		if stdout != "" {
			t.Errorf("%v printed %q", args, stdout)
		}
	}
	if exists(db) || exists(filepath.Dir(db)) {
		t.Fatal("the CLI created the database")
	}
}

// Without a configured path, the error explains that the default location
// depends on the user running the command.
func TestCLIRefusesMissingDefaultDatabase(t *testing.T) {
	data := t.TempDir()
	t.Setenv("XDG_DATA_HOME", data)
	config := writeConfig(t, t.TempDir(), "\t\tissuer Corp")
	_, _, err := runCLI(t, "alice password 1\n", "user", "add", "alice", "--password-stdin", "--config", config)
	db := filepath.Join(data, "caddy", "mfagate", "mfagate.db")
	if err == nil || !strings.Contains(err.Error(), db) || !strings.Contains(err.Error(), "XDG_DATA_HOME") ||
		!strings.Contains(err.Error(), "HOME") || !strings.Contains(err.Error(), "config: "+config) {
		t.Fatalf("error %v, want one naming %s and how the default location is found", err, db)
	}
	if exists(db) {
		t.Fatal("the CLI created the database")
	}
}

// With the server's database present, the CLI works on it and says which
// store it changed (on stderr, so stdout stays parseable).
func TestCLIUsesExistingSQLiteDatabase(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "mfagate.db")
	st, err := sqlite.Open(context.Background(), db) // as the server does
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	config := writeConfig(t, dir, "\t\tstorage sqlite "+db+"\n\t\tbcrypt_cost 10")
	stdout, stderr, err := runCLI(t, "alice password 1\n", "user", "add", "alice", "--password-stdin", "--config", config)
	if err != nil || !strings.Contains(stdout, "added user alice") {
		t.Fatalf("add: %v\n%s", err, stdout)
	}
	if want := "mfa: using sqlite store " + db + "\n"; stderr != want {
		t.Fatalf("stderr %q, want %q", stderr, want)
	}
	stdout, stderr, err = runCLI(t, "", "user", "list", "--json", "--config", config)
	if err != nil || !strings.Contains(stdout, `"username": "alice"`) || stderr != "" {
		t.Fatalf("list: %v\nstdout %s\nstderr %s", err, stdout, stderr)
	}
}

// An unset placeholder in the storage path is an error in the CLI too,
// not the default database.
func TestCLIRefusesStorageFromUnsetPlaceholder(t *testing.T) {
	unsetenv(t, "MFAGATE_TEST_UNSET_DB")
	t.Setenv("XDG_DATA_HOME", t.TempDir())
	config := writeConfig(t, t.TempDir(), "\t\tstorage sqlite {env.MFAGATE_TEST_UNSET_DB}")
	_, _, err := runCLI(t, "", "user", "list", "--config", config)
	if err == nil || !strings.Contains(err.Error(), `sqlite path is set to "{env.MFAGATE_TEST_UNSET_DB}", which is empty`) {
		t.Fatalf("error %v", err)
	}
}

// Remote-Groups joins groups with commas, so a group named "staff,admins"
// would read as two; the CLI refuses it, naming the group, and adds no one.
func TestCLIRefusesGroupWithComma(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "mfagate.db")
	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	config := writeConfig(t, dir, "\t\tstorage sqlite "+db+"\n\t\tbcrypt_cost 10")
	for _, g := range []string{"staff,admins", "staff\u202e"} {
		stdout, _, err := runCLI(t, "alice password 1\n", "user", "add", "alice", "--password-stdin",
			"--group", "staff", "--group", g, "--config", config)
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("group %q", g)) || !strings.Contains(err.Error(), "commas") {
			t.Fatalf("add --group %q: %v (stdout %q), want an error naming the group", g, err, stdout)
		}
	}
	stdout, _, err := runCLI(t, "", "user", "list", "--config", config)
	if err != nil || strings.Contains(stdout, "alice") {
		t.Fatalf("list after refused adds: %v\n%s", err, stdout)
	}
}

// Passwords given to add and passwd pass the config's policy: the error
// says why one is refused (the username and issuer count as guessable)
// and nothing changes; min_password_score 0 leaves the length rule only.
func TestCLIAppliesPasswordPolicy(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "mfagate.db")
	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	config := writeConfig(t, dir, "\t\tstorage sqlite "+db+"\n\t\tbcrypt_cost 10\n\t\tissuer \"Example Corp\"")
	for pw, reason := range map[string]string{
		"password1":       "The password is too easy to guess: it is a very common password.",
		"alice2024":       "The password is too easy to guess: it contains your username or the name of this service.",
		"examplecorp2024": "it contains your username or the name of this service",
		"Xk9#vQ2":         "The password is too short: use at least 8 characters.",
	} {
		stdout, _, err := runCLI(t, pw+"\n", "user", "add", "alice", "--password-stdin", "--config", config)
		if err == nil || !strings.Contains(err.Error(), reason) || stdout != "" {
			t.Errorf("add with %q: %v (stdout %q), want the reason %q", pw, err, stdout, reason)
		}
	}
	if stdout, _, err := runCLI(t, "", "user", "list", "--config", config); err != nil || strings.Contains(stdout, "alice") {
		t.Fatalf("list after refused adds: %v\n%s", err, stdout)
	}
	if _, _, err := runCLI(t, strongPassword+"\n", "user", "add", "alice", "--password-stdin", "--config", config); err != nil {
		t.Fatalf("add with a strong password: %v", err)
	}
	_, _, err = runCLI(t, "password1\n", "user", "passwd", "alice", "--password-stdin", "--config", config)
	if err == nil || !strings.Contains(err.Error(), "too easy to guess") {
		t.Fatalf("passwd with a weak password: %v", err)
	}

	lax := writeConfig(t, t.TempDir(), "\t\tstorage sqlite "+db+"\n\t\tbcrypt_cost 10\n\t\tmin_password_score 0")
	if _, _, err := runCLI(t, "password1\n", "user", "passwd", "alice", "--password-stdin", "--config", lax); err != nil {
		t.Fatalf("passwd with min_password_score 0: %v", err)
	}
	if _, _, err := runCLI(t, "short\n", "user", "passwd", "alice", "--password-stdin", "--config", lax); err == nil ||
		!strings.Contains(err.Error(), "too short") {
		t.Fatalf("short password with min_password_score 0: %v", err)
	}
}
