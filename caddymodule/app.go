// Package caddymodule is the Caddy glue of mfagate: the `mfa` app (global
// options: storage, keys, issuer), the `mfa_gateway` HTTP handler, their
// Caddyfile syntax, and the `caddy mfa` subcommands. The work itself is
// done by the domain packages.
package caddymodule

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"
	"golang.org/x/crypto/bcrypt"

	"github.com/mfagate/mfagate/internal/bruteforce"
	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/factor/password"
	"github.com/mfagate/mfagate/internal/secrets"
	"github.com/mfagate/mfagate/internal/session"
	"github.com/mfagate/mfagate/internal/wiring"
)

func init() {
	caddy.RegisterModule(App{})
}

// App is the `mfa` app: it owns the database and the keys, shared by every
// site that uses the mfa_gateway handler.
type App struct {
	// Where users, factors and sessions are kept: a module of the
	// mfa.storage namespace named by "type", "sqlite" (the default, also
	// when "type" or the whole object is left out) or "postgres". Default:
	// SQLite at <caddy data dir>/mfagate/mfagate.db.
	StorageRaw json.RawMessage `json:"storage,omitempty" caddy:"namespace=mfa.storage inline_key=type"`

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

	// Lowest zxcvbn strength score (0-4) of a password people choose:
	// on Security info, or given to `caddy mfa user add` and `passwd`.
	// Such a password also has 8 to 72 bytes, and the username and
	// issuer count as easy to guess. Existing passwords keep working;
	// generated ones (the first admin's, app passwords) are not judged.
	// 0 leaves the length rule only. Default: 3.
	MinPasswordScore *int `json:"min_password_score,omitempty"`

	// A session unused for this long ends. Default: 1h.
	SessionIdleTimeout caddy.Duration `json:"session_idle_timeout,omitempty"`

	// A session ends this long after sign-in, however active. Default: 24h.
	SessionLifetime caddy.Duration `json:"session_lifetime,omitempty"`

	// Brute-force limits shared by every way of signing in.
	Lockout *LockoutConfig `json:"lockout,omitempty"`

	// The portal origin: a site that serves nothing but mfagate's own
	// pages (phone pairing and sign-in approval), e.g.
	// "https://mfa.example.com", whose site block holds the mfa_portal
	// directive. Phones reach it even when the protected sites are
	// internal, and no upstream's script can reach a phone's key. Without
	// it, phones cannot be paired. https, or http on localhost.
	Portal string `json:"portal,omitempty"`

	// How long a sign-in request waits for the phone's answer. Default:
	// 60s; at most 5m.
	PushTimeout caddy.Duration `json:"push_timeout,omitempty"`

	// Digits of the number a sign-in request shows and the phone's user
	// types (number matching), 2 to 8. With 6 or more, approving on the
	// phone meets NIST SP 800-63B-4's out-of-band rule (the user
	// transfers a secret of at least six digits from the sign-in screen
	// to the phone). Default: 2, as Microsoft Entra's.
	PushNumberDigits int `json:"push_number_digits,omitempty"`

	// Push services the phones' subscriptions may point to: host names,
	// "*.example.com" for every subdomain. The gateway sends only there,
	// so a client cannot make it post to internal hosts. Default: the
	// push services of Chrome, Firefox, Safari and Edge.
	PushHosts []string `json:"push_hosts,omitempty"`

	// Contact the push services may use about abuse (VAPID "sub"): a
	// mailto: address or an https URL. Default: mailto:admin@ + the portal
	// host.
	PushContact string `json:"push_contact,omitempty"`

	// Members of this group (unblocked, with a second factor) use the
	// admin center on the portal origin; the first admin is created in
	// it. Default: "admins".
	AdminGroup string `json:"admin_group,omitempty"`

	// How long the sign-in log keeps its rows; older ones are deleted in
	// the background in small batches. Default: 90 days (2160h).
	SignInLogRetention caddy.Duration `json:"sign_in_log_retention,omitempty"`

	// Passkeys and security keys (WebAuthn).
	WebAuthn *WebAuthnConfig `json:"webauthn,omitempty"`

	storage  Storage
	rpID     string             // the effective WebAuthn RP ID, set by validate
	keys     secrets.Configured // Keys expanded and checked by validate
	push     wiring.PushOptions // push options checked by validate
	services *services
	poolKey  string
	logger   *zap.Logger
	ctx      context.Context // the config's caddy.Context: done when it unloads

	stopSweep context.CancelFunc
	swept     chan struct{} // closed when the sweeper has returned
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
	// VAPID key pair for Web Push (base64url, P-256), both or neither.
	// Changing them makes phones subscribe again.
	VAPIDPrivate string `json:"vapid_private,omitempty"`
	VAPIDPublic  string `json:"vapid_public,omitempty"`
}

