package caddymodule

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"
)

// mfaHelp is the text `caddy mfa --help` starts with.
func mfaHelp(t *testing.T) caddycmd.Command {
	t.Helper()
	c, ok := caddycmd.Commands()["mfa"]
	if !ok {
		t.Fatal("no mfa command registered")
	}
	return c
}

// `caddy mfa --help` says what the CLI does to a missing SQLite database,
// and it is true: `user add` creates one the config names by an absolute
// path in an existing directory, other commands (and relative paths)
// refuse. It used to say the CLI never creates the database.
func TestMFAHelpSaysWhenTheDatabaseIsCreated(t *testing.T) {
	long := strings.Join(strings.Fields(mfaHelp(t).Long), " ")
	if strings.Contains(long, "never creates") {
		t.Errorf("help still says the CLI never creates the database:\n%s", long)
	}
	for _, claim := range []string{
		"Only 'user add' and 'user import' create a missing SQLite database",
		"only when the config names it by an absolute path in an existing directory",
		"Otherwise a missing database is an error: start the server once",
	} {
		if !strings.Contains(long, claim) {
			t.Errorf("help lacks %q:\n%s", claim, long)
		}
	}

	// The claims hold: list refuses, add creates (absolute path), a
	// relative path is refused even by add.
	dir := t.TempDir()
	db := filepath.Join(dir, "mfagate.db")
	config := writeConfig(t, dir, "\t\tstorage sqlite "+db+"\n\t\tbcrypt_cost 10")
	if _, _, err := runCLI(t, "", "user", "list", "--config", config); err == nil || exists(db) {
		t.Fatalf("user list on a missing database: %v (created: %v)", err, exists(db))
	}
	if _, _, err := runCLI(t, strongPassword+"\n", "user", "add", "alice", "--password-stdin", "--config", config); err != nil || !exists(db) {
		t.Fatalf("user add with an absolute path: %v (created: %v)", err, exists(db))
	}
	rel := t.TempDir()
	t.Chdir(rel)
	config = writeConfig(t, rel, "\t\tstorage sqlite ./mfagate.db")
	if _, _, err := runCLI(t, strongPassword+"\n", "user", "add", "alice", "--password-stdin", "--config", config); err == nil || exists(filepath.Join(rel, "mfagate.db")) {
		t.Fatalf("user add with a relative path: %v", err)
	}
}

// The usage line `caddy --help` shows names every mfa subcommand, and the
// help's examples show each of them.
func TestMFAUsageNamesEveryCommand(t *testing.T) {
	help := mfaHelp(t)
	root := &cobra.Command{Use: "mfa"}
	buildMFACommand(root)
	var walk func(c *cobra.Command, path string)
	walk = func(c *cobra.Command, path string) {
		for _, sub := range c.Commands() {
			name := strings.TrimSpace(path + " " + sub.Name())
			if sub.HasSubCommands() {
				walk(sub, name)
				continue
			}
			if !strings.Contains(help.Usage, sub.Name()) {
				t.Errorf("usage %q does not name %q", help.Usage, name)
			}
			if !strings.Contains(help.Long, "caddy mfa "+name) {
				t.Errorf("help has no example of caddy mfa %s", name)
			}
		}
	}
	walk(root, "")
}

// Without --config and without ./Caddyfile, the error is short and says
// what to do: pass the config (it used to be a 600-character paragraph).
func TestCLIWithoutConfigSaysPassConfig(t *testing.T) {
	t.Chdir(t.TempDir())
	data := t.TempDir()
	t.Setenv("XDG_DATA_HOME", data)
	_, _, err := runCLI(t, "", "user", "list")
	if err == nil {
		t.Fatal("user list without a config or a database succeeded")
	}
	msg := err.Error()
	if !strings.Contains(msg, "--config Caddyfile") {
		t.Errorf("the error does not say to pass --config Caddyfile: %s", msg)
	}
	db := filepath.Join(data, "caddy", "mfagate", "mfagate.db")
	if short := strings.ReplaceAll(msg, db, "<db>"); len(short) > 160 {
		t.Errorf("the error has %d characters (its path aside), want at most 160: %s", len(short), msg)
	}
	if _, err := os.Stat(db); err == nil {
		t.Error("the CLI created the default database")
	}
}

// Without --verbose, Caddy's warnings still show, as one plain line each
// (here the adapter's about an unformatted Caddyfile), never as JSON log
// lines; the answer stays alone on stdout.
func TestCLIShowsCaddyWarningsPlainly(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "mfagate.db")
	config := writeConfig(t, dir, "\t\tstorage sqlite "+db+"\n\t\tbcrypt_cost 10")
	if _, _, err := runCLI(t, strongPassword+"\n", "user", "add", "alice", "--password-stdin", "--config", config); err != nil {
		t.Fatal(err)
	}
	messy := filepath.Join(dir, "Messy")
	if err := os.WriteFile(messy, []byte("{\n  mfa {\n    storage sqlite "+db+"\n  }\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := runCLI(t, "", "user", "list", "--config", messy, "--adapter", "caddyfile")
	if err != nil || !strings.Contains(stdout, "alice") || strings.Contains(stdout, "mfa:") {
		t.Fatalf("list: %v\nstdout:\n%s", err, stdout)
	}
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "mfa: warn: Caddyfile input is not formatted") {
		t.Errorf("stderr %q, want the adapter's warning as one plain line", stderr)
	}
}
