package web

import (
	"net/http"

	"github.com/mfagate/mfagate/internal/core"
)

// PasskeySite is where a passkey ceremony of r runs: its scheme (https
// when the request came over TLS, else http, which only localhost may
// use) and its Host as the browser sent it, whose origin the answer must
// name exactly.
func PasskeySite(r *http.Request) core.PasskeySite {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return core.PasskeySite{Scheme: scheme, Host: r.Host}
}

// MaxPasskeyAnswer bounds a passkey answer (the PublicKeyCredential as
// JSON) a page reads: far above any authenticator's.
const MaxPasskeyAnswer = 64 << 10
