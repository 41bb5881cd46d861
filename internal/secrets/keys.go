package secrets

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
)

// Keys are the gateway's long-lived secrets.
type Keys struct {
	// SessionHash authenticates session cookies (HMAC-SHA256), 64 bytes.
	SessionHash []byte
	// SessionBlock encrypts session cookies (AES-256), 32 bytes.
	SessionBlock []byte
	// Factor encrypts factor secrets at rest (AES-256-GCM), 32 bytes.
	Factor []byte
	// AppPasswordTag keys the lookup tags of app passwords (HMAC), 32 bytes.
	AppPasswordTag []byte
}

// KeySource is where generated keys are kept: store.Store satisfies it.
type KeySource interface {
	Secret(ctx context.Context, name string, generate func() ([]byte, error)) ([]byte, error)
}

// Configured holds keys given in the configuration as base64 text; empty
// fields are generated once and kept in the store. Callers that expand
// placeholders must reject a configured value that expands to nothing
// rather than pass it here as empty.
type Configured struct {
	SessionHash    string
	SessionBlock   string
	Factor         string
	AppPasswordTag string
}

// keySpec describes one key: its store name, its size, and its config value.
type keySpec struct {
	option     string
	storeName  string
	size       int
	configured string
	dst        *[]byte
}

// LoadKeys decodes configured keys and fetches (or creates) the others.
func LoadKeys(ctx context.Context, src KeySource, cfg Configured) (*Keys, error) {
	k := new(Keys)
	specs := []keySpec{
		{"session_hash_key", "key.session.hash", 64, cfg.SessionHash, &k.SessionHash},
		{"session_block_key", "key.session.block", 32, cfg.SessionBlock, &k.SessionBlock},
		{"factor_key", "key.factor", 32, cfg.Factor, &k.Factor},
		{"app_password_tag_key", "key.apppassword.tag", 32, cfg.AppPasswordTag, &k.AppPasswordTag},
	}
	for _, s := range specs {
		key, err := loadKey(ctx, src, s)
		if err != nil {
			return nil, err
		}
		*s.dst = key
	}
	return k, nil
}

func loadKey(ctx context.Context, src KeySource, s keySpec) ([]byte, error) {
	if s.configured != "" {
		key, err := DecodeKey(s.configured)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.option, err)
		}
		if len(key) != s.size {
			return nil, fmt.Errorf("%s: must decode to %d bytes, got %d", s.option, s.size, len(key))
		}
		return key, nil
	}
	key, err := src.Secret(ctx, s.storeName, func() ([]byte, error) { return RandomBytes(s.size) })
	if err != nil {
		return nil, fmt.Errorf("%s: loading generated key: %w", s.option, err)
	}
	if len(key) != s.size {
		return nil, fmt.Errorf("%s: stored key has %d bytes, want %d", s.option, len(key), s.size)
	}
	return key, nil
}

// DecodeKey accepts standard or URL-safe base64, padded or not.
func DecodeKey(text string) ([]byte, error) {
	text = strings.TrimSpace(text)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(text); err == nil {
			return b, nil
		}
	}
	return nil, fmt.Errorf("not valid base64")
}

// RandomBytes returns n bytes from crypto/rand.
func RandomBytes(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("random: %w", err)
	}
	return b, nil
}

// Derive returns a key for one purpose from a configured key, so a new use
// needs no new configuration: HMAC-SHA256(key, purpose), which no other
// purpose's key reveals.
func Derive(key []byte, purpose string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}
