// Package basicauth checks HTTP basic-auth credentials from clients that
// cannot do multi-factor sign-in: app passwords always, the account password
// only where policy allows. Each uncached check costs exactly one bcrypt
// comparison, for known and unknown users alike (a repeat of a recent wrong
// secret costs none: core.Attempts recognises it by its keyed hash and
// refuses it again without judging it); successes are cached under
// a keyed hash (never the plaintext) so a busy WebDAV client does not pay
// bcrypt on every request.
package basicauth

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/factor/apppassword"
	"github.com/mfagate/mfagate/internal/factor/password"
	"github.com/mfagate/mfagate/internal/identity"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/policy"
	"github.com/mfagate/mfagate/internal/secrets"
)

// DefaultCacheTTL bounds how long a verified credential is trusted without
// asking the store again (after it, a database re-check, not a bcrypt, keeps
// it); deletions on this node take effect at once.
const DefaultCacheTTL = 4 * time.Second

// touchEvery limits "last used" writes to one per app password per minute.
const touchEvery = time.Minute

// Kind says which secret passed.
type Kind string

// Credential kinds.
const (
	KindAppPassword     Kind = "app password"
	KindAccountPassword Kind = "account password"
)

// Result of a successful check.
type Result struct {
	User          model.User
	Kind          Kind
	AppPasswordID int64

	// proof is the hash the secret was checked against and tag the app
	// password's lookup tag: a cached success is re-validated against
	// them with database reads only (no bcrypt) once it is older than the
	// cache TTL.
	proof string
	tag   []byte
	// headers are User's identity header values, built once when the
	// result is made (it is then cached and shared, never modified).
	headers identity.Values
}

// IdentityHeaders returns the identity header values of the user.
func (r *Result) IdentityHeaders() identity.Values {
	if r.headers.IsZero() {
		return userHeaders(&r.User)
	}
	return r.headers
}

func userHeaders(u *model.User) identity.Values {
	return identity.NewValues(identity.Identity{Username: u.Username, DisplayName: u.DisplayName, Email: u.Email, Groups: u.Groups})
}

// withHeaders returns r with its identity header values built.
func (r *Result) withHeaders() *Result {
	r.headers = userHeaders(&r.User)
	return r
}

// ErrBusy means the check was shed under load (answer 503, not 401).
var ErrBusy = password.ErrBusy

// ErrDenied is returned for every refused credential; Reason says why
// (Detail in the audit's words) and Username names the attempt (for the
// logs only): the account's name, or a keyed hash when no account has
// the typed name.
type ErrDenied struct {
	Reason           core.Reason
	Detail, Username string
	UserID           int64 // 0 when no account has the typed name
}

func (e *ErrDenied) Error() string { return "basic auth denied: " + e.Detail }

// passwordChecker is the bounded bcrypt comparison (*password.Hasher).
type passwordChecker interface {
	VerifyBounded(ctx context.Context, hash, pw string) (bool, error)
}

// Verifier checks credentials.
type Verifier struct {
	accounts *core.Accounts
	apps     *core.AppPasswords
	hasher   passwordChecker
	attempts *core.Attempts
	keys     *cacheKeyer
	cache    *cache
	flight   singleflight.Group
	now      func() time.Time
}

// New returns a Verifier checking through c. Whoever wires it drops its
// cached successes of a user on the core's user events (ForgetUser).
func New(c *core.Core, h *password.Hasher) (*Verifier, error) {
	cacheKey, err := secrets.RandomBytes(32)
	if err != nil {
		return nil, err
	}
	return &Verifier{accounts: c.Accounts, apps: c.AppPasswords, hasher: h, attempts: c.Attempts, keys: newCacheKeyer(cacheKey),
		cache: newCache(DefaultCacheTTL), now: time.Now}, nil
}

