package core

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A link's install manifest handle is opaque, the same for every install
// of the link, names the link's token while it lives and nothing once it
// has expired or gone.
func TestManifestHandleLivesWithItsLink(t *testing.T) {
	f := newApprovalFixture(t)
	ctx := context.Background()
	p := f.c.Phones
	token, err := p.StartPairing(ctx, f.user, []byte("session-for-the-manifest-test-01"))
	if err != nil {
		t.Fatal(err)
	}
	handle, err := p.ManifestHandle(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := p.ManifestHandle(ctx, token); again != handle || handle == string(token) {
		t.Fatalf("handles %q, %q for token %q", handle, again, token)
	}
	for range 3 { // iOS fetches it more than once
		if got, err := p.ManifestToken(ctx, handle); err != nil || got != token {
			t.Fatalf("ManifestToken = %q, %v; want the token", got, err)
		}
	}
	if _, err := p.ManifestToken(ctx, handle+"x"); !errors.Is(err, ErrPairingInvalid) {
		t.Errorf("unknown handle: %v", err)
	}
	if _, err := p.ManifestHandle(ctx, "unknown-token"); !errors.Is(err, ErrPairingInvalid) {
		t.Errorf("handle of an unknown token: %v", err)
	}

	later := time.Now().Add(PairingTTL + time.Second)
	p.now = func() time.Time { return later }
	if _, err := p.ManifestToken(ctx, handle); !errors.Is(err, ErrPairingInvalid) {
		t.Errorf("expired link's manifest: %v", err)
	}
	if _, err := p.ManifestHandle(ctx, token); !errors.Is(err, ErrPairingInvalid) {
		t.Errorf("handle of an expired link: %v", err)
	}
}
