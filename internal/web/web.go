// Package web is the HTTP plumbing every portal page shares (the sign-in
// pages, Security info, and the pages still to come): the services they
// use, reading small forms, message and error pages, the client's address
// and the cross-origin check, and the few view helpers several pages show
// alike (an enrolment QR code, a last use, a user agent), so no page
// package imports another. Pages translate HTTP into calls on those
// services and results into responses; nothing here decides anything.
package web

import (
	"net"
	"net/http"
	"strings"

	"go.uber.org/zap"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/session"
	"github.com/mfagate/mfagate/loginui"
)

// MaxFormBytes bounds a posted form; the real ones are tiny (the largest,
// a passkey's answer with attestation "none", is about 2 KiB).
const MaxFormBytes = 16 << 10

// Deps are the services every portal page uses.
type Deps struct {
	// Core is the only way pages read or change accounts and methods.
	Core     *core.Core
	Sessions *session.Manager
	// Codes checks authenticator codes and seals their secrets.
	Codes  *core.Codes
	UI     *loginui.Renderer
	Audit  *audit.Log
	Logger *zap.Logger
	// ClientIP returns the client address as the server trusts it (Caddy's
	// trusted-proxies handling); defaults to the connection's address.
	ClientIP func(*http.Request) string
}

// WithDefaults fills what may be left out: a logger that discards, and
// the connection's address as the client's.
func (d Deps) WithDefaults() Deps {
	if d.Logger == nil {
		d.Logger = zap.NewNop()
	}
	if d.ClientIP == nil {
		d.ClientIP = RemoteIP
	}
	return d
}

// RemoteIP is the connection's address without the port (and without the
// brackets of an IPv6 literal).
func RemoteIP(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return strings.Trim(r.RemoteAddr, "[]")
}

// Responder writes the pages a group of portal pages shares: messages
// with a fixed way back, error pages, and forms read within bounds.
type Responder struct {
	UI     *loginui.Renderer
	Logger *zap.Logger
	Issuer string
	Prefix string // portal prefix, e.g. "/.mfa/"
	// BackText and BackHref are the link under every message.
	BackText, BackHref string
	// Unavailable is what an internal error tells the user.
	Unavailable string
}

// Common fills what every page shows; u may be nil.
func (p Responder) Common(title string, u *model.User) loginui.Common {
	c := loginui.Common{Title: title, Issuer: p.Issuer, Prefix: p.Prefix}
	if u != nil {
		c.User = DisplayName(u)
	}
	return c
}

// DisplayName is how pages name a user.
func DisplayName(u *model.User) string {
	if u.DisplayName != "" {
		return u.DisplayName
	}
	return u.Username
}

// Message renders a message page with the Responder's way back.
func (p Responder) Message(w http.ResponseWriter, status int, heading, msg string) {
	p.UI.Render(w, status, loginui.MessagePage{
		Common:   p.Common(heading, nil),
		Heading:  heading,
		Message:  msg,
		LinkText: p.BackText,
		LinkHref: p.BackHref,
	})
}

// InternalError logs err and shows a calm page: the details are for the
// log, never for the user.
func (p Responder) InternalError(w http.ResponseWriter, r *http.Request, what string, err error) {
	p.Logger.Error(what, zap.Error(err), zap.String("path", r.URL.Path))
	p.Message(w, http.StatusServiceUnavailable, "Something went wrong", p.Unavailable)
}

// ReadForm parses a small urlencoded body; false means a response (400)
// was sent.
func (p Responder) ReadForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, MaxFormBytes)
	if err := r.ParseForm(); err != nil {
		p.Message(w, http.StatusBadRequest, "Bad request", "The form could not be read. Please try again.")
		return false
	}
	return true
}

// CrossOriginProtected passes every unsafe request through net/http's
// CrossOriginProtection; refused ones get a message page.
func (p Responder) CrossOriginProtected(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.Message(w, http.StatusForbidden, "Request blocked",
			"This form was submitted from another site, so it was not accepted. Go back to the sign-in page and try again.")
	}))
	return cop.Handler(next)
}