// Verify checks username and secret for site. A *ErrDenied error means
// refused; any other error is a store failure.
func (v *Verifier) Verify(ctx context.Context, site policy.Site, username, secret, ip string) (*Result, error) {
	key := v.keys.key(site, username, secret)
	now := v.now()
	res, fresh, found := v.cache.lookup(key, now)
	if found && fresh {
		v.touchLater(ctx, key, res, ip, now)
		return res, nil
	}
	gen := v.cache.currentGeneration()
	if found {
		res, err := v.revalidate(ctx, site, key, res)
		if err != nil {
			return nil, err
		}
		if res != nil {
			v.cache.put(key, res, now, gen)
			v.touchLater(ctx, key, res, ip, now)
			return res, nil
		}
	}
	// Concurrent identical requests share one bcrypt.
	out, err := v.shared(ctx, string(key[:]), func(ctx context.Context) (any, error) {
		return v.verifyUncached(ctx, site, username, secret, ip)
	})
	if err != nil {
		return nil, err
	}
	res = out.(*Result)
	v.cache.put(key, res, now, gen)
	return res, nil
}

// revalidate checks, with database reads only, that a success proven
// earlier still stands: same user, same password hash or the same app
// password row, and a policy that still allows it. nil, nil means it no
// longer stands (the entry is dropped and the full check runs).
func (v *Verifier) revalidate(ctx context.Context, site policy.Site, key [32]byte, old *Result) (*Result, error) {
	out, err := v.shared(ctx, "revalidate:"+string(key[:]), func(ctx context.Context) (any, error) {
		return v.stillValid(ctx, site, old)
	})
	if err != nil {
		return nil, err
	}
	res, _ := out.(*Result)
	if res == nil {
		v.cache.drop(key)
	}
	return res, nil
}

// sharedCheckTimeout bounds a check that concurrent identical requests
// share.
const sharedCheckTimeout = 10 * time.Second

