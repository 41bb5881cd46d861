package secrets

import (
	"bytes"
	"context"
	"sync"
	"testing"
)

func TestSealIsBoundToItsOwner(t *testing.T) {
	key, _ := RandomBytes(32)
	b, err := NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := b.Seal([]byte("totp secret"), []byte("user 1"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("totp secret")) {
		t.Fatal("plaintext visible in sealed value")
	}
	if got, err := b.Open(sealed, []byte("user 1")); err != nil || string(got) != "totp secret" {
		t.Fatalf("open: %q %v", got, err)
	}
	if _, err := b.Open(sealed, []byte("user 2")); err != ErrOpen {
		t.Fatalf("sealed value opened for another user: %v", err)
	}
	tampered := append([]byte(nil), sealed...)
	tampered[len(tampered)-1] ^= 1
	if _, err := b.Open(tampered, []byte("user 1")); err != ErrOpen {
		t.Fatal("tampering not detected")
	}
	other, _ := RandomBytes(32)
	b2, _ := NewBox(other)
	if _, err := b2.Open(sealed, []byte("user 1")); err != ErrOpen {
		t.Fatal("opened with another key")
	}
	if _, err := NewBox(key[:16]); err == nil {
		t.Fatal("16-byte key accepted")
	}
}

// memSource is an in-memory KeySource.
type memSource struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (s *memSource) Secret(_ context.Context, name string, gen func() ([]byte, error)) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.m[name]; ok {
		return v, nil
	}
	v, err := gen()
	s.m[name] = v
	return v, err
}

func TestLoadKeys(t *testing.T) {
	src := &memSource{m: map[string][]byte{}}
	a, err := LoadKeys(context.Background(), src, Configured{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := LoadKeys(context.Background(), src, Configured{})
	if !bytes.Equal(a.Factor, b.Factor) || len(a.SessionHash) != 64 || len(a.AppPasswordTag) != 32 {
		t.Fatal("generated keys not kept or wrong size")
	}
	if _, err := LoadKeys(context.Background(), src, Configured{Factor: "c2hvcnQ="}); err == nil {
		t.Fatal("short configured key accepted")
	}
	k := "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	c, err := LoadKeys(context.Background(), src, Configured{Factor: k})
	if err != nil || string(c.Factor) != "0123456789abcdef0123456789abcdef" {
		t.Fatalf("configured key: %v", err)
	}
}
