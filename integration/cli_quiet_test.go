package integration

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/caddyproc"
	"github.com/mfagate/mfagate/internal/store/sqlite"
)

// cliRun is one run of the real binary as a command line.
type cliRun struct {
	stdout, stderr string
	err            error
}

// runCaddyCLI runs the harness's binary in dir (with the instance's
// HOME and XDG dirs) and keeps stdout and stderr apart.
func runCaddyCLI(t *testing.T, inst *caddyproc.Instance, stdin string, args ...string) cliRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, caddyBin, args...)
	cmd.Dir, cmd.Env = inst.Dir, inst.Env()
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return cliRun{out.String(), errOut.String(), err}
}

// caddyLogLine matches a line of Caddy's own log (JSON when stderr is not
// a terminal).
var caddyLogLine = regexp.MustCompile(`(?m)^\{"level"|"logger"`)

// TestCLIPrintsOnlyItsAnswer: `caddy mfa …` with the quick start's config
// prints its answer and its own notes, not Caddy's log lines ("using
// config from file", "adapted config to JSON"), unless --verbose; errors
// still reach stderr as one readable line; without --config the error is
// short and says to pass it.
func TestCLIPrintsOnlyItsAnswer(t *testing.T) {
	dir := copyRepoFiles(t, "Caddyfile.example")
	inst, err := caddyproc.New(caddyBin, dir)
	if err != nil {
		t.Fatal(err)
	}
	// The database the server would have created at its first start
	// (./mfagate.db, as Caddyfile.example says); the ports stay free.
	db := filepath.Join(dir, "mfagate.db")
	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	noLogs := func(what string, r cliRun) {
		t.Helper()
		if caddyLogLine.MatchString(r.stdout) || caddyLogLine.MatchString(r.stderr) {
			t.Errorf("%s printed Caddy's log lines:\nstdout:\n%s\nstderr:\n%s", what, r.stdout, r.stderr)
		}
	}

	add := runCaddyCLI(t, inst, "violet tractor 7 umbrella\n", "mfa", "user", "add", "alice", "--config", "Caddyfile.example", "--password-stdin")
	if add.err != nil || add.stdout != "added user alice (MFA enabled)\n" {
		t.Fatalf("user add: %v\nstdout:\n%s\nstderr:\n%s", add.err, add.stdout, add.stderr)
	}
	if want := "mfa: using sqlite store " + db + "\n"; add.stderr != want {
		t.Errorf("user add: stderr %q, want only %q", add.stderr, want)
	}
	noLogs("user add", add)

	list := runCaddyCLI(t, inst, "", "mfa", "user", "list", "--config", "Caddyfile.example")
	if list.err != nil || !regexp.MustCompile(`\AUSERNAME +NAME .*\nalice +enabled\n\z`).MatchString(list.stdout) {
		t.Fatalf("user list: %v\nstdout:\n%s\nstderr:\n%s", list.err, list.stdout, list.stderr)
	}
	if list.stderr != "" {
		t.Errorf("user list printed on stderr:\n%s", list.stderr)
	}
	noLogs("user list", list)

	verbose := runCaddyCLI(t, inst, "", "mfa", "user", "list", "--config", "Caddyfile.example", "--verbose")
	if verbose.err != nil || verbose.stdout != list.stdout {
		t.Fatalf("user list --verbose: %v\nstdout:\n%s", verbose.err, verbose.stdout)
	}
	if !caddyLogLine.MatchString(verbose.stderr) || !strings.Contains(verbose.stderr, `"msg":"adapted config to JSON"`) {
		t.Errorf("user list --verbose printed no log lines:\n%s", verbose.stderr)
	}

	missing := runCaddyCLI(t, inst, "", "mfa", "user", "remove", "nobody", "--config", "Caddyfile.example")
	if missing.err == nil || !strings.Contains(missing.stderr, "Error: no user \"nobody\"\n") || missing.stdout != "" {
		t.Errorf("user remove nobody: %v\nstdout:\n%s\nstderr:\n%s", missing.err, missing.stdout, missing.stderr)
	}
	noLogs("user remove nobody", missing)

	bare, err := caddyproc.New(caddyBin, t.TempDir()) // no ./Caddyfile there
	if err != nil {
		t.Fatal(err)
	}
	noConfig := runCaddyCLI(t, bare, "", "mfa", "user", "list")
	lines := strings.Split(strings.TrimSuffix(noConfig.stderr, "\n"), "\n")
	if noConfig.err == nil || len(lines) != 1 || !strings.HasPrefix(lines[0], "Error: ") ||
		!strings.Contains(lines[0], "--config Caddyfile") || len(lines[0]) > 300 {
		t.Errorf("user list without --config: %v; want one short line saying to pass --config Caddyfile, got:\n%s", noConfig.err, noConfig.stderr)
	}
	noLogs("user list without --config", noConfig)
}
