package web

import (
	"encoding/json"
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

// WriteJSON answers a page's script (passkey.js) with body, JSON
// already, such as a ceremony's options; never cached.
func WriteJSON(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(body)
}

// WriteJSONError answers a page's script (passkey.js) with words for its
// page, as {"error": msg}.
func WriteJSONError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
