// Package caddymodule is the Caddy glue of mfagate: the `mfa` app (global
// options: storage, keys, issuer), the `mfa_gateway` HTTP handler, their
// Caddyfile syntax, and the `caddy mfa` subcommands. The work itself is
// done by the domain packages.
package caddymodule

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/mfagate/mfagate/internal/bruteforce"
	"github.com/mfagate/mfagate/internal/factor/password"
	"github.com/mfagate/mfagate/internal/secrets"
	"github.com/mfagate/mfagate/internal/session"
)

func init() {
	caddy.RegisterModule(App{})
}

// App is the `mfa` app: it owns the database and the keys, shared by every
// site that uses the mfa_gateway handler.
type App struct {
	// Where users, factors and sessions are kept. Default: SQLite at
	// <caddy data dir>/mfagate/mfagate.db.
	Storage *StorageConfig `json:"storage,omitempty"`

	// Organisation name shown on the sign-in pages and in authenticator
	// apps. Default: "mfagate".
	Issuer string `json:"issuer,omitempty"`

	// Keys for cookies and factor secrets. Any key left out is generated
	// once and kept in the store.
	Keys *KeysConfig `json:"keys,omitempty"`

	// bcrypt cost for new password hashes (10-31). Default: 12.
	BcryptCost int `json:"bcrypt_cost,omitempty"`

	// Share of all CPU cores that password checks (login form, uncached
	// basic auth) may use over time, above a burst allowance; attempts
	// beyond it are answered 503 so a guessing storm cannot starve
	// signed-in users. 0 < share <= 1. Default: 0.33.
	SignInCPUShare float64 `json:"sign_in_cpu_share,omitempty"`

	// A session unused for this long ends. Default: 1h.
	SessionIdleTimeout caddy.Duration `json:"session_idle_timeout,omitempty"`

	// A session ends this long after sign-in, however active. Default: 24h.
	SessionLifetime caddy.Duration `json:"session_lifetime,omitempty"`

	// Brute-force limits shared by every way of signing in.
	Lockout *LockoutConfig `json:"lockout,omitempty"`

	services *services
	poolKey  string
	logger   *zap.Logger
	stop     chan struct{}
}

// KeysConfig holds base64-encoded keys; placeholders like {env.X} are
// expanded, so keys can stay out of the config file.
type KeysConfig struct {
	// HMAC key for session cookies, 64 bytes.
	SessionHash string `json:"session_hash,omitempty"`
	// AES-256 key for session cookies, 32 bytes.
	SessionBlock string `json:"session_block,omitempty"`
	// AES-256-GCM key sealing authenticator secrets at rest, 32 bytes.
	// Changing it makes enrolled authenticators unusable.
	Factor string `json:"factor,omitempty"`
	// HMAC key for app-password lookup tags, 32 bytes. Changing it makes
	// existing app passwords unusable.
	AppPasswordTag string `json:"app_password_tag,omitempty"`
}

// LockoutConfig sets brute-force limits.
type LockoutConfig struct {
	// Failures per account within Window before it is locked. Default: 10.
	AccountLimit int `json:"account_limit,omitempty"`
	// Failures per client IP within Window before it is refused. Default: 50.
	IPLimit int `json:"ip_limit,omitempty"`
	// Counting window. Default: 15m.
	Window caddy.Duration `json:"window,omitempty"`
	// How long a lock lasts. Default: 15m.
	Duration caddy.Duration `json:"duration,omitempty"`
}

// CaddyModule returns the Caddy module information.
func (App) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "mfa",
		New: func() caddy.Module { return new(App) },
	}
}

// Provision opens the (shared) store and builds the services.
func (a *App) Provision(ctx caddy.Context) error {
	a.logger = ctx.Logger()
	a.setDefaults()
	// Before the store is opened: a key whose placeholder is unset must
	// not be replaced by one generated and kept in the store.
	if err := a.Keys.check(); err != nil {
		return fmt.Errorf("mfa: %w", err)
	}
	st, key, err := a.Storage.acquire(a.logger)
	if err != nil {
		return fmt.Errorf("mfa storage: %w", err)
	}
	a.poolKey = key
	a.services, err = newServices(ctx, a, st, a.logger)
	if err != nil {
		return fmt.Errorf("mfa: %w", err)
	}
	return nil
}

func (a *App) setDefaults() {
	if a.Storage == nil {
		a.Storage = new(StorageConfig)
	}
	if a.Issuer == "" {
		a.Issuer = "mfagate"
	}
	if a.Keys == nil {
		a.Keys = new(KeysConfig)
	}
	if a.BcryptCost == 0 {
		a.BcryptCost = password.DefaultCost
	}
	if a.SessionIdleTimeout == 0 {
		a.SessionIdleTimeout = caddy.Duration(session.DefaultIdleTimeout)
	}
	if a.SessionLifetime == 0 {
		a.SessionLifetime = caddy.Duration(session.DefaultLifetime)
	}
	if a.Lockout == nil {
		a.Lockout = new(LockoutConfig)
	}
}

