package loginui

import "net/http"

// The paired phone's pages (internal/phoneportal serves them on the portal
// origin under /phone/). They are shells for static/phone.js, which does
// the work with WebCrypto, IndexedDB, fetch and a service worker; without
// JavaScript they only say that they need it.

// PhoneContentSecurityPolicy is the policy of the phone pages and their
// service worker: [ContentSecurityPolicy] plus same-origin fetches (the
// phone's signed API calls), the web app manifest and the service worker.
// Nothing else is loosened: still no inline script or style.
const PhoneContentSecurityPolicy = ContentSecurityPolicy +
	"; connect-src 'self'; manifest-src 'self'; worker-src 'self'"

// PhonePairPage pairs this phone through the link in the Security info QR
// code (the token is in the URL fragment, read by the script).
type PhonePairPage struct {
	Common
}

// PhoneAppPage is the installed app: it shows the pending sign-in request
// and answers it.
type PhoneAppPage struct {
	Common
}

func (PhonePairPage) pageName() string { return "phone-pair" }
func (PhoneAppPage) pageName() string  { return "phone-app" }

func init() {
	pageNames = append(pageNames, "phone-pair", "phone-app")
}

// RenderPhone renders a phone page like [Renderer.Render], with
// [PhoneContentSecurityPolicy] instead of the portal's policy.
func (r *Renderer) RenderPhone(w http.ResponseWriter, status int, page Page) {
	r.Render(phoneCSPWriter{w}, status, page)
}

// phoneCSPWriter replaces the policy Render sets just before the header
// is written (Render always calls WriteHeader before Write).
type phoneCSPWriter struct{ http.ResponseWriter }

func (w phoneCSPWriter) WriteHeader(status int) {
	w.Header().Set("Content-Security-Policy", PhoneContentSecurityPolicy)
	w.ResponseWriter.WriteHeader(status)
}

func (w phoneCSPWriter) Write(b []byte) (int, error) {
	w.Header().Set("Content-Security-Policy", PhoneContentSecurityPolicy)
	return w.ResponseWriter.Write(b)
}

// PhoneServiceWorker returns static/phone-sw.js, the phone's service
// worker. It must be served at /phone/sw.js (its scope is the folder it is
// served from), not from static/.
func PhoneServiceWorker() []byte {
	return assets["phone-sw.js"].data
}
