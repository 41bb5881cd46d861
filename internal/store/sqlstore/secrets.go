package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Secret returns the value stored under name. When absent it calls generate
// (outside any transaction and query timeout), stores the result with
// INSERT … ON CONFLICT DO NOTHING and returns whatever value is stored then:
// a conflicting insert waits for the concurrent inserter, and the following
// SELECT sees its row, so callers on every node get the first value.
func (s *Store) Secret(ctx context.Context, name string, generate func() ([]byte, error)) ([]byte, error) {
	v, err := s.secret(ctx, s.r, name)
	if err == nil {
		return v, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, s.wrap(ctx, "secret", err)
	}
	if generate == nil {
		return nil, fmt.Errorf("%s: secret %q: missing and no generator", s.d.Name, name)
	}
	nv, err := generate()
	if err != nil {
		return nil, fmt.Errorf("%s: secret %q: generate: %w", s.d.Name, name, err)
	}
	qctx, cancel := s.timeout(ctx)
	defer cancel()
	_, err = s.exec(qctx, s.w, "INSERT INTO secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", name, nonNilBlob(nv))
	if err == nil {
		v, err = s.secret(qctx, s.w, name)
	}
	if err != nil {
		return nil, s.wrap(qctx, "secret", err)
	}
	return v, nil
}

func (s *Store) secret(ctx context.Context, x db, name string) ([]byte, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	var v []byte
	if err := s.row(ctx, x, "SELECT value FROM secrets WHERE name = ?", name).Scan(&v); err != nil {
		return nil, err
	}
	return nonNilBlob(v), nil
}
