package password

import (
	"context"
	"golang.org/x/time/rate"
	"strings"
	"testing"
	"time"
)

func TestHashVerify(t *testing.T) {
	h, err := NewHasher(MinCost)
	if err != nil {
		t.Fatal(err)
	}
	hash, err := h.Hash("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$2a$10$") {
		t.Fatalf("unexpected hash format/cost: %s", hash)
	}
	if !h.Verify(hash, "correct horse") {
		t.Fatal("right password refused")
	}
	if h.Verify(hash, "correct horsE") {
		t.Fatal("wrong password accepted")
	}
	if h.Verify("", "correct horse") {
		t.Fatal("empty hash (unknown user) accepted")
	}
}

func TestLongPasswordsRejectedNotTruncated(t *testing.T) {
	h, _ := NewHasher(MinCost)
	exact := strings.Repeat("a", MaxBytes)
	hash, err := h.Hash(exact)
	if err != nil {
		t.Fatalf("72-byte password refused: %v", err)
	}
	if _, err := h.Hash(exact + "b"); err != ErrTooLong {
		t.Fatalf("73-byte password: got %v, want ErrTooLong", err)
	}
	if h.Verify(hash, exact+"b") {
		t.Fatal("password with extra bytes matched a truncated hash")
	}
}

func TestCostBounds(t *testing.T) {
	if _, err := NewHasher(9); err == nil {
		t.Fatal("cost 9 accepted")
	}
	if _, err := h0(); err != nil {
		t.Fatal(err)
	}
}

func h0() (*Hasher, error) { return NewHasher(0) }

func TestVerifyBoundedShedsWhenFull(t *testing.T) {
	h, _ := NewHasher(MinCost)
	hash, _ := h.Hash("pw")
	h.queueWait = 10 * time.Millisecond
	// Take every slot, as a storm would.
	for range cap(h.slots) {
		h.slots <- struct{}{}
	}
	if _, err := h.VerifyBounded(context.Background(), hash, "pw"); err != ErrBusy {
		t.Fatalf("full: got %v, want ErrBusy", err)
	}
	<-h.slots
	if ok, err := h.VerifyBounded(context.Background(), hash, "pw"); !ok || err != nil {
		t.Fatalf("free slot: %v %v", ok, err)
	}
}

func TestVerifyBoundedPacesToBudget(t *testing.T) {
	h, _ := NewHasher(MinCost)
	hash, _ := h.Hash("pw")
	h.budget = rate.NewLimiter(rate.Limit(0.001), 2)
	h.shedDelay = time.Millisecond
	for i := range 2 {
		if _, err := h.VerifyBounded(context.Background(), hash, "pw"); err != nil {
			t.Fatalf("check %d within burst: %v", i, err)
		}
	}
	if _, err := h.VerifyBounded(context.Background(), hash, "pw"); err != ErrBusy {
		t.Fatalf("over budget: %v, want ErrBusy", err)
	}
}

// TestHashBoundedSharesTheSignInBudget: hashing a new secret spends the
// same budget and slots as sign-in checks, and is shed (ErrBusy, no hash)
// once they are used up.
func TestHashBoundedSharesTheSignInBudget(t *testing.T) {
	h, _ := NewHasher(MinCost)
	h.budget = rate.NewLimiter(rate.Limit(0.001), 2)
	h.shedDelay = time.Millisecond
	hash, err := h.HashBounded(context.Background(), "app pw")
	if err != nil || !h.Verify(hash, "app pw") {
		t.Fatalf("within budget: %q %v", hash, err)
	}
	if _, err := h.VerifyBounded(context.Background(), hash, "app pw"); err != nil {
		t.Fatalf("second token: %v", err)
	}
	if hash, err := h.HashBounded(context.Background(), "app pw"); err != ErrBusy || hash != "" {
		t.Fatalf("over budget: %q %v, want ErrBusy", hash, err)
	}
}

func TestHashBoundedShedsWithoutSlot(t *testing.T) {
	h, _ := NewHasher(MinCost)
	h.queueWait = 10 * time.Millisecond
	for range cap(h.slots) {
		h.slots <- struct{}{}
	}
	if _, err := h.HashBounded(context.Background(), "pw"); err != ErrBusy {
		t.Fatalf("no slot: got %v, want ErrBusy", err)
	}
	if _, err := h.HashBounded(context.Background(), ""); err != ErrEmpty {
		t.Fatalf("empty: got %v, want ErrEmpty", err)
	}
}
