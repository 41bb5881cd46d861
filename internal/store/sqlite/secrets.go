package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Secret returns the value stored under name. When absent it calls generate
// (outside any transaction), stores the result with INSERT OR IGNORE and
// returns whatever value is stored then, so concurrent callers on any node
// all get the value of the first insert.
func (s *Store) Secret(ctx context.Context, name string, generate func() ([]byte, error)) ([]byte, error) {
	var v []byte
	err := s.rdb.QueryRowContext(ctx, "SELECT value FROM secrets WHERE name = ?", name).Scan(&v)
	if err == nil {
		return v, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, wrap(ctx, "secret", err)
	}
	if generate == nil {
		return nil, fmt.Errorf("sqlite: secret %q: missing and no generator", name)
	}
	nv, err := generate()
	if err != nil {
		return nil, fmt.Errorf("sqlite: secret %q: generate: %w", name, err)
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "INSERT OR IGNORE INTO secrets (name, value) VALUES (?, ?)", name, nonNilBlob(nv)); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, "SELECT value FROM secrets WHERE name = ?", name).Scan(&v)
	})
	if err != nil {
		return nil, wrap(ctx, "secret", err)
	}
	return v, nil
}
