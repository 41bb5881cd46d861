package sqlite_test

import (
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store/sqlite"
)

// A database file made beforehand with mode 0644 (by hand, by a copy, under
// a loose umask) is restricted to its owner on open, with its companions,
// and each change is logged with the path and both modes; -wal and -shm
// made after the open are owner-only too.
func TestOpenTightensLooseFileModes(t *testing.T) {
	for _, companions := range [][]string{nil, {"-wal", "-shm", "-journal"}} {
		path := filepath.Join(t.TempDir(), "mfa.db")
		for _, suffix := range append([]string{""}, companions...) {
			if err := os.WriteFile(path+suffix, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path+suffix, 0o644); err != nil { // whatever the umask
				t.Fatal(err)
			}
		}
		core, logs := observer.New(zapcore.WarnLevel)
		s, err := sqlite.OpenWith(t.Context(), path, sqlite.Options{Logger: zap.New(core)})
		if err != nil {
			t.Fatal(err)
		}
		// A write, so the WAL certainly exists.
		if err := s.CreateUser(t.Context(), &model.User{Username: "ann", PasswordHash: "x", MFAState: model.MFAEnabled}); err != nil {
			t.Fatal(err)
		}
		for _, suffix := range []string{"", "-wal", "-shm"} {
			fi, err := os.Stat(path + suffix)
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode().Perm(); got != 0o600 {
				t.Errorf("%s%s mode = %#o, want 0600 (pre-created companions: %v)", path, suffix, got, companions)
			}
		}
		if fi, err := os.Stat(path + "-journal"); err == nil && fi.Mode().Perm() != 0o600 {
			t.Errorf("-journal mode = %#o, want 0600", fi.Mode().Perm())
		}
		s.Close()
		warned := map[string]bool{}
		for _, e := range logs.All() {
			f := e.ContextMap()
			if f["old_mode"] == "0644" && f["new_mode"] == "0600" {
				warned[f["path"].(string)] = true
			}
		}
		for _, suffix := range append([]string{""}, companions...) {
			if !warned[path+suffix] {
				t.Errorf("no warning for %s%s; logged: %v", path, suffix, logs.All())
			}
		}
		if len(warned) != 1+len(companions) {
			t.Errorf("warnings for %v, want one per pre-created file", warned)
		}
	}
}
