package wiring

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/factor/password"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
	"github.com/mfagate/mfagate/internal/testfixture/teststore"
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

// twoNodes wires two nodes on one store whose events reach each other,
// and returns the relay a third party (the CLI) may notify through.
func twoNodes(t *testing.T) (a, b *Services, ch *relay) {
	t.Helper()
	st := teststore.Open(t)
	ch = &relay{}
	var nodes [2]*Services
	for i := range nodes {
		ev := core.NewEvents(ch)
		ch.nodes = append(ch.nodes, ev)
		svc, err := New(context.Background(), st, Options{BcryptCost: password.MinCost, Events: ev})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { svc.Close(context.Background()) })
		nodes[i] = svc
	}
	return nodes[0], nodes[1], ch
}

// startSession signs u in completely on node svc and returns the cookie.
func startSession(t *testing.T, svc *Services, u *model.User) *http.Cookie {
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
func signedIn(t *testing.T, svc *Services, cookie *http.Cookie) bool {
	t.Helper()
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(cookie)
	cur, err := svc.Sessions.Load(r)
	if err != nil {
		t.Fatal(err)
	}
	return cur != nil
}

func createUser(t *testing.T, st store.Store, name string, groups ...string) *model.User {
	t.Helper()
	u := &model.User{Username: name, PasswordHash: "x", MFAState: model.MFAEnforced, Groups: groups}
	if err := st.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

// Removing a user's sign-in methods from the admin center or the CLI is
// the same change as removing one in Security info: in its transaction
// the user's sessions end, and every node refuses them at once (their
// cached copies are dropped), not when the cache expires. The counts
// agree too: authenticators and active phones, not a phone still
// waiting for its code.
func TestResetMethodsEndsSessionsOnEveryNode(t *testing.T) {
	for _, by := range []string{"admin center", "cli"} {
		t.Run(by, func(t *testing.T) {
			ctx := context.Background()
			nodeA, nodeB, ch := twoNodes(t)
			st := nodeA.Store
			root := createUser(t, st, "root", core.AdminGroup)
			sealed, err := nodeA.Core.Codes.Seal(root.ID, make([]byte, 20))
			if err != nil {
				t.Fatal(err)
			}
			teststore.Methods(t, st, root.ID, sealed)
			ann := createUser(t, st, "ann")
			sealed, _ = nodeA.Core.Codes.Seal(ann.ID, make([]byte, 20))
			teststore.Methods(t, st, ann.ID, sealed)

			here, there := startSession(t, nodeA, ann), startSession(t, nodeB, ann)
			if !signedIn(t, nodeA, here) || !signedIn(t, nodeB, there) { // now cached on both nodes
				t.Fatal("ann is not signed in")
			}
			var removed int64
			switch by {
			case "admin center":
				res, err := nodeA.Core.Admin.Apply(ctx, core.AdminActor(root, "192.0.2.1"), core.Action{Kind: core.ActionResetMethods}, []int64{ann.ID})
				if err != nil || len(res) != 1 || res[0].Kind != core.ResultChanged {
					t.Fatalf("reset methods: %+v %v", res, err)
				}
				removed = res[0].Count
			case "cli":
				// The CLI runs on no node: its event reaches them through
				// the store's channel.
				cli, err := core.NewOperator(st, core.Config{Hasher: nodeA.Hasher, Events: core.NewEvents(ch)}, core.CLIActor("tester"))
				if err != nil {
					t.Fatal(err)
				}
				if removed, err = cli.ResetMethods(ctx, "ann"); err != nil {
					t.Fatal(err)
				}
			}
			if removed != 2 {
				t.Errorf("%d methods removed, want 2 (an authenticator and an active phone; the waiting phone is none)", removed)
			}
			if signedIn(t, nodeB, there) || signedIn(t, nodeA, there) {
				t.Error("a session of the user still passes after their methods were removed")
			}
			if signedIn(t, nodeA, here) {
				t.Error("the user's session on the acting node still passes")
			}
		})
	}
}