// shared runs fn once for all concurrent callers with the same key. It runs
// under a context detached from every caller's cancellation (with its own
// timeout): were it the first caller's, that client disconnecting would
// fail every request that joined it, and would abandon a claimed failure
// slot before its release. Each caller still stops waiting when its own
// context ends.
func (v *Verifier) shared(ctx context.Context, key string, fn func(context.Context) (any, error)) (any, error) {
	ch := v.flight.DoChan(key, func() (any, error) {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sharedCheckTimeout)
		defer cancel()
		return fn(sctx)
	})
	select {
	case r := <-ch:
		return r.Val, r.Err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (v *Verifier) stillValid(ctx context.Context, site policy.Site, old *Result) (*Result, error) {
	u, err := v.accounts.ByID(ctx, old.User.ID)
	if errors.Is(err, model.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("basicauth: revalidate user: %w", err)
	}
	if !u.BlockedAt.IsZero() {
		return nil, nil
	}
	switch old.Kind {
	case KindAppPassword:
		ap, err := v.apps.ByTag(ctx, u.ID, old.tag)
		if errors.Is(err, model.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("basicauth: revalidate app password: %w", err)
		}
		if ap.ID != old.AppPasswordID || ap.Hash != old.proof {
			return nil, nil
		}
	case KindAccountPassword:
		if u.PasswordHash != old.proof || !site.AccountPasswordInBasicAuth(u) || u.TemporaryPassword() {
			return nil, nil
		}
	}
	res := *old
	res.User = *u
	return res.withHeaders(), nil
}

// verifyUncached does the one bcrypt comparison under the brute-force
// rules (see core.Attempts): a cached success never gets here, so a busy
// client with the right app password claims nothing.
func (v *Verifier) verifyUncached(ctx context.Context, site policy.Site, username, secret, ip string) (*Result, error) {
	var res *Result
	guess := core.Guess{Secret: secret, BasicAuthOnly: appPasswordsOnly(site), SignsIn: true,
		As: fmt.Sprintf("basic auth (require_mfa %t, app passwords only %t)", site.RequireMFA, site.RefuseAccountPassword)}
	guess.Upgrade = func(ctx context.Context, u *model.User) *core.HashUpgrade {
		return v.upgradeHash(ctx, res, u, secret, ip)
	}
	out, err := v.attempts.ByName(ctx, username, ip, guess, func(ctx context.Context, u *model.User) (bool, core.Reason, error) {
		r, why, err := v.compare(ctx, site, u, secret)
		res = r
		return r != nil, why, err
	})
	if err != nil {
		return nil, err
	}
	if out.User == nil {
		why := out.Reason
		if out.Repeat && out.BasicAuthOnly && out.Who.ID != 0 {
			why = core.ReasonAppPasswordUnknownRepeat
		}
		return nil, &ErrDenied{Reason: why, Detail: why.Audit(), Username: out.Who.Username, UserID: out.Who.ID}
	}
	if out.UpgradedHash != "" {
		// The result proves the new hash.
		res.User.PasswordHash, res.proof = out.UpgradedHash, out.UpgradedHash
	}
	if res.AppPasswordID != 0 {
		if err := v.apps.RecordUse(ctx, res.AppPasswordID, v.now(), ip); err != nil {
			return nil, fmt.Errorf("basicauth: %w", err)
		}
	}
	return res, nil
}

// DetailAppPasswordUnknown is why basic auth refused a secret where only
// app passwords pass: most often a device still sending one that was
// deleted.
const DetailAppPasswordUnknown = core.DetailAppPasswordUnknown

// appPasswordsOnly says for the account found (nil: none) whether basic
// auth on site takes app passwords only: there a guess cannot succeed in
// practice (a 16-letter random app password), so failures count against
// the basic-auth-only counter and the client's address, never the
// account's (see bruteforce.BasicAuthOnly). For a name that is no account
// the site's options decide alone.
func appPasswordsOnly(site policy.Site) func(*model.User) bool {
	return func(u *model.User) bool {
		if u == nil {
			return site.RequireMFA || site.RefuseAccountPassword
		}
		return !site.AccountPasswordInBasicAuth(u)
	}
}

// compare picks the one hash to check: the app password the tag points
// to, else the account password if policy allows it (judged as at the
// login form, see core.JudgeAccountPassword), else a dummy. Each
// path pays exactly one bounded bcrypt comparison.
func (v *Verifier) compare(ctx context.Context, site policy.Site, user *model.User, secret string) (*Result, core.Reason, error) {
	if user == nil {
		_, err := v.hasher.VerifyBounded(ctx, "", secret)
		return nil, core.ReasonUnknownUser, err
	}
	if normalized, ok := apppassword.Normalize(secret); ok {
		ap, err := v.apps.Find(ctx, user.ID, normalized)
		switch {
		case err == nil:
			ok, err := v.hasher.VerifyBounded(ctx, ap.Hash, normalized)
			if ok {
				return (&Result{User: *user, Kind: KindAppPassword, AppPasswordID: ap.ID, proof: ap.Hash, tag: ap.LookupTag}).withHeaders(), core.ReasonNone, err
			}
			return nil, core.ReasonWrongAppPassword, err
		case !errors.Is(err, model.ErrNotFound):
			return nil, core.ReasonNone, fmt.Errorf("basicauth: app password: %w", err)
		}
	}
	if !site.AccountPasswordInBasicAuth(user) {
		_, err := v.hasher.VerifyBounded(ctx, "", secret)
		return nil, core.ReasonAppPasswordUnknown, err
	}
	ok, why, err := core.JudgeAccountPassword(ctx, v.hasher, user, secret, true, v.now())
	if ok {
		return (&Result{User: *user, Kind: KindAccountPassword, proof: user.PasswordHash}).withHeaders(), core.ReasonNone, err
	}
	return nil, why, err
}

// touchLater records use of a cached app password at most once a minute.
func (v *Verifier) touchLater(ctx context.Context, key [32]byte, res *Result, ip string, now time.Time) {
	if res.AppPasswordID == 0 || !v.cache.dueForTouch(key, now, touchEvery) {
		return
	}
	// Best effort: a failed "last used" write must not refuse the request.
	_ = v.apps.RecordUse(ctx, res.AppPasswordID, now, ip)
}

// ForgetUser drops cached successes of a user: call it after deleting an app
// password, changing the password or the MFA state.
func (v *Verifier) ForgetUser(userID int64) { v.cache.forgetUser(userID) }

// Realm quotes a realm for WWW-Authenticate.
func Realm(name string) string { return "Basic realm=" + strconv.Quote(name) + `, charset="UTF-8"` }
