package core

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/factor/password"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
)

// ErrInvalidUsername is returned for names outside [a-z0-9._@-]{1,64}.
var ErrInvalidUsername = errors.New("username must be 1-64 characters of a-z, 0-9, '.', '_', '@' or '-'")

// BootstrapUsername is the first admin created on an empty store.
const BootstrapUsername = "admin"

// AdminGroup is the group whose members administer mfagate.
const AdminGroup = "admins"

// NewUser is the input for Add.
type NewUser struct {
	Username    string
	Password    string
	DisplayName string
	Email       string
	Groups      []string
	MFAState    model.MFAState // default enabled
}

// Accounts applies account changes by username, as its Actor (the CLI's
// operator, see NewOperator): creation, passwords, MFA states, blocks,
// method resets, removal, imports, and the first admin on an empty store.
// The changes the admin center makes too are its operations (Admin's
// applyOne), so both make them alike.
type Accounts struct {
	store  store.Store
	hasher *password.Hasher
	audit  *audit.Log
	events *Events
	actor  Actor // who makes the changes, for the audit log
	// admin applies the account changes the CLI and the admin center
	// share (Admin.applyOne), as actor.
	admin *Admin
	// policy judges chosen passwords; issuer is one of the words it
	// counts as easy to guess.
	policy password.Policy
	issuer string
	// attempts puts the current password of ChangeOwnPassword under the
	// brute-force rules (nil outside a server's core).
	attempts *Attempts
	// adminGroup is the first admin's group ("": AdminGroup).
	adminGroup string
}

// NewAccounts returns a Accounts on st for tests and the core's own
// construction (the CLI builds it with NewOperator). Its changes are
// audited in the store only, as made by "admin" until As says who.
// Changes are announced on the store's event channel when it has one
// (PostgreSQL), so running servers drop their caches at once. Chosen
// passwords must pass password.DefaultPolicy until WithPasswordPolicy
// says otherwise.
func NewAccounts(st store.Store, h *password.Hasher) *Accounts {
	ch, _ := st.(Channel)
	s := &Accounts{store: st, hasher: h, audit: audit.New(st, nil), events: NewEvents(ch), actor: Actor{Name: "admin"},
		policy: password.DefaultPolicy()}
	s.admin = newAdmin(st, s, h, s.audit, s.events, "")
	return s
}

// WithPasswordPolicy returns an Accounts whose chosen passwords must pass
// p, with issuer (the organisation's name) among the words an attacker
// tries first.
func (s *Accounts) WithPasswordPolicy(p password.Policy, issuer string) *Accounts {
	c := *s
	c.policy, c.issuer = p, issuer
	return &c
}

// CheckNewPassword applies the password policy to pw chosen for u: the
// username, display name, email and the issuer count as guessable words.
// The error (a *password.PolicyError) is a sentence for the person who
// chose it.
func (s *Accounts) CheckNewPassword(u *model.User, pw string) error {
	return s.policy.Check(pw, u.Username, u.DisplayName, u.Email, s.issuer)
}

// WithActor returns a Accounts whose changes are audited as made by the
// operator named actor, e.g. "cli (os user root)" (see As).
func (s *Accounts) WithActor(actor string) *Accounts {
	return s.As(Actor{Name: actor})
}

// As returns a Accounts whose changes are made by actor, e.g. CLIActor.
func (s *Accounts) As(actor Actor) *Accounts {
	c := *s
	c.actor = actor
	return &c
}

// apply makes the account change act to username as the admin center
// makes it (Admin.applyOne), as s's actor.
func (s *Accounts) apply(ctx context.Context, username string, act Action) (Result, error) {
	u, err := s.Get(ctx, username)
	if err != nil {
		return Result{}, err
	}
	res, err := s.admin.applyOne(ctx, s.actor, act, u.ID)
	if err != nil {
		return Result{}, err
	}
	switch res.Kind {
	case ResultGone:
		return Result{}, fmt.Errorf("no user %q", u.Username)
	case ResultRefused, ResultSkipped:
		return Result{}, fmt.Errorf("%s %q: %s", act.Kind, u.Username, res.Detail)
	}
	return res, nil
}

