package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Secret returns the value stored under name. When absent it calls generate
// (outside any transaction and query timeout), stores the result with
// INSERT … ON CONFLICT DO NOTHING and returns whatever value is stored then:
// an insert that conflicts waits for the concurrent inserter to commit, and
// the following SELECT sees its row, so callers on every node get the value
// of the first insert.
func (s *Store) Secret(ctx context.Context, name string, generate func() ([]byte, error)) ([]byte, error) {
	v, err := s.getSecret(ctx, name)
	if err == nil {
		return v, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return nil, wrap(ctx, "secret", err)
	}
	if generate == nil {
		return nil, fmt.Errorf("postgres: secret %q: missing and no generator", name)
	}
	nv, err := generate()
	if err != nil {
		return nil, fmt.Errorf("postgres: secret %q: generate: %w", name, err)
	}
	qctx, cancel := s.timeout(ctx)
	defer cancel()
	_, err = s.pool.Exec(qctx, "INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
		name, nonNilBlob(nv))
	if err == nil {
		v, err = s.getSecret(qctx, name)
	}
	if err != nil {
		return nil, wrap(qctx, "secret", err)
	}
	return v, nil
}

func (s *Store) getSecret(ctx context.Context, name string) ([]byte, error) {
	ctx, cancel := s.timeout(ctx)
	defer cancel()
	var v []byte
	err := s.pool.QueryRow(ctx, "SELECT value FROM secrets WHERE name = $1", name).Scan(&v)
	if err != nil {
		return nil, err
	}
	return nonNilBlob(v), nil
}
