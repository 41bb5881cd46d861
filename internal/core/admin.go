package core

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/bruteforce"
	"github.com/mfagate/mfagate/internal/factor/password"
	"github.com/mfagate/mfagate/internal/humanize"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/safetext"
	"github.com/mfagate/mfagate/internal/store"
)

// MaxBatch is how many users one admin action may change.
const MaxBatch = 200

// Limits of the profile fields the admin edits, in characters.
const (
	MaxDisplayName = 128
	MaxEmail       = 254
)

// Admin is the admin center's part of the core: the list of users, one
// user's details, and the changes an admin makes to one user or several.
// Every change is applyOne (accountchange.go), the CLI's too: it names
// its Actor, refuses to change the acting admin's own groups, MFA state,
// methods, block or account, runs in one store transaction that checks
// the last-admin rule (keepAnAdmin) and writes the audit row with the
// actor's name and address, and drops what nodes cache about the user.
type Admin struct {
	store    store.Store
	accounts *Accounts
	hasher   *password.Hasher
	audit    *audit.Log
	events   *Events
	group    string
	now      func() time.Time
}

func newAdmin(st store.Store, accounts *Accounts, h *password.Hasher, log *audit.Log, events *Events, group string) *Admin {
	if group == "" {
		group = AdminGroup
	}
	return &Admin{store: st, accounts: accounts, hasher: h, audit: log, events: events, group: group, now: time.Now}
}

// Group is the admin group.
func (a *Admin) Group() string { return a.group }

// IsAdmin reports whether u may use the admin center: an unblocked member
// of the admin group. (The pages also demand a recent second factor.)
func (a *Admin) IsAdmin(u *model.User) bool {
	return u != nil && u.BlockedAt.IsZero() && slices.Contains(u.Groups, a.group)
}

// Users returns one page of users; q's lock keys and time are filled in.
func (a *Admin) Users(ctx context.Context, q model.UserQuery) (model.UserPage, error) {
	q.LockKeyPrefix, q.BasicLockKeyPrefix, q.Now = bruteforce.AccountKey(""), bruteforce.BasicAuthOnlyKey(""), a.now()
	page, err := a.store.SearchUsers(ctx, q)
	if err != nil {
		return model.UserPage{}, fmt.Errorf("core: users: %w", err)
	}
	return page, nil
}

// UserByName finds a user by username (model.ErrNotFound when there is
// none, or the name cannot be a username).
func (a *Admin) UserByName(ctx context.Context, name string) (*model.User, error) {
	n, err := NormalizeUsername(name)
	if err != nil {
		return nil, fmt.Errorf("core: user %q: %w", name, model.ErrNotFound)
	}
	u, err := a.store.UserByName(ctx, n)
	if err != nil {
		return nil, fmt.Errorf("core: user %q: %w", n, err)
	}
	return u, nil
}

// Selected returns the users of ids that exist, by username; more than
// MaxBatch ids are an error.
func (a *Admin) Selected(ctx context.Context, ids []int64) ([]model.UserSummary, error) {
	ids = uniqueIDs(ids)
	if len(ids) > MaxBatch {
		return nil, fmt.Errorf("at most %d users at once", MaxBatch)
	}
	page, err := a.Users(ctx, model.UserQuery{IDs: ids})
	if err != nil {
		return nil, err
	}
	return page.Users, nil
}

// UserDetail is what the admin's page of one user shows.
type UserDetail struct {
	Summary        model.UserSummary
	Authenticators []model.TOTPAuthenticator
	Phones         []model.Device // active ones
	Passkeys       []model.WebAuthnCredential
	AppPasswords   []model.AppPassword
	SignIns        []model.SignIn // the most recent, newest first
	// AccessPass is the user's Temporary Access Pass (nil: none).
	AccessPass *model.AccessPass
	// RecoveryCodesLeft of RecoveryCodes are unused (0 of 0: the user
	// has none).
	RecoveryCodesLeft, RecoveryCodes int
}

