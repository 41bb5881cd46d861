package securityinfo

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/factor/password"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/testfixture/teststore"
)

// countingHasher counts the bcrypt hashes asked for; busy makes it answer
// as a hasher over its budget would.
type countingHasher struct {
	inner core.Hasher
	busy  bool
	n     atomic.Int64
}

func (c *countingHasher) HashBounded(ctx context.Context, pw string) (string, error) {
	c.n.Add(1)
	if c.busy {
		return "", password.ErrBusy
	}
	return c.inner.HashBounded(ctx, pw)
}

// TestAppPasswordRefusalsCostNoHash: at the limit, or with a bad name, the
// attempt is refused before any bcrypt hash is paid for.
func TestAppPasswordRefusalsCostNoHash(t *testing.T) {
	f := newFixture(t, time.Minute)
	ctx := context.Background()
	for i := range model.MaxAppPasswords {
		ap := &model.AppPassword{UserID: f.user.ID, Name: "device " + itoa(int64(i)), Hash: "x", LookupTag: []byte("tag " + itoa(int64(i)))}
		if err := teststore.AddAppPassword(ctx, f.st, ap); err != nil {
			t.Fatal(err)
		}
	}
	counter := &countingHasher{inner: f.pages.Core.AppPasswords.Hasher}
	f.pages.Core.AppPasswords.Hasher = counter
	w := f.post("/.mfa/security/app-password", url.Values{"name": {"device 41"}})
	if w.Code != 200 || !strings.Contains(w.Body.String(), "the most allowed") {
		t.Fatalf("41st: %d\n%s", w.Code, w.Body)
	}
	if n := counter.n.Load(); n != 0 {
		t.Fatalf("the 41st attempt paid %d bcrypt hashes, want 0", n)
	}
	if w := f.post("/.mfa/security/app-password", url.Values{"name": {"  "}}); !strings.Contains(w.Body.String(), "up to 64 characters") || counter.n.Load() != 0 {
		t.Fatalf("blank name: %d, %d hashes", w.Code, counter.n.Load())
	}
	if n := f.appPasswordCount(t); n != model.MaxAppPasswords {
		t.Fatalf("%d app passwords, want %d", n, model.MaxAppPasswords)
	}
}

// TestAppPasswordCreationShedUnderLoad: when the sign-in CPU budget is
// spent, creating an app password is shed like a sign-in: 503 with
// Retry-After and a clear message, nothing stored.
func TestAppPasswordCreationShedUnderLoad(t *testing.T) {
	f := newFixture(t, time.Minute)
	counter := &countingHasher{inner: f.pages.Core.AppPasswords.Hasher, busy: true}
	f.pages.Core.AppPasswords.Hasher = counter
	w := f.post("/.mfa/security/app-password", url.Values{"name": {"Laptop mail"}})
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" || !strings.Contains(w.Body.String(), "no app password was created") {
		t.Fatalf("shed: %d Retry-After %q\n%s", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
	if counter.n.Load() != 1 {
		t.Fatalf("bounded hasher asked %d times, want 1", counter.n.Load())
	}
	if n := f.appPasswordCount(t); n != 0 {
		t.Fatalf("%d app passwords stored while shed", n)
	}
}
