package caddymodule

import (
	"time"

	"go.uber.org/zap"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/securityinfo"
	"github.com/mfagate/mfagate/internal/signin"
	"github.com/mfagate/mfagate/internal/wiring"
)

// services are the domain objects one loaded config shares among its sites.
type services struct{ *wiring.Services }

// wiringOptions are the wiring's options from the app's config; the store
// comes from the storage module (see acquire).
func (a *App) wiringOptions(events *core.Events, logger *zap.Logger) wiring.Options {
	policy := a.passwordPolicy()
	return wiring.Options{
		Keys:               a.keys,
		Issuer:             a.Issuer,
		PasswordPolicy:     &policy,
		BcryptCost:         a.BcryptCost,
		SignInCPUShare:     a.SignInCPUShare,
		SessionIdle:        time.Duration(a.SessionIdleTimeout),
		SessionLifetime:    time.Duration(a.SessionLifetime),
		Lockout:            a.Lockout.config(),
		Logger:             logger,
		Events:             events,
		Push:               a.push,
		AdminGroup:         a.AdminGroup,
		SignInLogRetention: time.Duration(a.SignInLogRetention),
		RPID:               a.rpID,
	}
}

// portalDeps hands the services to a site's portal.
func (s *services) portalDeps(logger *zap.Logger) signin.Deps {
	return signin.Deps{Deps: s.Web(logger, clientIP), Hasher: s.Hasher}
}

// portalOriginDeps hands the services to the portal origin's pages: its
// sessions carry the portal's own cookie name.
func (s *services) portalOriginDeps(logger *zap.Logger) signin.Deps {
	d := s.portalDeps(logger)
	d.Sessions = s.Sessions.ForPortal()
	return d
}

// securityDeps hands the services to a site's Security info pages.
func (s *services) securityDeps(logger *zap.Logger) securityinfo.Deps {
	return securityinfo.Deps{Deps: s.Web(logger, clientIP)}
}