// LockoutConfig sets brute-force limits.
type LockoutConfig struct {
	// Failures per account within Window before it is locked. Default: 10.
	// Basic auth where only app passwords pass has a counter of its own
	// with the same limit, which refuses basic auth alone; a repeat of a
	// recent wrong secret is not counted again.
	AccountLimit int `json:"account_limit,omitempty"`
	// Failures per client IP within Window before it is refused. Default: 50.
	IPLimit int `json:"ip_limit,omitempty"`
	// Counting window. Default: 15m.
	Window caddy.Duration `json:"window,omitempty"`
	// How long a lock lasts. Default: 15m.
	Duration caddy.Duration `json:"duration,omitempty"`
	// Failed sign-ins in a row, across any number of windows and locks,
	// after which the account is blocked until an admin unblocks it (NIST
	// SP 800-63B-4: no more than 100 consecutive failures per account).
	// Every way in counts (password, code, phone number, passkey,
	// recovery code, access pass, basic auth); only a successful sign-in
	// of the account starts the count anew. 10 to 100; it cannot be
	// turned off. Default: 100.
	ConsecutiveLimit int `json:"consecutive_limit,omitempty"`
}

// CaddyModule returns the Caddy module information.
func (App) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "mfa",
		New: func() caddy.Module { return new(App) },
	}
}

// Provision checks the options, then opens the (shared) store and builds
// the services.
func (a *App) Provision(ctx caddy.Context) error {
	a.logger = ctx.Logger()
	a.ctx = ctx
	a.setDefaults()
	// Before the store is opened: a key whose placeholder is unset must
	// not be replaced by one generated and kept in the store, and a bad
	// option must not leave a database created behind it.
	if err := a.validate(); err != nil {
		return fmt.Errorf("mfa: %w", err)
	}
	if err := a.loadStorage(ctx); err != nil {
		return fmt.Errorf("mfa: %w", err)
	}
	st, events, err := acquire(ctx, a.storage, a.logger)
	if err != nil {
		return fmt.Errorf("mfa storage: %w", err)
	}
	a.poolKey = a.storage.poolKey()
	// Loading the generated keys queries the store.
	wctx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	svc, err := wiring.New(wctx, st, a.wiringOptions(events, a.logger))
	if err != nil {
		return fmt.Errorf("mfa: %w", err)
	}
	a.services = &services{svc}
	return nil
}

