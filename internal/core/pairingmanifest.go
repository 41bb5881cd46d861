package core

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/mfagate/mfagate/internal/model"
)

// Install manifests of pairing links (iOS). A Home Screen app on iOS
// starts from its manifest's start_url, which must carry the link's token
// for the app to pair itself. The manifest's address names it by an opaque
// handle, never by the token: a keyed hash of the token, stored (hashed)
// with the link together with the token sealed, so the handle lives
// exactly as long as its link (iOS fetches the manifest more than once)
// and any node sharing the store serves it.

// manifestAAD binds a sealed manifest token to its handle.
const manifestAAD = "mfagate/pairing-manifest/"

// ManifestHandle returns the install manifest handle of the link token,
// recording it with the link; ErrPairingInvalid when the link is unknown,
// used or expired. The same token always gets the same handle.
func (p *Phones) ManifestHandle(ctx context.Context, token PairingToken) (string, error) {
	m := hmac.New(sha256.New, p.manifestKey)
	m.Write([]byte(token))
	handle := base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	key := handleHash(handle)
	sealed, err := p.box.Seal([]byte(token), append([]byte(manifestAAD), key...))
	if err != nil {
		return "", fmt.Errorf("core: seal manifest token: %w", err)
	}
	err = p.store.SetPairingManifest(ctx, token.hash(), key, sealed, p.now())
	switch {
	case errors.Is(err, model.ErrNotFound):
		return "", ErrPairingInvalid
	case err != nil:
		return "", fmt.Errorf("core: pairing manifest: %w", err)
	}
	return handle, nil
}

// ManifestToken returns the token of the link whose install manifest
// handle is handle; ErrPairingInvalid when there is none (any more).
func (p *Phones) ManifestToken(ctx context.Context, handle string) (PairingToken, error) {
	key := handleHash(handle)
	pr, err := p.store.PairingByManifest(ctx, key)
	switch {
	case errors.Is(err, model.ErrNotFound):
		return "", ErrPairingInvalid
	case err != nil:
		return "", fmt.Errorf("core: pairing manifest: %w", err)
	case !p.now().Before(pr.ExpiresAt):
		return "", ErrPairingInvalid
	}
	token, err := p.box.Open(pr.ManifestToken, append([]byte(manifestAAD), key...))
	if err != nil {
		return "", fmt.Errorf("core: open manifest token: %w", err)
	}
	return PairingToken(token), nil
}

func handleHash(handle string) []byte {
	h := sha256.Sum256([]byte(handle))
	return h[:]
}
