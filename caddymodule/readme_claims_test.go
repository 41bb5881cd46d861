package caddymodule

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// readmeSection returns the README's section under heading (up to the
// next "## "), its lines joined into one.
func readmeSection(t *testing.T, heading string) string {
	t.Helper()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	start := strings.Index(text, "\n"+heading+"\n")
	if start < 0 {
		t.Fatalf("README has no %q section", heading)
	}
	section := text[start+len(heading)+2:]
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	return strings.Join(strings.Fields(section), " ")
}

// The README's Admin center section does not send admins to the CLI for
// what the admin center does: reset a password and add a user (shown by
// internal/admin's TestResetPasswordShowsTheTemporaryPasswordOnce and
// TestAddUserWithTemporaryPassword). It used to say both were "not in the
// admin center yet".
func TestReadmeAdminCenterResetsPasswordsAndAddsUsers(t *testing.T) {
	section := readmeSection(t, "## Admin center")
	if m := regexp.MustCompile(`(?i)[^.]*not in the admin center[^.]*\.`).FindString(section); m != "" {
		t.Errorf("README says something is missing from the admin center:%s", m)
	}
	for _, want := range []string{"**reset password**", "**Add user**"} {
		if !strings.Contains(section, want) {
			t.Errorf("README's Admin center section does not list %s", want)
		}
	}
}

// The Users section says the CLI prints Caddy's log lines only with
// --verbose, a flag every mfa command has.
func TestReadmeUsersMentionsVerbose(t *testing.T) {
	if section := readmeSection(t, "## Users"); !strings.Contains(section, "log lines") || !strings.Contains(section, "only with `--verbose`") {
		t.Errorf("README's Users section does not say Caddy's log lines appear only with --verbose:\n%s", section)
	}
	root := &cobra.Command{Use: "mfa"}
	buildMFACommand(root)
	if root.PersistentFlags().Lookup("verbose") == nil {
		t.Error("caddy mfa has no --verbose flag")
	}
}