// NormalizeUsername trims ASCII blanks, folds A-Z to lower case and
// validates a username. Every other byte outside [a-z0-9._@-] is refused
// before anything is mapped: a Unicode case mapping would make aliases
// ("alİce" with U+0130, or "kim" spelt with the Kelvin sign U+212A, both
// lower-case to ASCII), so one account could be reached under several
// spellings.
func NormalizeUsername(name string) (string, error) {
	name = strings.Trim(name, " \t\r\n")
	if name == "" || len(name) > 64 {
		return "", ErrInvalidUsername
	}
	b := []byte(name)
	for i, c := range b {
		switch {
		case c >= 'A' && c <= 'Z':
			b[i] = c + ('a' - 'A')
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '.', c == '_', c == '@', c == '-':
		default:
			return "", ErrInvalidUsername
		}
	}
	return string(b), nil
}

// ErrInvalidGroup is wrapped by NormalizeGroups for a refused group name.
var ErrInvalidGroup = errors.New("group names must be UTF-8 without commas, control or formatting characters")

// NormalizeGroups trims, drops empties and duplicates, sorts, and refuses
// names the upstream could misread: Remote-Groups joins them with commas,
// and control or format characters (bidi overrides, zero-width spaces) hide
// what a name really is.
func NormalizeGroups(groups []string) ([]string, error) {
	var out []string
	for _, g := range groups {
		g = strings.TrimSpace(g)
		if err := checkGroup(g); err != nil {
			return nil, err
		}
		if g != "" && !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	slices.Sort(out)
	return out, nil
}

// checkGroup refuses one group name, naming it (quoted, so hidden
// characters show as escapes).
func checkGroup(g string) error {
	if !utf8.ValidString(g) {
		return fmt.Errorf("group %q: %w", g, ErrInvalidGroup)
	}
	for _, r := range g {
		if r == ',' || unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) {
			return fmt.Errorf("group %q: %w", g, ErrInvalidGroup)
		}
	}
	return nil
}

// Add creates a user; the password must pass the password policy.
func (s *Accounts) Add(ctx context.Context, nu NewUser) (*model.User, error) {
	u, err := s.build(nu, true)
	if err != nil {
		return nil, err
	}
	if err := s.create(ctx, s.actor, u, fmt.Sprintf("state %s, groups %v", u.MFAState, u.Groups)); err != nil {
		if errors.Is(err, ErrUserExists) {
			return nil, fmt.Errorf("user %q already exists", u.Username)
		}
		return nil, fmt.Errorf("adding user %q: %w", u.Username, err)
	}
	return u, nil
}

// create stores the new user u, made by actor (the CLI's add, the admin
// center's Add user), and its audit row with detail, in one transaction.
// ErrUserExists when the name is taken (and nothing is stored).
func (s *Accounts) create(ctx context.Context, actor Actor, u *model.User, detail string) error {
	var event model.AuditEvent
	err := s.store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		event = audit.Clean(model.AuditEvent{UserID: u.ID, Username: u.Username, Event: audit.UserCreated,
			RemoteIP: actor.IP, Detail: detail + "; by " + actor.Name})
		return tx.AppendAudit(ctx, &event)
	})
	if errors.Is(err, model.ErrConflict) {
		return fmt.Errorf("%w: a user named %q exists", ErrUserExists, u.Username)
	}
	if err != nil {
		return fmt.Errorf("core: add user: %w", err)
	}
	s.audit.Logged(event)
	return nil
}

// build checks nu and hashes its password, which must pass the policy
// when chosen (not when generated, as the first admin's).
func (s *Accounts) build(nu NewUser, chosen bool) (*model.User, error) {
	name, err := NormalizeUsername(nu.Username)
	if err != nil {
		return nil, err
	}
	state := nu.MFAState
	if state == "" {
		state = model.MFAEnabled
	}
	if !state.Valid() {
		return nil, fmt.Errorf("unknown MFA state %q (want disabled, enabled or enforced)", state)
	}
	groups, err := NormalizeGroups(nu.Groups)
	if err != nil {
		return nil, err
	}
	u := &model.User{
		Username:    name,
		DisplayName: strings.TrimSpace(nu.DisplayName),
		Email:       strings.TrimSpace(nu.Email),
		Groups:      groups,
		MFAState:    state,
	}
	if chosen {
		if err := s.CheckNewPassword(u, nu.Password); err != nil {
			return nil, err
		}
	}
	if u.PasswordHash, err = s.hasher.Hash(nu.Password); err != nil {
		return nil, err
	}
	return u, nil
}

