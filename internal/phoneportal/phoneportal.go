// Package phoneportal serves the paired phone's part of the portal origin,
// everything under /phone/: the pairing page the Security info QR code
// links to, the installed app that shows and answers sign-in requests,
// their web app manifests, service worker and icons, and the JSON API the
// pages call.
//
// There are no cookies here. A phone proves itself by signing each call
// with the P-256 key it made at pairing (internal/devicekey), over a
// single-use nonce it fetched just before; the domain core checks the
// signature and the nonce. The pages are shells for loginui's phone.js.
package phoneportal

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/web"
	"github.com/mfagate/mfagate/loginui"
)

// Prefix is where the phone pages live on the portal origin.
const Prefix = "/phone/"

// Deps are the shared services the phone pages use.
type Deps struct {
	// Core is the only way the pages reach phones and requests.
	Core   *core.Core
	UI     *loginui.Renderer
	Logger *zap.Logger // nil: none
	// ClientIP returns the client address as the server trusts it (Caddy's
	// trusted-proxies handling); nil: the connection's address.
	ClientIP func(*http.Request) string
}

// Config is per portal origin.
type Config struct {
	// Issuer names the organisation on the pages, in the app's name and
	// in notifications.
	Issuer string
	// VAPIDPublicKey is the push application server key (unpadded
	// base64url of the uncompressed P-256 point); "" when push is off.
	VAPIDPublicKey string
}

// Handler serves /phone/ on the portal origin; other paths get 404.
type Handler struct {
	core *core.Core
	ui   *loginui.Renderer
	log  *zap.Logger
	cfg  Config
	api  map[string]endpoint
	// clientIP and nonces limit the nonces one client address gets.
	clientIP func(*http.Request) string
	nonces   *addrLimiter
	handler  http.Handler
	// appManifest and worker are fixed per config.
	appManifest []byte
	worker      []byte
	now         func() time.Time
}

// New builds the handler. Every POST passes net/http's cross-origin check
// and must be JSON.
func New(d Deps, cfg Config) *Handler {
	if d.Logger == nil {
		d.Logger = zap.NewNop()
	}
	if d.ClientIP == nil {
		d.ClientIP = web.RemoteIP
	}
	h := &Handler{core: d.Core, ui: d.UI, log: d.Logger, cfg: cfg, now: time.Now,
		clientIP: d.ClientIP, nonces: newAddrLimiter(nonceLimit, nonceWindow)}
	h.api = h.endpoints()
	h.appManifest = h.manifest(Prefix)
	issuer, _ := json.Marshal(cfg.Issuer)
	// The directive comes first, or the worker would not run in strict
	// mode (the file's own directive follows a statement).
	h.worker = append([]byte("'use strict';\nself.MFAGATE_ISSUER = "+string(issuer)+";\n"), loginui.PhoneServiceWorker()...)
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(h.crossOrigin))
	h.handler = cop.Handler(h.routes())
	return h
}

// ServeHTTP answers every request of the portal origin routed here.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	loginui.SecurityHeaders(w.Header())
	h.handler.ServeHTTP(w, r)
}

func (h *Handler) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(Prefix+"{$}", h.appPage)
	mux.HandleFunc(Prefix+"pair", h.pairPage)
	mux.HandleFunc(Prefix+"manifest.webmanifest", h.serveAppManifest)
	mux.HandleFunc(Prefix+"manifest/{file}", h.serveLinkManifest)
	mux.HandleFunc(Prefix+"sw.js", h.serviceWorker)
	for _, size := range iconSizes {
		mux.HandleFunc(iconPath(size), h.icon(size))
	}
	mux.Handle(Prefix+"static/", http.StripPrefix(Prefix+"static/", loginui.Static()))
	mux.HandleFunc(Prefix+"api/{name}", h.serveAPI)
	mux.HandleFunc(Prefix+"api/", h.apiNotFound)
	mux.HandleFunc("/", h.notFound)
	return mux
}

// common fills what every phone page shows.
func (h *Handler) common(title string) loginui.Common {
	return loginui.Common{Title: title, Issuer: h.cfg.Issuer, Prefix: Prefix}
}

func (h *Handler) pairPage(w http.ResponseWriter, r *http.Request) {
	if !readOnly(w, r) {
		return
	}
	h.ui.RenderPhone(w, http.StatusOK, loginui.PhonePairPage{Common: h.common("Pair this phone")})
}

func (h *Handler) appPage(w http.ResponseWriter, r *http.Request) {
	if !readOnly(w, r) {
		return
	}
	h.ui.RenderPhone(w, http.StatusOK, loginui.PhoneAppPage{Common: h.common("Sign-in requests")})
}

// serviceWorker serves the worker at /phone/sw.js, so that its scope is
// /phone/; browsers check it for updates on every registration.
func (h *Handler) serviceWorker(w http.ResponseWriter, r *http.Request) {
	if !readOnly(w, r) {
		return
	}
	hd := w.Header()
	hd.Set("Content-Security-Policy", loginui.PhoneContentSecurityPolicy)
	hd.Set("Content-Type", "text/javascript; charset=utf-8")
	hd.Set("Cache-Control", "no-cache")
	_, _ = w.Write(h.worker)
}

// readOnly allows GET and HEAD; false means a 405 was sent.
func readOnly(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	http.Error(w, "This page does not accept that kind of request.", http.StatusMethodNotAllowed)
	return false
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.message(w, http.StatusNotFound, "Page not found", "There is no page at this address.")
}

func (h *Handler) message(w http.ResponseWriter, status int, heading, msg string) {
	h.ui.RenderPhone(w, status, loginui.MessagePage{Common: h.common(heading), Heading: heading, Message: msg})
}

// crossOrigin answers what CrossOriginProtection refuses: a POST from
// another site.
func (h *Handler) crossOrigin(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, Prefix+"api/") {
		writeError(w, errorf(http.StatusForbidden, "This request came from another site, so it was not accepted."))
		return
	}
	h.message(w, http.StatusForbidden, "Request blocked", "This request came from another site, so it was not accepted.")
}