func (a *App) setDefaults() {
	if a.Issuer == "" {
		a.Issuer = "mfagate"
	}
	if a.Keys == nil {
		a.Keys = new(KeysConfig)
	}
	if a.BcryptCost == 0 {
		a.BcryptCost = password.DefaultCost
	}
	if a.SignInCPUShare == 0 {
		a.SignInCPUShare = password.DefaultCPUShare
	}
	if a.MinPasswordScore == nil {
		score := password.DefaultMinScore
		a.MinPasswordScore = &score
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
	if a.Lockout.ConsecutiveLimit == 0 {
		a.Lockout.ConsecutiveLimit = bruteforce.DefaultConsecutiveLimit
	}
	if a.AdminGroup == "" {
		a.AdminGroup = core.AdminGroup
	}
	if a.WebAuthn == nil {
		a.WebAuthn = new(WebAuthnConfig)
	}
	if a.PushNumberDigits == 0 {
		a.PushNumberDigits = core.DefaultNumberDigits
	}
}

// validate checks every option of the app (the storage module checks its
// own), naming each as the config spells it. Provision calls it before
// anything is opened; Caddy would only call Validate after Provision.
func (a *App) validate() error {
	keys, err := a.Keys.check()
	if err != nil {
		return err
	}
	a.keys = keys
	if a.BcryptCost < password.MinCost || a.BcryptCost > bcrypt.MaxCost {
		return fmt.Errorf("bcrypt_cost must be between %d and %d, got %d", password.MinCost, bcrypt.MaxCost, a.BcryptCost)
	}
	if !(a.SignInCPUShare > 0 && a.SignInCPUShare <= 1) { // also refuses NaN
		return fmt.Errorf("sign_in_cpu_share must be above 0 and at most 1, got %g", a.SignInCPUShare)
	}
	if err := a.passwordPolicy().Validate(); err != nil {
		return fmt.Errorf("min_password_score must be between 0 and %d, got %d", password.MaxScore, *a.MinPasswordScore)
	}
	if a.SessionIdleTimeout < 0 || a.SessionLifetime < 0 {
		return errors.New("session_idle_timeout and session_lifetime must be positive")
	}
	if a.SessionIdleTimeout > a.SessionLifetime {
		return fmt.Errorf("session_idle_timeout (%s) is longer than session_lifetime (%s)",
			time.Duration(a.SessionIdleTimeout), time.Duration(a.SessionLifetime))
	}
	if a.SignInLogRetention < 0 || (a.SignInLogRetention > 0 && time.Duration(a.SignInLogRetention) < time.Hour) {
		return fmt.Errorf("sign_in_log_retention must be at least 1h, got %s", time.Duration(a.SignInLogRetention))
	}
	if n := a.Lockout.ConsecutiveLimit; n < bruteforce.MinConsecutiveLimit || n > bruteforce.MaxConsecutiveLimit {
		return fmt.Errorf("lockout consecutive_limit must be between %d and %d (NIST SP 800-63B-4 allows no more than %d failed sign-ins in a row, and the cap cannot be turned off), got %d",
			bruteforce.MinConsecutiveLimit, bruteforce.MaxConsecutiveLimit, bruteforce.MaxConsecutiveLimit, n)
	}
	if g, err := core.NormalizeGroups([]string{a.AdminGroup}); err != nil || len(g) != 1 || g[0] != a.AdminGroup {
		return fmt.Errorf("admin_group %q must be a group name without commas, control or formatting characters, or surrounding spaces", a.AdminGroup)
	}
	if a.push, err = a.pushOptions(); err != nil {
		return err
	}
	a.rpID, err = a.WebAuthn.rpID(a.push.Portal)
	return err
}

// passwordPolicy is the rule for chosen passwords (after setDefaults).
func (a *App) passwordPolicy() password.Policy {
	return password.Policy{MinScore: *a.MinPasswordScore}
}

// bootstrapMessage is logged with the first admin's generated password. It
// names the page a person changes it on, not a command line: the quick
// start's reader is in the browser by then.
const bootstrapMessage = "created the first admin user; sign in as admin and enrol an authenticator, then change this password on Security info → Change password"

// msgSecurityInfoOnSites is logged once per config load without a portal.
const msgSecurityInfoOnSites = "no portal is configured, so Security info is served on each protected site's origin, " +
	"where that site's scripts (the upstream app, or an XSS in it) can drive it: create app passwords, add sign-in methods, read their secrets; " +
	"set `portal https://mfa.example.com` in the global mfa block and serve mfa_portal there to move it out of their reach"

// bootstrapTimeout bounds creating the first admin at start.
const bootstrapTimeout = time.Minute

// Start creates the first admin on an empty store and starts the sweeper.
func (a *App) Start() error {
	bctx, cancel := context.WithTimeout(a.ctx, bootstrapTimeout)
	pw, err := a.services.Core.Accounts.Bootstrap(bctx)
	cancel()
	if err != nil {
		return fmt.Errorf("mfa: %w", err)
	}
	if pw != "" {
		a.logger.Warn(bootstrapMessage,
			zap.String("username", "admin"), zap.String("password", pw))
	}
	if a.Portal == "" {
		a.logger.Warn(msgSecurityInfoOnSites)
	}
	a.logRPID()
	a.logNumberDigits()
	sctx, stop := context.WithCancel(a.ctx)
	a.stopSweep, a.swept = stop, make(chan struct{})
	go func(done chan<- struct{}) {
		defer close(done)
		a.sweep(sctx)
	}(a.swept)
	return nil
}

// Stop ends the sweeper and waits for it.
func (a *App) Stop() error {
	a.endSweeper()
	return nil
}

// endSweeper stops the sweeper, if running, and waits until it has
// returned, so it never uses a store that is about to be closed.
func (a *App) endSweeper() {
	if a.stopSweep != nil {
		a.stopSweep()
		<-a.swept
	}
}

// Cleanup ends the sweeper (Stop may not have run: a config that failed to
// start) and releases this config's hold on the shared store.
func (a *App) Cleanup() error {
	a.endSweeper()
	if a.services != nil {
		ctx, cancel := context.WithTimeout(context.Background(), pushDrainTimeout)
		err := a.services.Close(ctx)
		cancel()
		if err != nil {
			a.logger.Warn("stopping push delivery", zap.Error(err))
		}
	}
	if a.poolKey == "" {
		return nil
	}
	_, err := storagePool.Delete(a.poolKey)
	a.poolKey = ""
	return err
}

// pushDrainTimeout bounds sending queued push messages when a config
// unloads.
const pushDrainTimeout = 5 * time.Second

// sweepEvery is how often expired sessions are removed from the store.
const sweepEvery = 10 * time.Minute

// sweepTimeout bounds one sweep, so a stuck database cannot pile them up.
const sweepTimeout = time.Minute

// sweep deletes sessions past their lifetime or idle timeout until ctx is
// done.
func (a *App) sweep(ctx context.Context) {
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			sctx, cancel := context.WithTimeout(ctx, sweepTimeout)
			_, err := a.services.Sessions.Sweep(sctx, now)
			err = errors.Join(err, a.services.Core.Approvals.Sweep(sctx))
			err = errors.Join(err, a.services.Core.SignInLog.Sweep(sctx))
			cancel()
			if err != nil && ctx.Err() == nil {
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

// check expands the configured keys and checks each: a placeholder that
// expands to nothing, text that is not base64 or a key of the wrong size
// is an error naming the option.
func (k *KeysConfig) check() (secrets.Configured, error) {
	var out secrets.Configured
	for _, o := range []struct {
		option string
		raw    string
		size   int
		dst    *string
	}{
		{"session_hash", k.SessionHash, 64, &out.SessionHash},
		{"session_block", k.SessionBlock, 32, &out.SessionBlock},
		{"factor", k.Factor, 32, &out.Factor},
		{"app_password_tag", k.AppPasswordTag, 32, &out.AppPasswordTag},
	} {
		option := "keys " + o.option
		v, err := expandSet(option, o.raw, "remove the option to have a key generated and kept in the store")
		if err != nil {
			return secrets.Configured{}, err
		}
		if v == "" {
			continue
		}
		key, err := secrets.DecodeKey(v)
		if err != nil {
			return secrets.Configured{}, fmt.Errorf("%s: %w", option, err)
		}
		if len(key) != o.size {
			return secrets.Configured{}, fmt.Errorf("%s: must decode to %d bytes, got %d", option, o.size, len(key))
		}
		*o.dst = v
	}
	return out, nil
}

func (l *LockoutConfig) config() bruteforce.Config {
	return bruteforce.Config{
		AccountLimit: l.AccountLimit,
		IPLimit:      l.IPLimit,
		Window:       time.Duration(l.Window),
		Lockout:      time.Duration(l.Duration),

		ConsecutiveLimit: l.ConsecutiveLimit,
	}
}

// Interface guards
var (
	_ caddy.App          = (*App)(nil)
	_ caddy.Provisioner  = (*App)(nil)
	_ caddy.CleanerUpper = (*App)(nil)
)
