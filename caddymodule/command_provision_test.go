package caddymodule

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mfagate/mfagate/internal/store/sqlite"
)

// `user add` before the first start creates the store the config names by
// an absolute path, with the keys the server would make, and the server
// then finds the user; a relative path is still refused.
func TestCLIProvisionsAbsoluteSQLitePath(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "mfagate.db")
	config := writeConfig(t, dir, "\t\tstorage sqlite "+db+"\n\t\tbcrypt_cost 10")
	stdout, stderr, err := runCLI(t, "correct horse battery staple\n", "user", "add", "alice", "--password-stdin", "--config", config)
	if err != nil || !strings.Contains(stdout, "added user alice") {
		t.Fatalf("add: %v\n%s", err, stdout)
	}
	if !strings.Contains(stderr, "created sqlite store "+db) {
		t.Errorf("stderr does not say the store was created: %q", stderr)
	}
	fi, err := os.Stat(db)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("database file: %v, mode %v", err, fi.Mode())
	}
	st, err := sqlite.Open(context.Background(), db) // as the server would
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.UserByName(context.Background(), "alice"); err != nil {
		t.Errorf("the server does not see the provisioned user: %v", err)
	}
	for _, name := range []string{"key.session.hash", "key.factor", "key.apppassword.tag"} {
		created := false
		if _, err := st.Secret(context.Background(), name, func() ([]byte, error) { created = true; return []byte("x"), nil }); err != nil || created {
			t.Errorf("key %s was not made at provisioning (created now: %v, %v)", name, created, err)
		}
	}

	rel := t.TempDir()
	config = writeConfig(t, rel, "\t\tstorage sqlite relative.db")
	if _, _, err := runCLI(t, "correct horse battery staple\n", "user", "add", "bob", "--password-stdin", "--config", config); err == nil {
		t.Fatal("a relative path was provisioned")
	}
}