// Get finds a user by name.
func (s *Accounts) Get(ctx context.Context, username string) (*model.User, error) {
	name, err := NormalizeUsername(username)
	if err != nil {
		return nil, err
	}
	u, err := s.store.UserByName(ctx, name)
	if errors.Is(err, model.ErrNotFound) {
		return nil, fmt.Errorf("no user %q", name)
	}
	if err != nil {
		return nil, fmt.Errorf("finding user %q: %w", name, err)
	}
	return u, nil
}

// PasswordReset tells SetPassword what else to revoke.
type PasswordReset struct {
	// KeepAppPasswords leaves the user's app passwords working. A reset
	// usually follows a suspected compromise, and an app password made by
	// whoever held the account would outlive the new password, so by
	// default they are all deleted.
	KeepAppPasswords bool
}

// SetPassword replaces a user's password, ends all their sessions and,
// unless opt.KeepAppPasswords, deletes their app passwords; it returns how
// many app passwords were deleted. The password must pass the password
// policy. Each change is audited.
func (s *Accounts) SetPassword(ctx context.Context, username, pw string, opt PasswordReset) (int64, error) {
	u, err := s.Get(ctx, username)
	if err != nil {
		return 0, err
	}
	if err := s.CheckNewPassword(u, pw); err != nil {
		return 0, err
	}
	hash, err := s.hasher.Hash(pw)
	if err != nil {
		return 0, err
	}
	// One transaction: the new password, the end of every session and,
	// unless kept, the app passwords an intruder may have made, with
	// their audit rows.
	var n int64
	var rows []model.AuditEvent
	err = s.store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		rows, n = nil, 0
		if err := tx.SetPassword(ctx, u.ID, hash, time.Time{}); err != nil {
			return err
		}
		if _, err := tx.DeleteSessions(ctx, u.ID, nil); err != nil {
			return err
		}
		by := "; by " + s.actor.Name
		ev, err := auditIn(ctx, tx, model.AuditEvent{UserID: u.ID, Username: u.Username, Event: audit.PasswordChanged,
			RemoteIP: s.actor.IP, Detail: "reset; sessions ended" + by})
		if err != nil {
			return err
		}
		rows = append(rows, ev)
		if opt.KeepAppPasswords {
			return nil
		}
		if n, err = tx.DeleteAppPasswords(ctx, u.ID); err != nil {
			return err
		}
		ev, err = auditIn(ctx, tx, model.AuditEvent{UserID: u.ID, Username: u.Username, Event: audit.AppPasswordsPurged,
			RemoteIP: s.actor.IP, Detail: fmt.Sprintf("password reset: %d deleted", n) + by})
		rows = append(rows, ev)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("setting password of %q: %w", u.Username, err)
	}
	for _, ev := range rows {
		s.audit.Logged(ev)
	}
	s.events.Publish(ctx, Event{Kind: EventUser, UserID: u.ID})
	return n, nil
}

// SetMFAState changes a user's MFA state.
func (s *Accounts) SetMFAState(ctx context.Context, username string, state model.MFAState) error {
	kind, ok := stateActions[state]
	if !ok {
		return fmt.Errorf("unknown MFA state %q (want disabled, enabled or enforced)", state)
	}
	_, err := s.apply(ctx, username, Action{Kind: kind})
	return err
}

// stateActions are the actions that set each MFA state.
var stateActions = map[model.MFAState]ActionKind{
	model.MFADisabled: ActionDisable, model.MFAEnabled: ActionEnable, model.MFAEnforced: ActionEnforce,
}

// Remove deletes a user with everything of theirs.
func (s *Accounts) Remove(ctx context.Context, username string) error {
	_, err := s.apply(ctx, username, Action{Kind: ActionRemove})
	return err
}

// List returns all users by name.
func (s *Accounts) List(ctx context.Context) ([]model.User, error) {
	us, err := s.store.ListUsers(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing users: %w", err)
	}
	return us, nil
}

