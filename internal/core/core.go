// Package core is the domain core of mfagate: the rules that hold whoever
// calls (browser pages, basic auth, the CLI). It is the only code, with
// the wiring, that reaches the store; every change that spans several rows
// is one store transaction, and every change is audited here.
package core

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/bruteforce"
	"github.com/mfagate/mfagate/internal/factor/password"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/push"
	"github.com/mfagate/mfagate/internal/secrets"
	"github.com/mfagate/mfagate/internal/store"
)

// Core is the domain core one configuration's pages share: the only way
// they read or change accounts, methods, app passwords and sessions.
type Core struct {
	Attempts     *Attempts
	Codes        *Codes
	Methods      *Methods
	AppPasswords *AppPasswords
	Accounts     *Accounts
	Sessions     *Sessions
	Phones       *Phones
	Approvals    *Approvals
	Events       *Events
	SignInLog    *SignInLog
	Audit        *audit.Log
	Admin        *Admin
	Passkeys     *Passkeys
	// RecoveryCodes are users' saved recovery codes; RecoveryNotices
	// announce every recovery to its user.
	RecoveryCodes   *RecoveryCodes
	RecoveryNotices *RecoveryNotices
	// SignIn is the browser sign-in's state machine.
	SignIn *SignIn
}

// Config is what the core needs besides the store.
type Config struct {
	Hasher  *password.Hasher
	Keys    *secrets.Keys
	Lockout bruteforce.Config
	Logger  *zap.Logger // nil: none
	// Events carries changes to caches and waiting browsers; nil: a new
	// one for this node only.
	Events *Events
	// Sender delivers push notifications; nil: none (phones see requests
	// while their app is open).
	Sender Sender
	// PushHosts are the push services subscriptions may point to; empty:
	// push.DefaultHosts().
	PushHosts []string
	// PushResolver, if set, resolves a push subscription's host when it
	// is registered, refusing names that lead where their push_hosts entry
	// may not reach; nil: no lookup at registration.
	PushResolver push.Resolver
	// ApprovalTimeout is how long a sign-in request waits; 0: the default.
	ApprovalTimeout time.Duration
	// ApprovalNumberDigits is how many digits the number a sign-in request
	// shows has, MinNumberDigits to MaxNumberDigits; 0: DefaultNumberDigits.
	ApprovalNumberDigits int
	// SignInLogRetention is how long sign-in log rows are kept; 0: the
	// default.
	SignInLogRetention time.Duration
	// PasswordPolicy judges the passwords people choose; nil:
	// password.DefaultPolicy().
	PasswordPolicy *password.Policy
	// Issuer is the organisation's name, one of the words the policy
	// counts as easy to guess.
	Issuer string
	// AdminGroup is the group whose members use the admin center (and
	// the first admin's); "": AdminGroup.
	AdminGroup string
	// RPID is the WebAuthn relying party ID of passkeys; "": each
	// request's own host.
	RPID string
}