// User returns one user's details with their recent sign-ins (at most
// signIns); model.ErrNotFound when there is no such user.
func (a *Admin) User(ctx context.Context, id int64, signIns int) (*UserDetail, error) {
	rows, err := a.Selected(ctx, []int64{id})
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("core: user %d: %w", id, model.ErrNotFound)
	}
	d := &UserDetail{Summary: rows[0]}
	if d.Authenticators, err = a.store.TOTPAuthenticators(ctx, id); err != nil {
		return nil, fmt.Errorf("core: authenticators: %w", err)
	}
	devices, err := a.store.Devices(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("core: phones: %w", err)
	}
	for _, dev := range devices {
		if dev.Active {
			d.Phones = append(d.Phones, dev)
		}
	}
	if d.Passkeys, err = a.store.WebAuthnCredentials(ctx, id); err != nil {
		return nil, fmt.Errorf("core: passkeys: %w", err)
	}
	if d.AppPasswords, err = a.store.AppPasswords(ctx, id); err != nil {
		return nil, fmt.Errorf("core: app passwords: %w", err)
	}
	if d.RecoveryCodesLeft, d.RecoveryCodes, err = a.store.RecoveryCodeCounts(ctx, id); err != nil {
		return nil, fmt.Errorf("core: recovery codes: %w", err)
	}
	if d.SignIns, err = a.store.SignIns(ctx, model.SignInFilter{UserID: id, Limit: signIns}); err != nil {
		return nil, fmt.Errorf("core: sign-ins: %w", err)
	}
	if d.AccessPass, err = a.store.AccessPass(ctx, id); errors.Is(err, model.ErrNotFound) {
		d.AccessPass = nil
	} else if err != nil {
		return nil, fmt.Errorf("core: access pass: %w", err)
	}
	return d, nil
}

// ActionKind names what the admin asks for.
type ActionKind string

// The admin center's actions.
const (
	ActionEnable             ActionKind = "enable"  // MFA state Enabled
	ActionEnforce            ActionKind = "enforce" // MFA state Enforced
	ActionDisable            ActionKind = "disable" // MFA state Disabled
	ActionDeleteAppPasswords ActionKind = "delete-app-passwords"
	ActionResetMethods       ActionKind = "reset-methods" // authenticators, phones, passkeys and recovery codes
	ActionSignOut            ActionKind = "sign-out"      // every session
	ActionBlock              ActionKind = "block"
	ActionUnblock            ActionKind = "unblock" // also clears the account's lockout
	ActionEdit               ActionKind = "edit"    // display name, email, groups
	ActionRemove             ActionKind = "remove"
	// ActionResetPassword gives a temporary password, shown once.
	ActionResetPassword ActionKind = "reset-password"
	// ActionAccessPass issues a Temporary Access Pass, shown once
	// (accesspass.go).
	ActionAccessPass ActionKind = "access-pass"
)

// Valid reports whether k is a known action.
func (k ActionKind) Valid() bool {
	switch k {
	case ActionEnable, ActionEnforce, ActionDisable, ActionDeleteAppPasswords, ActionResetMethods,
		ActionSignOut, ActionBlock, ActionUnblock, ActionEdit, ActionRemove, ActionResetPassword, ActionAccessPass:
		return true
	}
	return false
}

// selfAllowed: the actions an admin may apply to their own account here
// (ActionEdit only while the groups stay as they are).
func (k ActionKind) selfAllowed() bool {
	return k == ActionDeleteAppPasswords || k == ActionSignOut || k == ActionEdit
}

// RefusedForSelf reports whether act is refused on the acting admin's own
// account (self, as stored now): everything but deleting their app
// passwords, ending their sessions and editing their name and email.
func (act Action) RefusedForSelf(self *model.User) bool {
	if act.Kind == ActionEdit {
		groups, err := NormalizeGroups(act.Groups)
		return err != nil || !sameGroups(groups, self.Groups)
	}
	return !act.Kind.selfAllowed()
}

// Action is one action with its input.
type Action struct {
	Kind ActionKind
	// DisplayName, Email and Groups are ActionEdit's new values.
	DisplayName, Email string
	Groups             []string
	// Lifetime and Once are ActionAccessPass's pass (CheckAccessPass).
	Lifetime time.Duration
	Once     bool
}

// ErrInvalidProfile wraps a refused display name or email.
var ErrInvalidProfile = errors.New("invalid profile")

// Which field of a profile was refused (wrapped with ErrInvalidProfile,
// and the name check's own safetext error), so pages say it in words of
// their own.
var (
	ErrInvalidDisplayName = errors.New("display name")
	ErrInvalidEmail       = errors.New("email")
)

