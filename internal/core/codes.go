package core

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/mfagate/mfagate/internal/factor/totp"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/secrets"
	"github.com/mfagate/mfagate/internal/store"
)

// Codes verifies authenticator codes for users, with the rules every
// caller needs: brute-force limits, single use per time step, secrets
// sealed per user. (Package totp holds the RFC 6238 arithmetic.)
type Codes struct {
	store    store.Store
	Box      *secrets.Box
	Attempts *Attempts
	Now      func() time.Time
}

// aad binds a sealed secret to its user.
func aad(userID int64) []byte {
	return []byte("mfagate/totp/" + strconv.FormatInt(userID, 10))
}

// Seal encrypts a secret for storage with the user's row.
func (c *Codes) Seal(userID int64, secret []byte) ([]byte, error) {
	return c.Box.Seal(secret, aad(userID))
}

// Open decrypts a secret sealed for userID.
func (c *Codes) Open(userID int64, sealed []byte) ([]byte, error) {
	return c.Box.Open(sealed, aad(userID))
}

func (c *Codes) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Check verifies code against the user's enrolled authenticators. detail
// says why a code was refused (for the audit log, never for the user).
func (c *Codes) Check(ctx context.Context, u *model.User, code, ip string) (ok bool, why Reason, err error) {
	secrets, err := c.secretsOf(ctx, u)
	if err != nil {
		return false, ReasonNone, err
	}
	return c.check(ctx, u, secrets, code, ip)
}

// secretsOf opens u's authenticators' secrets (the ones that open).
func (c *Codes) secretsOf(ctx context.Context, u *model.User) ([][]byte, error) {
	auths, err := c.store.TOTPAuthenticators(ctx, u.ID)
	if err != nil {
		return nil, fmt.Errorf("core: authenticators: %w", err)
	}
	secrets := make([][]byte, 0, len(auths))
	for _, a := range auths {
		if s, err := c.Open(u.ID, a.SealedSecret); err == nil {
			secrets = append(secrets, s)
		}
	}
	return secrets, nil
}

// CheckPending verifies a code for a secret being enrolled, proving the
// user's app holds it. The step is claimed like any other.
func (c *Codes) CheckPending(ctx context.Context, u *model.User, sealed []byte, code, ip string) (bool, Reason, error) {
	secret, err := c.Open(u.ID, sealed)
	if err != nil {
		return false, ReasonNone, fmt.Errorf("core: pending secret: %w", err)
	}
	return c.check(ctx, u, [][]byte{secret}, code, ip)
}

// check judges the code under the brute-force rules (see Attempts),
// so concurrent guesses cannot pass the account limit; a right code gives
// its slot back. A code is accepted once per time step.
func (c *Codes) check(ctx context.Context, u *model.User, candidates [][]byte, code, ip string) (bool, Reason, error) {
	now := c.now()
	out, err := c.Attempts.ForUser(ctx, u, ip, codeGuess(candidates, code, now), func(ctx context.Context, judged *model.User) (bool, Reason, error) {
		if judged == nil {
			return false, ReasonNone, nil // refused by the limits: the code is not looked at
		}
		step, matched := matchAny(candidates, code, now)
		if !matched {
			return false, ReasonWrongCode, nil
		}
		claimed, err := c.store.ClaimTOTPStep(ctx, u.ID, step)
		if err != nil {
			return false, ReasonNone, fmt.Errorf("core: claim step: %w", err)
		}
		if !claimed {
			return false, ReasonCodeReused, nil
		}
		return true, ReasonNone, nil
	})
	if err != nil {
		return false, ReasonNone, err
	}
	return out.User != nil, out.Reason, nil
}

// codeGuess describes a code for recognising repeats: the same code
// against the same secrets in the same time step gets the same verdict
// (in the next step it is a new guess, as it may match then).
func codeGuess(candidates [][]byte, code string, now time.Time) Guess {
	h := sha256.New()
	for _, s := range candidates {
		h.Write(s)
		h.Write([]byte{0})
	}
	as := "code at step " + strconv.FormatInt(now.Unix()/totp.Period, 10) + " for " + hex.EncodeToString(h.Sum(nil))
	return Guess{Secret: totp.NormalizeCode(code), As: as}
}

func matchAny(secrets [][]byte, code string, now time.Time) (int64, bool) {
	for _, s := range secrets {
		if step, ok := totp.Match(s, code, now); ok {
			return step, true
		}
	}
	return 0, false
}