// newServices builds the core's services on st (New adds the sign-in
// built on them).
func newServices(st store.Store, cfg Config) (*Core, error) {
	box, err := secrets.NewBox(cfg.Keys.Factor)
	if err != nil {
		return nil, fmt.Errorf("core: factor key: %w", err)
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	auditLog := audit.New(st, cfg.Logger.Named("audit"))
	// Typed names that are no account are counted and logged as hashes
	// under a key every node derives alike from a shared one.
	limiter := bruteforce.New(st, cfg.Lockout, secrets.Derive(cfg.Keys.AppPasswordTag, "mfagate/unknown-usernames"))
	attempts := &Attempts{store: st, Limiter: limiter, Logger: cfg.Logger.Named("attempts"), audit: auditLog}
	events := cfg.Events
	if events == nil {
		events = NewEvents(nil)
	}
	attempts.events = events
	hosts := cfg.PushHosts
	if len(hosts) == 0 {
		hosts = push.DefaultHosts()
	}
	timeout := cfg.ApprovalTimeout
	if timeout <= 0 {
		timeout = DefaultApprovalTimeout
	}
	digits := cfg.ApprovalNumberDigits
	if digits == 0 {
		digits = DefaultNumberDigits
	}
	if digits < MinNumberDigits || digits > MaxNumberDigits {
		return nil, fmt.Errorf("core: push_number_digits must be between %d and %d, got %d", MinNumberDigits, MaxNumberDigits, digits)
	}
	phones := &Phones{store: st, box: box, codeKey: secrets.Derive(cfg.Keys.Factor, "mfagate/pairing-code"),
		nonceKey:    secrets.Derive(cfg.Keys.Factor, "mfagate/device-nonce"),
		manifestKey: secrets.Derive(cfg.Keys.Factor, "mfagate/pairing-manifest"),
		audit:       auditLog, events: events, pushHosts: hosts, pushResolver: cfg.PushResolver, now: time.Now}
	accounts, err := newAccounts(st, cfg, auditLog, events)
	if err != nil {
		return nil, err
	}
	accounts.attempts = attempts
	codes := &Codes{store: st, Box: box, Attempts: attempts}
	signins := newSignInLog(st, cfg.Logger, cfg.SignInLogRetention)
	passkeys := newPasskeys(st, cfg.RPID, cfg.Issuer, auditLog, events, cfg.Logger)
	passkeys.challengeKey = secrets.Derive(cfg.Keys.Factor, "mfagate/passkey-challenge")
	c := &Core{
		Attempts: attempts,
		Codes:    codes,
		Methods:  &Methods{store: st, Audit: auditLog, events: events, open: codes.Open},
		AppPasswords: &AppPasswords{store: st, Hasher: cfg.Hasher, TagKey: cfg.Keys.AppPasswordTag,
			Audit: auditLog, events: events},
		Accounts: accounts,
		Sessions: &Sessions{store: st, events: events, audit: auditLog},
		Phones:   phones,
		Approvals: &Approvals{store: st, phones: phones, attempts: attempts, audit: auditLog, events: events,
			signins: signins, sender: cfg.Sender, timeout: timeout, digits: digits, now: time.Now},
		Events:    events,
		SignInLog: signins,
		Audit:     auditLog,
		Admin:     accounts.admin,
		Passkeys:  passkeys,
	}
	c.RecoveryCodes = newRecoveryCodes(st, recoveryHasherOf(cfg.Hasher), cfg.Keys.AppPasswordTag, auditLog)
	c.RecoveryNotices = &RecoveryNotices{store: st, phones: phones, sender: cfg.Sender, audit: auditLog,
		logger: cfg.Logger.Named("recovery"), now: time.Now}
	return c, nil
}

// newAccounts builds the account changes of a core on st, with the
// admin center's operations they share (Accounts.admin).
func newAccounts(st store.Store, cfg Config, auditLog *audit.Log, events *Events) (*Accounts, error) {
	policy := password.DefaultPolicy()
	if cfg.PasswordPolicy != nil {
		policy = *cfg.PasswordPolicy
	}
	if err := policy.Validate(); err != nil {
		return nil, fmt.Errorf("core: %w", err)
	}
	accounts := NewAccounts(st, cfg.Hasher).WithPasswordPolicy(policy, cfg.Issuer)
	accounts.events = events
	accounts.audit = auditLog
	accounts.adminGroup = cfg.AdminGroup
	accounts.admin = newAdmin(st, accounts, cfg.Hasher, auditLog, events, cfg.AdminGroup)
	return accounts, nil
}

// NewOperator builds, as New does, the account changes the machine's
// operator makes with `caddy mfa` (no keys, pages or phones: only
// accounts), each audited as made by actor. Its changes are the admin
// center's operations (Admin), and are announced on cfg.Events or, when
// nil, on the store's event channel when it has one (PostgreSQL), so
// running servers drop their caches at once.
func NewOperator(st store.Store, cfg Config, actor Actor) (*Accounts, error) {
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	events := cfg.Events
	if events == nil {
		ch, _ := st.(Channel)
		events = NewEvents(ch)
	}
	accounts, err := newAccounts(st, cfg, audit.New(st, cfg.Logger.Named("audit")), events)
	if err != nil {
		return nil, err
	}
	return accounts.As(actor), nil
}

// Authenticators lists u's authenticator apps, oldest first.
func (m *Methods) Authenticators(ctx context.Context, userID int64) ([]model.TOTPAuthenticator, error) {
	auths, err := m.store.TOTPAuthenticators(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("core: authenticators: %w", err)
	}
	return auths, nil
}

// List lists u's app passwords, oldest first.
func (a *AppPasswords) List(ctx context.Context, userID int64) ([]model.AppPassword, error) {
	aps, err := a.store.AppPasswords(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("core: app passwords: %w", err)
	}
	return aps, nil
}

// ByID returns the account as stored now (model.ErrNotFound when gone).
func (s *Accounts) ByID(ctx context.Context, id int64) (*model.User, error) {
	u, err := s.store.UserByID(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("core: user: %w", err)
	}
	return u, nil
}

func newSignInLog(st store.Store, logger *zap.Logger, retention time.Duration) *SignInLog {
	if retention <= 0 {
		retention = DefaultSignInLogRetention
	}
	return &SignInLog{store: st, logger: logger.Named("signinlog"), retention: retention, now: time.Now,
		basicSeen: map[basicKey]time.Time{}}
}
