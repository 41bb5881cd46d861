package caddymodule

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mfagate/mfagate/internal/store/sqlite"
)

// reset-password says how long the temporary password works in words
// ("valid 24 hours"), not as a Go duration ("24h0m0s").
func TestCLIResetPasswordSaysTheValidityInWords(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "mfagate.db")
	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	config := writeConfig(t, dir, "\t\tstorage sqlite "+db+"\n\t\tbcrypt_cost 10")
	if _, _, err := runCLI(t, strongPassword+"\n", "user", "add", "alice", "--password-stdin", "--config", config); err != nil {
		t.Fatalf("add: %v", err)
	}
	stdout, _, err := runCLI(t, "", "user", "reset-password", "alice", "--config", config)
	if err != nil || !strings.Contains(stdout, "(valid 24 hours, shown once)") || strings.Contains(stdout, "24h0m0s") {
		t.Fatalf("reset-password: %v\n%s", err, stdout)
	}
}
