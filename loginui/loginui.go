// Package loginui renders the mfagate sign-in portal: server-side
// html/template pages plus embedded static assets (one CSS file, one small JS
// file). Nothing is loaded from a CDN and nothing is inlined, so the pages
// work under the strict Content-Security-Policy in [ContentSecurityPolicy].
//
// JavaScript is progressive enhancement only (copy buttons for the TOTP key
// and new app passwords, stripping spaces from code fields); every page works
// without it.
package loginui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/mfagate/mfagate/internal/humanize"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// ContentSecurityPolicy is the policy sent with every portal page.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// SecurityHeaders sets the security headers sent with every portal page on h:
// Content-Security-Policy, Referrer-Policy: no-referrer,
// X-Content-Type-Options: nosniff, X-Frame-Options: DENY and
// Cross-Origin-Opener-Policy: same-origin. It does not touch Content-Type or
// Cache-Control.
func SecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
}

// Page is one of the portal pages defined in this package.
type Page interface{ pageName() string }

// cspExtender is a page that needs more than [ContentSecurityPolicy]
// allows (say, fetch to its own origin); what it adds is all it gets
// ("": nothing this time).
type cspExtender interface{ extraCSP() string }

// Common is embedded in every page.
type Common struct {
	Title  string // page title, e.g. "Sign in"; a per-page default is used when empty
	Issuer string // organisation name shown in the header, e.g. "Example Corp"
	Prefix string // portal prefix ending in "/", e.g. "/.mfa/"; static assets at Prefix+"static/..."
	User   string // display name of the signed-in (or half-signed-in) user, "" when none
}

// LoginPage is the username/password form, posted to Prefix+"login" with the
// fields username, password and the hidden rd.
type LoginPage struct {
	Common
	Username string // pre-filled username (after a failed attempt)
	RD       string // redirect target carried through the form
	Error    string
	// ErrorField is the field Error asks to fix, "username" or "password"
	// (marked aria-invalid and focused); "" when Error is about neither
	// (a blocked account, a busy server): focus then goes to the password
	// when the username is known.
	ErrorField string
	// AccessPass is the "Use a Temporary Access Pass" link ("" :
	// Prefix+"access-pass").
	AccessPass string
	// Passkey offers passwordless sign-in with a passkey (the site allows
	// it and its host is under the RP ID): the username field gets
	// autocomplete="username webauthn", so the browser may suggest the
	// passkeys it holds there (conditional mediation), and a "Sign in with
	// a passkey" button appears once passkey-login.js finds WebAuthn. The
	// script posts to Prefix+"login/passkey/options" for the options (its
	// challenge comes back in a cookie, nothing is stored) and submits the
	// answer as field credential (with rd) to Prefix+"login/passkey".
	Passkey bool
}

// extraCSP lets passkey-login.js fetch the options from the portal.
func (p LoginPage) extraCSP() string {
	if p.Passkey {
		return "connect-src 'self'"
	}
	return ""
}

// FocusField is the id of the field that gets the focus.
func (p LoginPage) FocusField() string {
	if p.ErrorField != "" {
		return p.ErrorField
	}
	if p.Username != "" {
		return "password"
	}
	return "username"
}

// VerifyCodePage asks for a 6-digit one-time code, posted to Prefix+"verify"
// as field code. It also offers "Sign in as someone else" (POST Prefix+"logout").
type VerifyCodePage struct {
	Common
	Error string
	// CanUsePhone offers "Approve a request on my phone instead" (POST
	// Prefix+"push/new").
	CanUsePhone bool
	OtherWays
}

// EnrolTOTPPage walks the user through registering an authenticator app and
// confirming it with a code, posted to Prefix+"enrol" as field code.
type EnrolTOTPPage struct {
	Common
	QRDataURI template.URL // data:image/png;base64,... of the otpauth:// QR code
	Secret    string       // base32 secret, shown in groups of 4
	Account   string       // account label as it appears in the app
	Error     string
}

// LogoutPage confirms signing out: POST Prefix+"logout", or Cancel to "/".
type LogoutPage struct {
	Common
}

// MessagePage is a generic information or error page.
type MessagePage struct {
	Common
	Heading  string
	Message  string
	LinkText string // defaults to "Continue" when LinkHref is set
	LinkHref string // no link when empty
}

