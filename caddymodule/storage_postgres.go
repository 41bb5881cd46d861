package caddymodule

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"go.uber.org/zap"

	"github.com/mfagate/mfagate/internal/store"
	"github.com/mfagate/mfagate/internal/store/postgres"
)

func init() {
	caddy.RegisterModule(PostgresStorage{})
}

// PostgresStorage keeps users, factors and sessions in a PostgreSQL
// database, which several Caddy nodes may share.
type PostgresStorage struct {
	// Connection string (URL or key=value form), e.g.
	// {env.MFA_DATABASE_URL}. Required. Placeholders are expanded.
	DSN string `json:"dsn,omitempty"`

	// Most connections the pool opens. Default: 10.
	MaxConns int32 `json:"max_conns,omitempty"`

	// Bound on each query. Default: 5s.
	QueryTimeout caddy.Duration `json:"query_timeout,omitempty"`

	// Bound on establishing one connection. Default: 5s.
	ConnectTimeout caddy.Duration `json:"connect_timeout,omitempty"`

	// dsn is DSN expanded.
	dsn string
}

// CaddyModule returns the Caddy module information.
func (PostgresStorage) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "mfa.storage.postgres",
		New: func() caddy.Module { return new(PostgresStorage) },
	}
}

// Provision expands the DSN and sets the defaults, so that the pool key
// shows the values in force (an option left out and the same value
// written out share a pool).
func (p *PostgresStorage) Provision(caddy.Context) error {
	dsn, err := expandSet("postgres dsn", p.DSN, "give the connection string in the config")
	if err != nil {
		return err
	}
	p.dsn = dsn
	if p.MaxConns == 0 {
		p.MaxConns = postgres.DefaultMaxConns
	}
	if p.QueryTimeout == 0 {
		p.QueryTimeout = caddy.Duration(postgres.DefaultQueryTimeout)
	}
	if p.ConnectTimeout == 0 {
		p.ConnectTimeout = caddy.Duration(postgres.DefaultConnectTimeout)
	}
	return nil
}

// Validate checks the options.
func (p *PostgresStorage) Validate() error {
	if p.dsn == "" {
		return fmt.Errorf("storage postgres: a connection string (dsn) is required")
	}
	if p.MaxConns < 0 {
		return fmt.Errorf("storage postgres: max_conns must be positive, got %d", p.MaxConns)
	}
	if p.QueryTimeout < 0 || p.ConnectTimeout < 0 {
		return fmt.Errorf("storage postgres: query_timeout and connect_timeout must be positive")
	}
	return nil
}

func (p *PostgresStorage) options() postgres.Options {
	return postgres.Options{
		MaxConns:       p.MaxConns,
		QueryTimeout:   time.Duration(p.QueryTimeout),
		ConnectTimeout: time.Duration(p.ConnectTimeout),
	}
}

// poolKey covers every option: a reload that changes one opens a new pool
// with it, and the old pool closes once no config uses it.
func (p *PostgresStorage) poolKey() string {
	o := p.options()
	return fmt.Sprintf("postgres:max_conns=%d,query_timeout=%s,connect_timeout=%s:%s",
		o.MaxConns, o.QueryTimeout, o.ConnectTimeout, p.dsn)
}

func (p *PostgresStorage) open(ctx context.Context, _ *zap.Logger) (store.Store, error) {
	st, err := postgres.Open(ctx, p.dsn, p.options())
	if err != nil {
		// The DSN may hold a password: never echo it.
		return nil, fmt.Errorf("opening postgres database: %w", err)
	}
	return st, nil
}

// describe never shows the DSN, which may hold a password.
func (p *PostgresStorage) describe(configFile string) string {
	return "postgres store from the dsn in " + configFile
}

// UnmarshalCaddyfile reads (after `storage`):
//
//	postgres <dsn> [{
//	    max_conns       <n>
//	    query_timeout   <duration>
//	    connect_timeout <duration>
//	}]
func (p *PostgresStorage) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // backend name
	if !d.NextArg() {
		return d.Errf("storage postgres: a connection string is required, e.g. {env.MFA_DATABASE_URL}")
	}
	p.DSN = d.Val()
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		var err error
		switch d.Val() {
		case "max_conns":
			var n int
			n, err = intArg(d)
			if err == nil && n > math.MaxInt32 {
				err = d.Errf("max_conns: %d is too large", n)
			}
			p.MaxConns = int32(n)
		case "query_timeout":
			p.QueryTimeout, err = durationArg(d)
		case "connect_timeout":
			p.ConnectTimeout, err = durationArg(d)
		default:
			return d.Errf("unknown storage postgres option %q (want max_conns, query_timeout or connect_timeout)", d.Val())
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Interface guards
var (
	_ Storage               = (*PostgresStorage)(nil)
	_ caddy.Provisioner     = (*PostgresStorage)(nil)
	_ caddy.Validator       = (*PostgresStorage)(nil)
	_ caddyfile.Unmarshaler = (*PostgresStorage)(nil)
)
