// Package wiring builds the domain services one configuration shares among
// its sites (sessions, password hashing, codes, basic auth, pages, audit)
// from a store and plain options. The Caddy glue and the tests both use it,
// so there is one place where the parts are put together.
package wiring

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/mfagate/mfagate/internal/basicauth"
	"github.com/mfagate/mfagate/internal/bruteforce"
	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/factor/password"
	"github.com/mfagate/mfagate/internal/push"
	"github.com/mfagate/mfagate/internal/secrets"
	"github.com/mfagate/mfagate/internal/session"
	"github.com/mfagate/mfagate/internal/store"
	"github.com/mfagate/mfagate/internal/web"
	"github.com/mfagate/mfagate/loginui"
)

// Options are the settings; zero values take each package's defaults.
type Options struct {
	Keys            secrets.Configured
	BcryptCost      int
	SignInCPUShare  float64
	SessionIdle     time.Duration
	SessionLifetime time.Duration
	Lockout         bruteforce.Config
	Logger          *zap.Logger
	// Events is the node's event hub, shared across config reloads with
	// the store; nil: one for this config only.
	Events *core.Events
	Push   PushOptions
	// PasswordPolicy judges the passwords people choose; nil: the
	// default.
	PasswordPolicy *password.Policy
	// Issuer is the organisation's name, a word chosen passwords must not
	// lean on.
	Issuer string
	// AdminGroup is the admin center's group ("": core.AdminGroup).
	AdminGroup string
	// SignInLogRetention is how long sign-in log rows stay (0: default).
	SignInLogRetention time.Duration
	// RPID is the WebAuthn relying party ID ("": each request's host).
	RPID string
}

// Services are the shared domain objects.
type Services struct {
	Store    store.Store
	Core     *core.Core
	Sessions *session.Manager
	Hasher   *password.Hasher
	Verifier *basicauth.Verifier
	UI       *loginui.Renderer
	// VAPIDPublic is the key phones subscribe to push with ("" without a
	// portal origin).
	VAPIDPublic string
	// Portal is the portal origin ("" when none is configured).
	Portal      string
	sender      *push.Sender
	unsubscribe func()
}

// New wires the services on st. Errors name the option at fault.
func New(ctx context.Context, st store.Store, o Options) (*Services, error) {
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	keys, err := secrets.LoadKeys(ctx, st, o.Keys)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	hasher, err := newHasher(o)
	if err != nil {
		return nil, err
	}
	var phones atomic.Pointer[core.Phones]
	cc := core.Config{Hasher: hasher, Keys: keys, Lockout: o.Lockout, Logger: o.Logger, Events: o.Events,
		PushHosts: o.Push.Hosts, ApprovalTimeout: o.Push.Timeout, ApprovalNumberDigits: o.Push.NumberDigits, PasswordPolicy: o.PasswordPolicy, Issuer: o.Issuer,
		AdminGroup: o.AdminGroup, SignInLogRetention: o.SignInLogRetention, RPID: o.RPID}
	var sender *push.Sender
	var vapidPublic string
	if o.Push.Portal != "" {
		box, err := secrets.NewBox(keys.Factor)
		if err != nil {
			return nil, err
		}
		vapid, err := loadVAPID(ctx, st, box, o.Push)
		if err != nil {
			return nil, err
		}
		// The sender starts before the core that handles its reports.
		sender = newSender(vapid, o.Push, o.Logger.Named("push"), func(endpoint string) {
			if p := phones.Load(); p != nil {
				_ = p.PushGone(context.Background(), endpoint)
			}
		})
		cc.Sender, vapidPublic = sender, vapid.Public
		// Phones pair only through the portal: with it, their push hosts
		// are resolved at registration too.
		cc.PushResolver = net.DefaultResolver
	}
	c, err := core.New(st, cc)
	if err != nil {
		return nil, err
	}
	phones.Store(c.Phones)
	sessions, err := session.NewManager(c.Sessions, session.Config{
		IdleTimeout: o.SessionIdle,
		Lifetime:    o.SessionLifetime,
		HashKey:     keys.SessionHash,
		BlockKey:    keys.SessionBlock,
	})
	if err != nil {
		return nil, err
	}
	ui, err := loginui.New(o.Logger.Named("loginui"))
	if err != nil {
		return nil, fmt.Errorf("login pages: %w", err)
	}
	verifier, err := basicauth.New(c, hasher)
	if err != nil {
		return nil, err
	}
	// Changes made here or on other nodes drop this node's caches at once.
	unsubscribe := c.Events.Subscribe(func(ev core.Event) {
		if ev.Kind == core.EventUser {
			sessions.ForgetUser(ev.UserID)
			verifier.ForgetUser(ev.UserID)
		}
	})
	return &Services{
		Store:       st,
		Core:        c,
		Sessions:    sessions,
		Hasher:      hasher,
		Verifier:    verifier,
		UI:          ui,
		VAPIDPublic: vapidPublic,
		Portal:      o.Push.Portal,
		sender:      sender,
		unsubscribe: unsubscribe,
	}, nil
}

// Close stops listening to events and sending push messages, giving
// queued ones until ctx ends.
func (s *Services) Close(ctx context.Context) error {
	s.unsubscribe()
	if s.sender == nil {
		return nil
	}
	return s.sender.Close(ctx)
}

func newHasher(o Options) (*password.Hasher, error) {
	hasher, err := password.NewHasher(o.BcryptCost)
	if err != nil {
		return nil, fmt.Errorf("bcrypt_cost: %w", err)
	}
	if o.SignInCPUShare != 0 {
		if err := hasher.SetCPUShare(o.SignInCPUShare); err != nil {
			return nil, fmt.Errorf("sign_in_cpu_share: %w", err)
		}
	}
	return hasher, nil
}

// Web hands the services every portal page uses to a site's pages, with
// the site's logger and its way of finding the client's address (nil: the
// connection's).
func (s *Services) Web(logger *zap.Logger, clientIP func(*http.Request) string) web.Deps {
	return web.Deps{
		Core:     s.Core,
		Sessions: s.Sessions,
		Codes:    s.Core.Codes,
		UI:       s.UI,
		Audit:    s.Core.Audit,
		Logger:   logger,
		ClientIP: clientIP,
	}.WithDefaults()
}