// SecurityPage is "Security info", laid out as the seed's page: the
// default sign-in method (with a form, POST Prefix+"security/default",
// field method, only when there is a choice), "+ Add sign-in method" (a
// link to Prefix+"security/add", the [AddMethodPage]), ONE list of the user's methods in which
// authenticator apps, phones and app passwords are rows with Rename
// (Prefix+"security/rename?kind=…&id=…", a [RenameMethodPage]) and Delete
// (Prefix+"security/delete?kind=…&id=…", a [DeleteMethodPage] that
// confirms), then the Account actions (a link to Prefix+"security/password",
// a [ChangePasswordPage]; a POST form to Prefix+"security/sign-out-everywhere"),
// the recent activity, and sign out (POST Prefix+"logout").
type SecurityPage struct {
	Common
	Notice         string         // confirmation shown in a role="status" box, e.g. "App password deleted." ("" = none)
	Error          string         // shown in a role="alert" box
	DefaultMethod  string         // "code", "push" or ""
	DefaultChoices []MethodChoice // the methods the user could make their default; Change is offered only for two or more
	Authenticators []AuthenticatorRow
	AppPasswords   []AppPasswordRow
	Devices        []DeviceRow
	Passkeys       []PasskeyRow
	// Activity is the user's recent sign-ins, newest first.
	Activity []ActivityRow
	MFAState string // "disabled", "enabled" or "enforced"; shown as a badge ("" = none)
	// AppHref is the "Back to the app" link ("" = none: on the portal
	// origin there is no app to go back to).
	AppHref string
	// AccessPass: the session signed in with a Temporary Access Pass,
	// which only adds a sign-in method (a banner says so, and the page
	// shows no control the session could not use).
	AccessPass bool
	// Recovery is the "Recovery codes" row and the notices of recoveries.
	Recovery RecoveryInfo
}

// AddMethodPage is "Add a sign-in method", the seed's chooser behind
// "+ Add sign-in method": the methods the user may add, each with a line
// on what it is and its own link to its add flow (GET
// Prefix+"security/add?method=…", which asks for a recent second factor
// before it stores anything), and a line for each method not offered
// saying why. It only links: nothing changes until a flow's own POST.
type AddMethodPage struct {
	Common
	Options []AddMethodOption
	Missing []string // why a method is not offered, one line each
}

// AddMethodOption is one method the [AddMethodPage] offers.
type AddMethodOption struct {
	Method      string // field method of its add flow: "authenticator", "phone" or "app-password"
	Label       string // e.g. "Authenticator app" or [PhoneMethod]
	Description string // one line on what it is for
}

// PhoneMethod is the one name of a paired phone that approves sign-ins
// (a browser page on the phone, not an app): in Security info, its "Add
// sign-in method" list and default-method choice, the pairing page and the
// admin center.
const PhoneMethod = "Phone (sign-in approval)"

// Kinds of sign-in method a [RenameMethodPage] or [DeleteMethodPage] is
// about (field kind).
const (
	KindAuthenticator = "authenticator"
	KindPhone         = "phone"
	KindAppPassword   = "app-password"
)

// MethodRef names one of the user's sign-in methods on the pages that
// rename or delete it.
type MethodRef struct {
	Kind string // KindAuthenticator, KindPhone, KindPasskey or KindAppPassword
	ID   int64
	Type string // what it is, e.g. "Authenticator app"
	Name string // what the user called it
}

// RenameMethodPage asks for a new name of an authenticator app or a
// phone, posted to Prefix+"security/rename" as fields kind, id and name.
type RenameMethodPage struct {
	Common
	Method  MethodRef
	Name    string // the name in the field (the current one, or the refused one)
	MaxName int    // in characters
	Error   string // why the name was refused; linked to the field
}

// DeleteMethodPage is the confirmation step before a sign-in method is
// deleted: a POST form to Action (field id), the only way to delete.
type DeleteMethodPage struct {
	Common
	Method      MethodRef
	Action      string // e.g. "/.mfa/security/authenticator/delete"
	Consequence string // what deleting it does, e.g. "Apps that use it can no longer sign in."
}

