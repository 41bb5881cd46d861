package caddymodule

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store/sqlite"
)

// block and unblock work from the CLI, and `mfa log` prints the sign-in
// log, of one user or all.
func TestCLIBlockUnblockAndLog(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "mfagate.db")
	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	config := writeConfig(t, dir, "\t\tstorage sqlite "+db+"\n\t\tbcrypt_cost 10")
	for _, name := range []string{"alice", "bob"} {
		if _, _, err := runCLI(t, name+" correct horse battery\n", "user", "add", name, "--password-stdin", "--config", config); err != nil {
			t.Fatal(err)
		}
	}
	if out, _, err := runCLI(t, "", "user", "block", "alice", "--config", config); err != nil || !strings.Contains(out, "blocked alice") {
		t.Fatalf("block: %v %s", err, out)
	}
	if out, _, _ := runCLI(t, "", "user", "list", "--config", config); !strings.Contains(out, "(blocked)") {
		t.Fatalf("list does not show the block:\n%s", out)
	}
	u, err := st.UserByName(context.Background(), "alice")
	if err != nil || u.BlockedAt.IsZero() || !strings.HasPrefix(u.BlockedReason, "by an admin (cli") {
		t.Fatalf("blocked user = %+v, %v", u, err)
	}
	if _, _, err := runCLI(t, "", "user", "unblock", "alice", "--config", config); err != nil {
		t.Fatal(err)
	}
	// As in the admin center, unblocking an unblocked user is no error: it
	// clears the failed sign-in counter.
	if out, _, err := runCLI(t, "", "user", "unblock", "alice", "--config", config); err != nil ||
		!strings.Contains(out, "was not blocked; failed sign-in counter cleared") {
		t.Fatalf("unblocking twice: %v %s", err, out)
	}

	if err := st.CreateSession(context.Background(), &model.Session{IDHash: make([]byte, 32), UserID: u.ID, Stage: model.StageComplete}); err != nil {
		t.Fatal(err)
	}
	if out, _, err := runCLI(t, "", "sessions", "revoke", "alice", "--config", config); err != nil || !strings.Contains(out, "ended 1 sessions of alice") {
		t.Fatalf("sessions revoke: %v %s", err, out)
	}
	for _, e := range []model.SignIn{
		{UserID: u.ID, Username: "alice", Site: "files.example.com", Result: model.SignInFailure, Reason: "wrong password"},
		{Username: "unknown:1a2b", Site: "files.example.com", Result: model.SignInFailure, Reason: "unknown user"},
	} {
		if err := st.AppendSignIn(context.Background(), &e); err != nil {
			t.Fatal(err)
		}
	}
	out, _, err := runCLI(t, "", "log", "--config", config)
	if err != nil || !strings.Contains(out, "failure: wrong password") || !strings.Contains(out, "unknown:1a2b") {
		t.Fatalf("log: %v\n%s", err, out)
	}
	out, _, err = runCLI(t, "", "log", "--user", "alice", "--json", "--config", config)
	if err != nil || !strings.Contains(out, `"reason": "wrong password"`) || strings.Contains(out, "unknown:1a2b") {
		t.Fatalf("log --user alice: %v\n%s", err, out)
	}
}

// The FACTORS column reads sensibly: an app password alone, a password
// with its second step.
func TestSignInListFactors(t *testing.T) {
	var out strings.Builder
	err := printSignIns(&out, []model.SignIn{
		{Username: "alice", Client: model.ClientNonBrowser, FirstFactor: "app password", SecondFactor: "not required: app password", Result: model.SignInSuccess},
		{Username: "bob", Client: model.ClientBrowser, FirstFactor: "password", SecondFactor: "code", Result: model.SignInSuccess},
		{Username: "carol", Client: model.ClientBrowser, FirstFactor: "password", SecondFactor: "not required", Result: model.SignInSuccess},
	}, false)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("output:\n%s", out.String())
	}
	for i, want := range []string{"app password  ", "password + code  ", "password only  "} {
		if !strings.Contains(lines[i+1], want) {
			t.Errorf("row %d %q lacks %q", i+1, lines[i+1], want)
		}
	}
	if strings.Contains(out.String(), "not required") {
		t.Errorf("FACTORS still says \"not required\":\n%s", out.String())
	}
}
