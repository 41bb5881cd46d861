package phoneportal

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"go.uber.org/zap"

	"github.com/mfagate/mfagate/internal/core"
)

// Web app manifests. The app's manifest starts at /phone/. On iOS a
// Safari tab and a Home Screen app keep separate storage, and only the app
// gets notifications, so the pairing page in a Safari tab links a
// per-link manifest whose start_url carries the pairing link: the Home
// Screen app opens the link and pairs itself. The per-link manifest is
// named by an opaque handle the core keeps with the link (see
// core.Phones.ManifestHandle), so it lives as long as the link and any
// node serves it.

const (
	manifestExt = ".webmanifest"
	// themeColor is the accent of the pages (app.css --accent).
	themeColor = "#0067b8"
)

type manifestIcon struct {
	Src     string `json:"src"`
	Sizes   string `json:"sizes"`
	Type    string `json:"type"`
	Purpose string `json:"purpose"`
}

type webManifest struct {
	ID              string         `json:"id"`
	Name            string         `json:"name"`
	ShortName       string         `json:"short_name"`
	Description     string         `json:"description"`
	StartURL        string         `json:"start_url"`
	Scope           string         `json:"scope"`
	Display         string         `json:"display"`
	BackgroundColor string         `json:"background_color"`
	ThemeColor      string         `json:"theme_color"`
	Icons           []manifestIcon `json:"icons"`
}

// manifest returns the manifest of the app starting at startURL.
func (h *Handler) manifest(startURL string) []byte {
	name := strings.TrimSpace(h.cfg.Issuer)
	if name == "" {
		name = "mfagate"
	}
	m := webManifest{
		ID:              Prefix,
		Name:            name + " sign-in",
		ShortName:       name,
		Description:     "Approve sign-ins to " + name + " on this phone",
		StartURL:        startURL,
		Scope:           Prefix,
		Display:         "standalone",
		BackgroundColor: "#ffffff",
		ThemeColor:      themeColor,
	}
	for _, size := range iconSizes {
		if size == appleIconSize {
			continue // iOS takes it from apple-touch-icon
		}
		s := strconv.Itoa(size)
		m.Icons = append(m.Icons, manifestIcon{Src: iconPath(size), Sizes: s + "x" + s, Type: "image/png", Purpose: "any"})
		if size == maskableIconSize {
			m.Icons = append(m.Icons, manifestIcon{Src: iconPath(size), Sizes: s + "x" + s, Type: "image/png", Purpose: "maskable"})
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic("phoneportal: manifest: " + err.Error()) // only strings and slices
	}
	return b
}

func writeManifest(w http.ResponseWriter, b []byte, cache string) {
	h := w.Header()
	h.Set("Content-Type", "application/manifest+json")
	h.Set("Cache-Control", cache)
	_, _ = w.Write(b)
}

// GET /phone/manifest.webmanifest
func (h *Handler) serveAppManifest(w http.ResponseWriter, r *http.Request) {
	if !readOnly(w, r) {
		return
	}
	writeManifest(w, h.appManifest, "no-cache")
}

// GET /phone/manifest/HANDLE.webmanifest: the per-link manifest.
func (h *Handler) serveLinkManifest(w http.ResponseWriter, r *http.Request) {
	if !readOnly(w, r) {
		return
	}
	handle, ok := strings.CutSuffix(r.PathValue("file"), manifestExt)
	if !ok || !validID(handle) {
		h.notFound(w, r)
		return
	}
	token, err := h.core.Phones.ManifestToken(r.Context(), handle)
	switch {
	case errors.Is(err, core.ErrPairingInvalid):
		h.message(w, http.StatusNotFound, "Link expired", "This pairing link is not valid any more: make a new one in Security info.")
		return
	case err != nil:
		h.log.Error("phone portal: link manifest", zap.Error(err))
		h.message(w, http.StatusInternalServerError, "Something went wrong", msgUnavailable)
		return
	}
	writeManifest(w, h.manifest(Prefix+"pair#t="+string(token)), "no-store")
}