// MethodChoice is one option of the default-method selector, e.g.
// {"code", "Authenticator app or hardware token – code"} or {"push", PhoneMethod}.
type MethodChoice struct{ Value, Label string }

// AuthenticatorRow is one registered authenticator app on the [SecurityPage].
type AuthenticatorRow struct {
	ID           int64
	Name         string
	Added        string // e.g. "2026-11-25"
	CanDelete    bool
	WhyNotDelete string // shown next to the disabled Delete button when !CanDelete
}

// ActivityRow is one sign-in attempt in the [SecurityPage]'s recent
// activity.
type ActivityRow struct {
	When    string // e.g. "2026-11-25 12:00 UTC"
	Site    string
	From    string // client IP
	Client  string // "browser" or "non-browser"
	Method  string // e.g. "password + code", "app password"
	Success bool
	Reason  string // why it failed
}

// AppPasswordRow is one app password on the [SecurityPage].
type AppPasswordRow struct {
	ID       int64
	Name     string
	Created  string
	LastUsed string // e.g. "2026-11-25 12:00 UTC from 192.0.2.1" or "Never"
}

// NewAppPasswordPage asks for the app password's name, posted to
// Prefix+"security/app-password" as field name.
type NewAppPasswordPage struct {
	Common
	Name  string // pre-filled name (after a failed attempt)
	Error string
	Count int // app passwords the user has; "Count of Limit" is shown when Limit > 0
	Limit int
}

// AppPasswordCreatedPage shows a new app password exactly once.
type AppPasswordCreatedPage struct {
	Common
	Name     string
	Password string // 16 lowercase letters; shown in groups of 4, copied without spaces
}

// ReverifyPage asks for a fresh authenticator code before a change to
// sign-in methods, posted to Prefix+"security/reverify" as fields code and
// next.
type ReverifyPage struct {
	Common
	Error string
	Next  string // path to return to, already validated by the caller
	// NoCode: the user has no authenticator app (no code form).
	NoCode bool
	// CanPhone offers a request to the paired phone instead, posted to
	// Prefix+"security/reverify/push" with Next.
	CanPhone bool
	// CanPasskey offers a passkey (passkey.js: the options by POST to
	// Prefix+"security/reverify/passkey/options", the answer posted to
	// Prefix+"security/reverify/passkey" as field response, with Next).
	CanPasskey bool
}

// PasskeyForm is the page's passkey form (when CanPasskey).
func (p ReverifyPage) PasskeyForm() PasskeyForm {
	return PasskeyForm{ID: "reverify-passkey", Action: p.Prefix + "security/reverify/passkey",
		Options: p.Prefix + "security/reverify/passkey/options", Fields: []HiddenField{{Name: "next", Value: p.Next}},
		Cancel: p.Prefix + "security", Others: !p.NoCode || p.CanPhone, Prefix: p.Prefix}
}

// PasskeyForm is a re-verification with a passkey, the same form on
// Security info ([ReverifyPage]) and in the admin center ([AdminVerify]):
// passkey.js fetches the options by POST to Options (with the form's
// fields) and posts the answer to Action as field response, with Fields.
type PasskeyForm struct {
	ID      string // the form's id
	Action  string
	Options string
	Fields  []HiddenField
	Cancel  string // where Cancel leads ("": no Cancel)
	// Others: other ways to verify follow the form.
	Others bool
	Prefix string // the portal prefix, for the scripts
}

// extraCSP lets passkey.js fetch a passkey's options from the portal
// (only when a passkey is offered).
func (p ReverifyPage) extraCSP() string {
	if !p.CanPasskey {
		return ""
	}
	return "connect-src 'self'"
}

// EnrolAnotherTOTPPage adds an authenticator app from the Security info page:
// the same steps as [EnrolTOTPPage], posted to Prefix+"security/authenticator"
// as field code.
type EnrolAnotherTOTPPage struct {
	Common
	QRDataURI template.URL // data:image/png;base64,... of the otpauth:// QR code
	Secret    string       // base32 secret, shown in groups of 4
	Account   string       // account label as it appears in the app
	Error     string
	// Pending is the new secret sealed for this user (opaque base64),
	// posted back with the code, so showing the page changes no state.
	Pending string
}

