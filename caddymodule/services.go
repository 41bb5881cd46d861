package caddymodule

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/mfagate/mfagate/audit"
	"github.com/mfagate/mfagate/basicauth"
	"github.com/mfagate/mfagate/bruteforce"
	"github.com/mfagate/mfagate/factor/password"
	"github.com/mfagate/mfagate/factor/totp"
	"github.com/mfagate/mfagate/loginui"
	"github.com/mfagate/mfagate/secrets"
	"github.com/mfagate/mfagate/securityinfo"
	"github.com/mfagate/mfagate/session"
	"github.com/mfagate/mfagate/signin"
	"github.com/mfagate/mfagate/store"
	"github.com/mfagate/mfagate/users"
)

// services are the domain objects one loaded config shares among its sites.
type services struct {
	store    store.Store
	sessions *session.Manager
	hasher   *password.Hasher
	limiter  *bruteforce.Limiter
	box      *secrets.Box
	ui       *loginui.Renderer
	audit    *audit.Log
	users    *users.Service
	codes    *totp.Checker
	verifier *basicauth.Verifier
}

// newServices wires the domain packages from the app's config.
func newServices(ctx context.Context, a *App, st store.Store, logger *zap.Logger) (*services, error) {
	keys, err := secrets.LoadKeys(ctx, st, a.Keys.configured())
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	hasher, err := password.NewHasher(a.BcryptCost)
	if err != nil {
		return nil, fmt.Errorf("bcrypt_cost: %w", err)
	}
	if a.SignInCPUShare != 0 {
		if err := hasher.SetCPUShare(a.SignInCPUShare); err != nil {
			return nil, fmt.Errorf("sign_in_cpu_share: %w", err)
		}
	}
	sessions, err := session.NewManager(st, session.Config{
		IdleTimeout: time.Duration(a.SessionIdleTimeout),
		Lifetime:    time.Duration(a.SessionLifetime),
		HashKey:     keys.SessionHash,
		BlockKey:    keys.SessionBlock,
	})
	if err != nil {
		return nil, err
	}
	box, err := secrets.NewBox(keys.Factor)
	if err != nil {
		return nil, err
	}
	ui, err := loginui.New()
	if err != nil {
		return nil, fmt.Errorf("login pages: %w", err)
	}
	ui.OnError = func(err error) { logger.Error("rendering page", zap.Error(err)) }
	limiter := bruteforce.New(st, a.Lockout.config())
	verifier, err := basicauth.New(st, hasher, limiter, keys.AppPasswordTag)
	if err != nil {
		return nil, err
	}
	return &services{
		store:    st,
		sessions: sessions,
		hasher:   hasher,
		limiter:  limiter,
		box:      box,
		ui:       ui,
		audit:    audit.New(st, logger.Named("audit")),
		users:    users.New(st, hasher),
		codes:    &totp.Checker{Store: st, Box: box, Limiter: limiter},
		verifier: verifier,
	}, nil
}

// portalDeps hands the services to a site's portal.
func (s *services) portalDeps(logger *zap.Logger) signin.Deps {
	return signin.Deps{
		Store:    s.store,
		Sessions: s.sessions,
		Hasher:   s.hasher,
		Limiter:  s.limiter,
		Codes:    s.codes,
		UI:       s.ui,
		Audit:    s.audit,
		Logger:   logger,
	}
}

// securityDeps hands the services to a site's Security info pages.
func (s *services) securityDeps(logger *zap.Logger) securityinfo.Deps {
	return securityinfo.Deps{
		Store:    s.store,
		Sessions: s.sessions,
		Hasher:   s.hasher,
		Codes:    s.codes,
		Verifier: s.verifier,
		UI:       s.ui,
		Audit:    s.audit,
		Logger:   logger,
	}
}
