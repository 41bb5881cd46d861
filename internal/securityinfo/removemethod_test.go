package securityinfo

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/factor/password"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
	"github.com/mfagate/mfagate/internal/testfixture/teststore"
	"github.com/mfagate/mfagate/internal/wiring"
)

// relay carries events between the nodes of a test as PostgreSQL's
// LISTEN/NOTIFY does: to every node, the sender included.
type relay struct {
	mu    sync.Mutex
	nodes []*core.Events
}

func (c *relay) Notify(_ context.Context, payload string) error {
	c.mu.Lock()
	nodes := append([]*core.Events(nil), c.nodes...)
	c.mu.Unlock()
	for _, e := range nodes {
		e.Remote(payload)
	}
	return nil
}

func (c *relay) Listen(ctx context.Context, _ func(string)) error {
	<-ctx.Done()
	return ctx.Err()
}

// twoNodes wires two nodes on one store whose events reach each other.
func twoNodes(t *testing.T) (a, b *wiring.Services) {
	t.Helper()
	st := teststore.Open(t)
	ch := &relay{}
	var nodes [2]*wiring.Services
	for i := range nodes {
		ev := core.NewEvents(ch)
		ch.nodes = append(ch.nodes, ev)
		svc, err := wiring.New(context.Background(), st, wiring.Options{BcryptCost: password.MinCost, Events: ev})
		if err != nil {
			t.Fatal(err)
		}
		nodes[i] = svc
	}
	return nodes[0], nodes[1]
}

// startSession signs u in completely on node svc and returns the cookie.
func startSession(t *testing.T, svc *wiring.Services, u *model.User) *http.Cookie {
	t.Helper()
	w := httptest.NewRecorder()
	now := time.Now()
	if err := svc.Sessions.Start(w, httptest.NewRequest("GET", "/", nil), model.Session{
		UserID: u.ID, Stage: model.StageComplete, CreatedAt: now, MFAAt: now,
	}); err != nil {
		t.Fatal(err)
	}
	return w.Result().Cookies()[0]
}

// signedIn says whether node svc accepts cookie now.
func signedIn(t *testing.T, svc *wiring.Services, cookie *http.Cookie) bool {
	t.Helper()
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(cookie)
	cur, err := svc.Sessions.Load(r)
	if err != nil {
		t.Fatal(err)
	}
	return cur != nil
}

// Removing any sign-in method (a phone as an authenticator app) ends the
// user's other sessions at once on every node, and keeps the session that
// removed it, under the same cookie.
func TestRemovingAMethodEndsOtherSessionsEverywhere(t *testing.T) {
	for _, method := range []string{"phone", "authenticator"} {
		t.Run(method, func(t *testing.T) {
			ctx := context.Background()
			nodeA, nodeB := twoNodes(t)
			st := nodeA.Store
			u := &model.User{Username: "ann", PasswordHash: "x", MFAState: model.MFAEnforced}
			if err := st.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			sealed, _ := nodeA.Core.Codes.Seal(u.ID, make([]byte, 20))
			a := &model.TOTPAuthenticator{UserID: u.ID, Name: "Authenticator app", SealedSecret: sealed}
			teststore.AddTOTP(t, st, a)
			phone := pairStoreDevice(t, st, u.ID)

			here := startSession(t, nodeA, u)
			elsewhere := startSession(t, nodeB, u)
			if !signedIn(t, nodeB, elsewhere) { // now cached on node B
				t.Fatal("the other browser is not signed in")
			}

			pages := New(Deps{Deps: nodeA.Web(nil, func(*http.Request) string { return "192.0.2.1" })}, Config{Prefix: "/.mfa/", Issuer: "T"})
			mux := http.NewServeMux()
			for pattern, h := range pages.Routes() {
				mux.Handle(pattern, h)
			}
			id := a.ID
			if method == "phone" {
				id = phone.ID
			}
			r := httptest.NewRequest("POST", "/.mfa/security/"+method+"/delete", strings.NewReader(url.Values{"id": {itoa(id)}}.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.AddCookie(here)
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, r)
			if w.Code != http.StatusSeeOther {
				t.Fatalf("delete %s: %d\n%s", method, w.Code, w.Body)
			}
			if signedIn(t, nodeB, elsewhere) {
				t.Error("the other browser's session still passes on the other node")
			}
			if signedIn(t, nodeA, elsewhere) {
				t.Error("the other browser's session still passes on this node")
			}
			if !signedIn(t, nodeA, here) || !signedIn(t, nodeB, here) {
				t.Error("the session that removed the method was ended")
			}
		})
	}
}

// pairStoreDevice gives the user an active phone, straight in the store.
func pairStoreDevice(t *testing.T, st store.Store, userID int64) *model.Device {
	t.Helper()
	ctx := context.Background()
	token, sess, code := []byte("token-hash-0123456789abcdef01234"), []byte("session-hash-0123456789abcdef012"), []byte("code-hash")
	if err := st.CreatePairing(ctx, &model.Pairing{TokenHash: token, UserID: userID, SessionHash: sess, ExpiresAt: time.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	d := &model.Device{Name: "Phone", PublicKey: []byte("spki")}
	if err := st.RegisterDevice(ctx, token, d, code, time.Now(), model.MaxDevices, model.MaxPairingPhones); err != nil {
		t.Fatal(err)
	}
	return teststore.ConfirmPairing(t, st, userID, sess, code)
}
