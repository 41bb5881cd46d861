package phoneportal

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/secrets"
)

// Web app manifests. The app's manifest starts at /phone/. On iOS a
// Safari tab and a Home Screen app keep separate storage, and only the app
// gets notifications, so the pairing page in a Safari tab links a
// per-link manifest whose start_url carries the pairing link: the Home
// Screen app opens the link and pairs itself. The per-link manifest's id
// is the token sealed with an expiry (AES-256-GCM), so the token never
// shows in a URL or a log and any node with the key serves it.

const (
	manifestExt = ".webmanifest"
	// manifestAAD binds sealed ids to this use.
	manifestAAD = "mfagate/phone-manifest/v1"
	// linkTTL is how long a per-link manifest is served: as long as the
	// pairing link it carries lives.
	linkTTL = core.PairingTTL
	// themeColor is the accent of the pages (app.css --accent).
	themeColor = "#0067b8"
)

// manifestBox derives the sealing key from the configured one, or makes
// a random one for this process.
func manifestBox(key []byte, log *zap.Logger) *secrets.Box {
	if len(key) == 0 {
		log.Warn("phone portal: no manifest key configured; iOS Home Screen installs work only on the node that served the pairing page")
		var err error
		if key, err = secrets.RandomBytes(32); err != nil {
			panic("phoneportal: random key: " + err.Error())
		}
	}
	box, err := secrets.NewBox(secrets.Derive(key, manifestAAD))
	if err != nil {
		// Derive gives 32 bytes, which NewBox always takes.
		panic("phoneportal: " + err.Error())
	}
	return box
}

// sealLink makes the id of token's manifest: base64url(seal(expiry ‖
// token)).
func (h *Handler) sealLink(token string) (string, error) {
	plain := binary.BigEndian.AppendUint64(nil, uint64(h.now().Add(linkTTL).Unix()))
	plain = append(plain, token...)
	sealed, err := h.box.Seal(plain, []byte(manifestAAD))
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(sealed), nil
}

// openLink returns the token sealed in id, if it is unexpired.
func (h *Handler) openLink(id string) (string, bool) {
	if len(id) > 512 {
		return "", false
	}
	sealed, err := base64.RawURLEncoding.Strict().DecodeString(id)
	if err != nil {
		return "", false
	}
	plain, err := h.box.Open(sealed, []byte(manifestAAD))
	if err != nil || len(plain) <= 8 {
		return "", false
	}
	expires := time.Unix(int64(binary.BigEndian.Uint64(plain[:8])), 0)
	token := string(plain[8:])
	if !h.now().Before(expires) || !validID(token) {
		return "", false
	}
	return token, true
}

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

// GET /phone/manifest/ID.webmanifest: the per-link manifest.
func (h *Handler) serveLinkManifest(w http.ResponseWriter, r *http.Request) {
	if !readOnly(w, r) {
		return
	}
	id, ok := strings.CutSuffix(r.PathValue("file"), manifestExt)
	if !ok {
		h.notFound(w, r)
		return
	}
	token, ok := h.openLink(id)
	if !ok {
		h.message(w, http.StatusNotFound, "Link expired", "This pairing link is not valid any more: make a new one in Security info.")
		return
	}
	writeManifest(w, h.manifest(Prefix+"pair#t="+token), "no-store")
}