// Validate checks the settings that Provision does not.
func (a *App) Validate() error {
	if a.SignInCPUShare < 0 || a.SignInCPUShare > 1 {
		return fmt.Errorf("mfa: sign_in_cpu_share must be above 0 and at most 1, got %g", a.SignInCPUShare)
	}
	if a.SessionIdleTimeout < 0 || a.SessionLifetime < 0 {
		return errors.New("mfa: session timeouts must be positive")
	}
	if a.SessionIdleTimeout > a.SessionLifetime {
		return fmt.Errorf("mfa: session_idle_timeout (%s) is longer than session_lifetime (%s)",
			time.Duration(a.SessionIdleTimeout), time.Duration(a.SessionLifetime))
	}
	return nil
}

// Start creates the first admin on an empty store and starts the sweeper.
func (a *App) Start() error {
	pw, err := a.services.Users.Bootstrap(context.Background())
	if err != nil {
		return fmt.Errorf("mfa: %w", err)
	}
	if pw != "" {
		a.logger.Warn("created the first admin user; sign in and enrol an authenticator, then change this password with `caddy mfa user passwd admin`",
			zap.String("username", "admin"), zap.String("password", pw))
	}
	a.stop = make(chan struct{})
	go a.sweep(a.stop)
	return nil
}

// Stop ends the sweeper.
func (a *App) Stop() error {
	if a.stop != nil {
		close(a.stop)
		a.stop = nil
	}
	return nil
}

// Cleanup releases this config's hold on the shared store.
func (a *App) Cleanup() error {
	if a.poolKey == "" {
		return nil
	}
	_, err := storagePool.Delete(a.poolKey)
	return err
}

// sweepEvery is how often expired sessions are removed from the store.
const sweepEvery = 10 * time.Minute

// sweep deletes sessions past their lifetime or idle timeout.
func (a *App) sweep(stop <-chan struct{}) {
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			created := now.Add(-time.Duration(a.SessionLifetime))
			seen := now.Add(-time.Duration(a.SessionIdleTimeout))
			if _, err := a.services.Store.DeleteStaleSessions(context.Background(), created, seen); err != nil {
				a.logger.Error("sweeping sessions", zap.Error(err))
			}
		}
	}
}

// expandSet expands the placeholders of a configured value. A value that is
// set but expands to nothing (say {env.X} with X unset) is an error naming
// the option: treating it as "not set" would silently fall back to a
// default (a generated key, the default database) instead of what the
// operator configured. fallback completes "set the variable or ...".
func expandSet(option, raw, fallback string) (string, error) {
	v := caddy.NewReplacer().ReplaceKnown(raw, "")
	if raw != "" && v == "" {
		return "", fmt.Errorf("%s is set to %q, which is empty: set the variable or %s", option, raw, fallback)
	}
	return v, nil
}

// check fails if a configured key expands to nothing.
func (k *KeysConfig) check() error {
	for _, o := range []struct{ option, raw string }{
		{"session_hash", k.SessionHash},
		{"session_block", k.SessionBlock},
		{"factor", k.Factor},
		{"app_password_tag", k.AppPasswordTag},
	} {
		if _, err := expandSet("keys "+o.option, o.raw, "remove the option to have a key generated and kept in the store"); err != nil {
			return err
		}
	}
	return nil
}

// configured expands the keys; Provision has checked them with check.
func (k *KeysConfig) configured() secrets.Configured {
	repl := caddy.NewReplacer()
	return secrets.Configured{
		SessionHash:    repl.ReplaceKnown(k.SessionHash, ""),
		SessionBlock:   repl.ReplaceKnown(k.SessionBlock, ""),
		Factor:         repl.ReplaceKnown(k.Factor, ""),
		AppPasswordTag: repl.ReplaceKnown(k.AppPasswordTag, ""),
	}
}

func (l *LockoutConfig) config() bruteforce.Config {
	return bruteforce.Config{
		AccountLimit: l.AccountLimit,
		IPLimit:      l.IPLimit,
		Window:       time.Duration(l.Window),
		Lockout:      time.Duration(l.Duration),
	}
}

// Interface guards
var (
	_ caddy.App          = (*App)(nil)
	_ caddy.Provisioner  = (*App)(nil)
	_ caddy.Validator    = (*App)(nil)
	_ caddy.CleanerUpper = (*App)(nil)
)
