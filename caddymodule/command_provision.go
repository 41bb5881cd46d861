package caddymodule

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/caddyserver/caddy/v2"
	"github.com/spf13/cobra"

	"github.com/mfagate/mfagate/internal/secrets"
)

// provisionable reports whether the CLI may create s's database before the
// server's first start: only when the config names the file by an
// absolute path, so the CLI and the server cannot be looking at different
// files (a relative path depends on the working directory, the default
// location on the user's data dir).
func provisionable(s *SQLiteStorage) bool {
	configured := caddy.NewReplacer().ReplaceKnown(s.Path, "")
	return configured != "" && filepath.IsAbs(configured)
}

// provisionSQLite creates the SQLite store exactly as the server would
// (schema migrations and the generated keys), in an existing directory,
// and gives the new files the directory's owner: a provisioning step run
// as root (a container entrypoint) must not leave a database the server's
// user cannot open. It says so on stderr.
// missing is the error for the missing file, returned when the directory
// is missing too (its owner would be a guess).
func provisionSQLite(ctx context.Context, cmd *cobra.Command, app *App, s *SQLiteStorage, missing error) error {
	dir := filepath.Dir(s.path)
	fi, err := os.Stat(dir)
	if err != nil || !fi.IsDir() {
		return fmt.Errorf("%w. To create the store before the server's first start, create the directory %s first "+
			"(owned by the server's user)", missing, dir)
	}
	if err := app.validate(); err != nil {
		return fmt.Errorf("mfa: %w", err)
	}
	st, err := openBounded(ctx, s, caddy.Log())
	if err != nil {
		return fmt.Errorf("mfa storage: %w", err)
	}
	_, kerr := secrets.LoadKeys(ctx, st, app.keys)
	if err := errors.Join(kerr, st.Close()); err != nil {
		return fmt.Errorf("mfa: creating the store: %w", err)
	}
	owner, err := chownLikeDir(s.path, fi)
	if err != nil {
		return fmt.Errorf("mfa storage: created %s but could not give it the owner of %s: %w", s.path, dir, err)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "mfa: created sqlite store %s (schema and keys, as the server would; owner %s like its directory)\n", s.path, owner)
	return nil
}

// chownLikeDir gives the database file and its companions the owner of
// their directory and returns it as "uid:gid".
func chownLikeDir(path string, dir os.FileInfo) (string, error) {
	st, ok := dir.Sys().(*syscall.Stat_t)
	if !ok {
		return "unchanged", nil
	}
	uid, gid := int(st.Uid), int(st.Gid)
	for _, suffix := range companionSuffixes {
		err := os.Lchown(path+suffix, uid, gid)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
	}
	return fmt.Sprintf("%d:%d", uid, gid), nil
}

// companionSuffixes name the files SQLite keeps beside the database.
var companionSuffixes = [...]string{"", "-wal", "-shm", "-journal"}