// Bootstrap creates the first admin when the store has no user at all, and
// returns its generated password (empty when nothing was created). It looks
// before it hashes: every start and reload calls it, and a bcrypt hash
// costs a core for a quarter second or more. CreateFirstUser stays the
// atomic guard when several nodes start on an empty store at once.
func (s *Accounts) Bootstrap(ctx context.Context) (string, error) {
	existing, err := s.store.ListUsers(ctx)
	if err != nil {
		return "", fmt.Errorf("creating first admin: %w", err)
	}
	if len(existing) > 0 {
		return "", nil
	}
	pw, err := RandomPassword()
	if err != nil {
		return "", err
	}
	// Random and strong: not judged by the policy.
	u, err := s.build(NewUser{
		Username:    BootstrapUsername,
		Password:    pw,
		DisplayName: "Administrator",
		Groups:      []string{cmp.Or(s.adminGroup, AdminGroup)},
		MFAState:    model.MFAEnabled,
	}, false)
	if err != nil {
		return "", err
	}
	created, err := s.store.CreateFirstUser(ctx, u)
	if err != nil {
		return "", fmt.Errorf("creating first admin: %w", err)
	}
	if !created {
		return "", nil
	}
	return pw, nil
}

// RandomPassword returns 26 random base32 characters (130 bits).
func RandomPassword() (string, error) {
	return rand.Text(), nil
}

// DeleteAllAppPasswords removes every app password of a user (the admin's
// "delete all existing app passwords"), returning how many there were.
func (s *Accounts) DeleteAllAppPasswords(ctx context.Context, username string) (int64, error) {
	res, err := s.apply(ctx, username, Action{Kind: ActionDeleteAppPasswords})
	return res.Count, err
}

// AppPasswords lists a user's app passwords (names and use, never secrets).
func (s *Accounts) AppPasswords(ctx context.Context, username string) ([]model.AppPassword, error) {
	u, err := s.Get(ctx, username)
	if err != nil {
		return nil, err
	}
	aps, err := s.store.AppPasswords(ctx, u.ID)
	if err != nil {
		return nil, fmt.Errorf("listing app passwords of %q: %w", u.Username, err)
	}
	return aps, nil
}

// Unblock lets a user sign in again, exactly as the admin center's Unblock
// does (the rule is unblock): the block (a reported sign-in request, an
// admin's block, a file's "disabled") is lifted and the account's failed
// sign-in counters cleared, in one transaction, so a user locked out by
// wrong guesses can sign in at once too. It returns what changed, in the
// admin center's words.
func (s *Accounts) Unblock(ctx context.Context, username string) (string, error) {
	res, err := s.apply(ctx, username, Action{Kind: ActionUnblock})
	return res.Detail, err
}

// Block refuses every sign-in of a user (password, code, phone, basic
// auth) and ends their sessions, until Unblock.
func (s *Accounts) Block(ctx context.Context, username string) error {
	_, err := s.apply(ctx, username, Action{Kind: ActionBlock})
	return err
}

// ResetMethods removes every sign-in method of a user who lost them
// (authenticator apps and phones) and ends their sessions, in one
// transaction, and returns how many methods there were (authenticators
// and active phones, as the admin center counts). The user enrols again
// at their next sign-in.
func (s *Accounts) ResetMethods(ctx context.Context, username string) (int64, error) {
	res, err := s.apply(ctx, username, Action{Kind: ActionResetMethods})
	return res.Count, err
}

// SignIns returns the sign-in log since `since`, newest first, at most
// limit rows (all when <= 0), of one user or, with username "", of all.
func (s *Accounts) SignIns(ctx context.Context, username string, since time.Time, limit int) ([]model.SignIn, error) {
	f := model.SignInFilter{Since: since, Limit: limit}
	if username != "" {
		u, err := s.Get(ctx, username)
		if err != nil {
			return nil, err
		}
		f.UserID = u.ID
	}
	rows, err := s.store.SignIns(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("reading the sign-in log: %w", err)
	}
	return rows, nil
}

// RevokeSessions ends every session of a user ("sign out everywhere") and
// says how many there were.
func (s *Accounts) RevokeSessions(ctx context.Context, username string) (int64, error) {
	res, err := s.apply(ctx, username, Action{Kind: ActionSignOut})
	return res.Count, err
}