func (LoginPage) pageName() string              { return "login" }
func (VerifyCodePage) pageName() string         { return "verify" }
func (EnrolTOTPPage) pageName() string          { return "enrol" }
func (LogoutPage) pageName() string             { return "logout" }
func (MessagePage) pageName() string            { return "message" }
func (SecurityPage) pageName() string           { return "security" }
func (NewAppPasswordPage) pageName() string     { return "app-password-new" }
func (AppPasswordCreatedPage) pageName() string { return "app-password-created" }
func (ReverifyPage) pageName() string           { return "reverify" }
func (EnrolAnotherTOTPPage) pageName() string   { return "enrol-another" }
func (AddMethodPage) pageName() string          { return "security-add" }
func (RenameMethodPage) pageName() string       { return "security-rename" }
func (DeleteMethodPage) pageName() string       { return "security-delete" }

var pageNames = []string{
	"login", "verify", "enrol", "logout", "message",
	"security", "security-add", "security-rename", "security-delete", "app-password-new", "app-password-created", "reverify", "enrol-another",
	"approval-wait", "pair-phone", "change-password", "passkey", "security-passkey",
	"choose-password",
	"admin-users", "admin-user", "admin-confirm", "admin-result", "admin-signins",
	"admin-add-user",
	"access-pass",
	"recovery-code", "recovery-used", "recovery-notice", "recovery-codes", "recovery-codes-created",
}

// Renderer renders portal pages. Parsed once; safe for concurrent use.
type Renderer struct {
	pages map[string]*template.Template

	// logger receives template execution errors (Caddy's logger in a
	// server); nil discards them.
	logger *zap.Logger
}

// New parses the embedded templates; logger (nil discards) receives
// rendering errors.
func New(logger *zap.Logger) (*Renderer, error) {
	funcs := template.FuncMap{
		"group4":        group4,
		"compact":       compact,
		"methodLabel":   methodLabel,
		"stateLabel":    stateLabel,
		"phoneMethod":   func() string { return PhoneMethod },
		"passkeyMethod": func() string { return PasskeyMethod },
		"assetVersion":  func() string { return assetVersion },
		"chunks4":       chunks4,
		"duration":      humanize.Duration,
	}
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/totp-parts.html", "templates/admin-parts.html")
	if err != nil {
		return nil, fmt.Errorf("loginui: parse layout: %w", err)
	}
	r := &Renderer{pages: make(map[string]*template.Template, len(pageNames)), logger: logger}
	for _, name := range pageNames {
		t, err := base.Clone()
		if err != nil {
			return nil, fmt.Errorf("loginui: clone layout: %w", err)
		}
		if _, err := t.ParseFS(templateFS, "templates/"+name+".html"); err != nil {
			return nil, fmt.Errorf("loginui: parse %s: %w", name, err)
		}
		if t.Lookup("content") == nil {
			return nil, fmt.Errorf("loginui: template %s defines no content", name)
		}
		r.pages[name] = t
	}
	return r, nil
}