// CheckEdit validates and normalises an ActionEdit's input.
func (act Action) CheckEdit() (Action, error) {
	name := strings.TrimSpace(act.DisplayName)
	if name != "" {
		var err error
		if name, err = safetext.ValidName(name, MaxDisplayName); err != nil {
			return act, fmt.Errorf("%w: %w: %w", ErrInvalidProfile, ErrInvalidDisplayName, err)
		}
	}
	email := strings.TrimSpace(act.Email)
	if email != "" {
		if len(email) > MaxEmail || strings.Count(email, "@") != 1 || strings.ContainsAny(email, " \t\r\n,<>\"") ||
			strings.HasPrefix(email, "@") || strings.HasSuffix(email, "@") {
			return act, fmt.Errorf("%w: %w %q is not an address like name@example.com", ErrInvalidProfile, ErrInvalidEmail, email)
		}
		if _, err := safetext.ValidName(email, MaxEmail); err != nil {
			return act, fmt.Errorf("%w: %w: %w", ErrInvalidProfile, ErrInvalidEmail, err)
		}
	}
	groups, err := NormalizeGroups(act.Groups)
	if err != nil {
		return act, err
	}
	act.DisplayName, act.Email, act.Groups = name, email, groups
	return act, nil
}

// ResultKind is what happened to one user.
type ResultKind string

// What an action did to each user.
const (
	ResultChanged   ResultKind = "changed"
	ResultUnchanged ResultKind = "unchanged" // nothing to do (already so)
	ResultSkipped   ResultKind = "skipped"   // the admin's own account
	ResultRefused   ResultKind = "refused"   // the last-admin rule, or no longer an admin
	ResultGone      ResultKind = "gone"      // no such user (removed meanwhile)
)

// Result is the outcome for one user, with what changed in words.
type Result struct {
	UserID   int64
	Username string
	Kind     ResultKind
	Detail   string
	// Secret is the temporary password of ActionResetPassword (or the
	// pass of ActionAccessPass), to be shown to the admin once and never
	// again.
	Secret string
	// Expires is when ActionAccessPass's pass stops working.
	Expires time.Time
	// Count is how many app passwords, sign-in methods or sessions the
	// change removed.
	Count int64
}

// Messages of refusals, as the result page shows them.
const (
	msgSelf      = "skipped: your own account (an admin cannot change their own groups, multi-factor state, methods, block or account here)"
	msgLastAdmin = "refused: the last admin who can sign in with a second factor must remain"
	msgNotAdmin  = "refused: you are no longer an admin"
)

// Apply applies act to each user of ids (at most MaxBatch, duplicates
// ignored) as actor, one store transaction per user, and says what
// happened to each. Users are taken in the order given. Once the actor
// turns out to be no admin any more, nothing further is tried.
func (a *Admin) Apply(ctx context.Context, actor Actor, act Action, ids []int64) ([]Result, error) {
	if !act.Kind.Valid() {
		return nil, fmt.Errorf("unknown action %q", act.Kind)
	}
	if act.Kind == ActionEdit {
		var err error
		if act, err = act.CheckEdit(); err != nil {
			return nil, err
		}
	}
	if act.Kind == ActionAccessPass {
		if len(uniqueIDs(ids)) != 1 {
			return nil, errors.New("a Temporary Access Pass is issued to one user at a time")
		}
	}
	ids = uniqueIDs(ids)
	if len(ids) > MaxBatch {
		return nil, fmt.Errorf("at most %d users at once", MaxBatch)
	}
	out := make([]Result, 0, len(ids))
	notAdmin := false
	for _, id := range ids {
		if notAdmin {
			out = append(out, Result{UserID: id, Kind: ResultRefused, Detail: msgNotAdmin})
			continue
		}
		r, err := a.applyOne(ctx, actor, act, id)
		if err != nil {
			return out, err
		}
		notAdmin = r.Kind == ResultRefused && r.Detail == msgNotAdmin
		out = append(out, r)
	}
	return out, nil
}

func actionState(k ActionKind) model.MFAState {
	switch k {
	case ActionEnforce:
		return model.MFAEnforced
	case ActionDisable:
		return model.MFADisabled
	}
	return model.MFAEnabled
}

// describe says what the change did to the user, who was before.
func (a *Admin) describe(act Action, before *model.User, n int64) (ResultKind, string) {
	switch act.Kind {
	case ActionEnable, ActionEnforce, ActionDisable:
		to := actionState(act.Kind)
		if before.MFAState == to {
			return ResultUnchanged, "multi-factor sign-in was already " + stateWord(to)
		}
		return ResultChanged, "multi-factor sign-in " + stateWord(before.MFAState) + " → " + stateWord(to)
	case ActionDeleteAppPasswords:
		return countOutcome(n, "app password deleted", "app passwords deleted", "had no app passwords")
	case ActionResetMethods:
		return countOutcome(n, "sign-in method removed (enrols again at the next sign-in)",
			"sign-in methods removed (enrols again at the next sign-in)", "had no sign-in methods")
	case ActionSignOut:
		return countOutcome(n, "session ended", "sessions ended", "had no sessions")
	case ActionBlock:
		if !before.BlockedAt.IsZero() {
			return ResultChanged, "sign-in blocked (was blocked already: " + before.BlockedReason + "); sessions ended"
		}
		return ResultChanged, "sign-in blocked; sessions ended"
	case ActionUnblock:
		return ResultChanged, describeUnblock(before)
	case ActionEdit:
		var parts []string
		if before.DisplayName != act.DisplayName {
			parts = append(parts, fmt.Sprintf("name %q → %q", before.DisplayName, act.DisplayName))
		}
		if before.Email != act.Email {
			parts = append(parts, fmt.Sprintf("email %q → %q", before.Email, act.Email))
		}
		if !sameGroups(before.Groups, act.Groups) {
			parts = append(parts, fmt.Sprintf("groups [%s] → [%s]", strings.Join(before.Groups, ", "), strings.Join(act.Groups, ", ")))
		}
		if len(parts) == 0 {
			return ResultUnchanged, "nothing to change"
		}
		return ResultChanged, strings.Join(parts, "; ")
	case ActionRemove:
		return ResultChanged, "user removed"
	case ActionAccessPass:
		return ResultChanged, describeAccessPass(act, n)
	case ActionResetPassword:
		return ResultChanged, fmt.Sprintf("temporary password set, valid %s (shown below, once); sessions ended; app passwords deleted: %d",
			humanize.Duration(TemporaryPasswordTTL), n)
	}
	return ResultChanged, string(act.Kind)
}

func countOutcome(n int64, one, many, none string) (ResultKind, string) {
	switch n {
	case 0:
		return ResultUnchanged, none
	case 1:
		return ResultChanged, "1 " + one
	}
	return ResultChanged, fmt.Sprintf("%d %s", n, many)
}

// stateWord is how pages name a state: "Enforced".
func stateWord(s model.MFAState) string {
	if s == "" {
		return ""
	}
	return strings.ToUpper(string(s[:1])) + string(s[1:])
}

func auditEvent(k ActionKind) string {
	switch k {
	case ActionEnable, ActionEnforce, ActionDisable:
		return audit.MFAStateChanged
	case ActionDeleteAppPasswords:
		return audit.AppPasswordsPurged
	case ActionResetMethods:
		return audit.MethodsReset
	case ActionSignOut:
		return audit.SessionsEnded
	case ActionBlock:
		return audit.UserBlocked
	case ActionUnblock:
		return audit.UserUnblocked
	case ActionEdit:
		return audit.ProfileChanged
	case ActionRemove:
		return audit.UserRemoved
	case ActionResetPassword:
		return audit.PasswordChanged
	case ActionAccessPass:
		return audit.AccessPassIssued
	}
	return string(k)
}

// sameGroups compares two normalised group lists.
func sameGroups(a, b []string) bool {
	return len(a) == len(b) && (len(a) == 0 || slices.Equal(a, b))
}

// uniqueIDs drops duplicates and non-positive IDs, keeping the order.
func uniqueIDs(ids []int64) []int64 {
	out := make([]int64, 0, len(ids))
	for _, id := range ids {
		if id > 0 && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// AddUser creates a user with a random temporary password, returned in
// the clear to be shown to the admin once: the user signs in with it,
// registers a second factor and then chooses their own password. The
// new user starts Enabled.
func (a *Admin) AddUser(ctx context.Context, actor Actor, nu NewUser) (*model.User, string, error) {
	pw, err := RandomPassword()
	if err != nil {
		return nil, "", err
	}
	nu.Password = pw
	if nu.MFAState == "" {
		nu.MFAState = model.MFAEnabled
	}
	checked, err := Action{Kind: ActionEdit, DisplayName: nu.DisplayName, Email: nu.Email, Groups: nu.Groups}.CheckEdit()
	if err != nil {
		return nil, "", err
	}
	nu.DisplayName, nu.Email, nu.Groups = checked.DisplayName, checked.Email, checked.Groups
	// Random, so no strength check.
	u, err := a.accounts.build(nu, false)
	if err != nil {
		return nil, "", err
	}
	u.PasswordExpiresAt = a.now().Add(TemporaryPasswordTTL)
	if err := a.accounts.create(ctx, actor, u, "with a temporary password, valid "+humanize.Duration(TemporaryPasswordTTL)); err != nil {
		return nil, "", err
	}
	return u, pw, nil
}

// ErrUserExists: the username is taken.
var ErrUserExists = errors.New("username taken")

// failureKeys are the store keys of an account's failure counters: the
// account's and its basic-auth-only one.
func failureKeys(username string) []string {
	return []string{bruteforce.AccountKey(username), bruteforce.BasicAuthOnlyKey(username)}
}