// Render writes page with status (0 means 200), setting
// Content-Type: text/html; charset=utf-8, Cache-Control: no-store and
// [SecurityHeaders]. The template is executed into a buffer first, so a
// template error (or an unknown page) yields a plain-text 500, never half a
// page.
func (r *Renderer) Render(w http.ResponseWriter, status int, page Page) {
	h := w.Header()
	SecurityHeaders(h)
	if extra := extraCSPOf(page); extra != "" {
		h.Set("Content-Security-Policy", ContentSecurityPolicy+"; "+extra)
	}
	h.Set("Cache-Control", "no-store")
	if status == 0 {
		status = http.StatusOK
	}
	var buf bytes.Buffer
	err := r.execute(&buf, page)
	if err == nil && (status < 200 || status > 599) {
		err = fmt.Errorf("loginui: invalid status %d", status)
	}
	if err != nil {
		r.logError(err)
		h.Del("Content-Length")
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (r *Renderer) execute(buf *bytes.Buffer, page Page) (err error) {
	if r == nil || r.pages == nil {
		return errors.New("loginui: Renderer not initialised (use New)")
	}
	name, ok := safePageName(page)
	if !ok {
		return fmt.Errorf("loginui: cannot render %T", page)
	}
	t := r.pages[name]
	if t == nil {
		return fmt.Errorf("loginui: unknown page %q (%T)", name, page)
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("loginui: panic rendering %s: %v", name, p)
		}
	}()
	return t.ExecuteTemplate(buf, "layout", page)
}

// extraCSPOf is what page adds to the policy ("" when nothing), guarded
// against typed nil pointers as safePageName is.
func extraCSPOf(page Page) (extra string) {
	x, ok := page.(cspExtender)
	if !ok {
		return ""
	}
	defer func() {
		if recover() != nil {
			extra = ""
		}
	}()
	return x.extraCSP()
}

// safePageName guards against nil pages and typed nil pointers.
func safePageName(p Page) (name string, ok bool) {
	if p == nil {
		return "", false
	}
	defer func() {
		if recover() != nil {
			name, ok = "", false
		}
	}()
	return p.pageName(), true
}

func (r *Renderer) logError(err error) {
	if r != nil && r.logger != nil {
		r.logger.Error("rendering page", zap.Error(err))
	}
}

// group4 formats a secret in space-separated groups of four characters,
// ignoring any whitespace already present.
func group4(s string) string {
	s = compact(s)
	var b strings.Builder
	for i, c := range []rune(s) {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// chunks4 splits s (without whitespace) into groups of four characters,
// for a secret shown in groups without spaces that would be copied too.
func chunks4(s string) []string {
	var out []string
	for r := []rune(compact(s)); len(r) > 0; r = r[min(4, len(r)):] {
		out = append(out, string(r[:min(4, len(r))]))
	}
	return out
}

// compact removes all whitespace from s.
func compact(s string) string { return strings.Join(strings.Fields(s), "") }

// methodLabel is the label of the default sign-in method value: the matching
// choice's label, a built-in label for "code" and "push", "None" when empty.
func methodLabel(choices []MethodChoice, value string) string {
	for _, c := range choices {
		if c.Value == value && c.Label != "" {
			return c.Label
		}
	}
	switch value {
	case "":
		return "None"
	case "code":
		return "Authenticator app – code"
	case "push":
		return PhoneMethod
	case "passkey":
		return PasskeyMethod
	}
	return value
}

// stateLabel capitalises a multi-factor state for display ("enforced" -> "Enforced").
func stateLabel(s string) string {
	if s == "" {
		return ""
	}
	r := []rune(s)
	return strings.ToUpper(string(r[:1])) + string(r[1:])
}

// Static asset serving.

type asset struct {
	data  []byte
	ctype string
	etag  string
}

var (
	assets       map[string]asset
	assetVersion string // short hash over all assets, used as ?v= cache buster
)

func init() {
	assets = make(map[string]asset)
	all := sha256.New()
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		name := strings.TrimPrefix(p, "static/")
		all.Write([]byte(name))
		all.Write(sum[:])
		assets[name] = asset{
			data:  data,
			ctype: contentType(name),
			etag:  `"` + hex.EncodeToString(sum[:8]) + `"`,
		}
		return nil
	})
	if err != nil {
		panic("loginui: reading embedded static files: " + err.Error())
	}
	assetVersion = hex.EncodeToString(all.Sum(nil)[:6])
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".css":
		return "text/css; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	default:
		return "application/octet-stream"
	}
}

// AssetVersion is a short content hash of the embedded static files; the
// pages reference assets as static/<file>?v=<AssetVersion>.
func AssetVersion() string { return assetVersion }

// Static serves the embedded assets (mount it at <prefix>static/ with
// http.StripPrefix). Responses carry a correct Content-Type, an ETag,
// X-Content-Type-Options: nosniff and long cache headers (immutable for a
// year when the request carries the current ?v= version, a day otherwise).
// Unknown paths and directories get 404; methods other than GET/HEAD 405.
func Static() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		a, ok := assets[strings.TrimPrefix(r.URL.Path, "/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h.Set("Content-Type", a.ctype)
		h.Set("ETag", a.etag)
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		if r.URL.Query().Get("v") == assetVersion {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "public, max-age=86400")
		}
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.data))
	})
}
