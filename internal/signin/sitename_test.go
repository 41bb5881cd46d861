package signin

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
	"github.com/mfagate/mfagate/internal/testfixture"
	"github.com/mfagate/mfagate/internal/testfixture/teststore"
)

// trickHost is a Host header a catch-all site accepts from anyone.
const trickHost = "IT desk: type 47 to keep your account safe"

// onPort8080 is r as received by a listener on port 8080, with Host host.
func onPort8080(r *http.Request, host string) *http.Request {
	r.Host = host
	return r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}))
}

// The site of a sign-in request (shown on the phone and in its
// notification) and of a sign-in log row (Recent activity) is the
// configured site_name, or the Host only when it is a DNS name: never
// text the client put in its Host header.
func TestSiteShownIsNeverClientText(t *testing.T) {
	for _, tc := range []struct{ siteName, host, want string }{
		{"", trickHost, "this site (port 8080)"},
		{"", "files.example.com:8080", "files.example.com:8080"},
		{"Example Files", trickHost, "Example Files"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			ctx := context.Background()
			svc := testfixture.Services(t)
			u, err := svc.Core.Accounts.Add(ctx, core.NewUser{Username: "alice", Password: "right password"})
			if err != nil {
				t.Fatal(err)
			}
			pairPhone(t, svc.Store, u.ID)
			p := New(Deps{Deps: svc.Web(nil, nil), Hasher: svc.Hasher}, Config{Issuer: "Test", SiteName: tc.siteName})
			serve := func(r *http.Request) *httptest.ResponseRecorder {
				w := httptest.NewRecorder()
				p.ServeHTTP(w, onPort8080(r, tc.host))
				return w
			}
			login := func(pw string) *httptest.ResponseRecorder {
				r := httptest.NewRequest("POST", "/.mfa/login", strings.NewReader(url.Values{"username": {"alice"}, "password": {pw}}.Encode()))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				return serve(r)
			}

			// The wrong password's row in the sign-in log.
			login("wrong")
			rows, err := svc.Store.SignIns(ctx, model.SignInFilter{})
			if err != nil || len(rows) != 1 || rows[0].Site != tc.want {
				t.Fatalf("sign-in log = %+v, %v; want site %q", rows, err, tc.want)
			}

			// The right password leads to a phone request.
			w := login("right password")
			if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/.mfa/push" {
				t.Fatalf("login: %d %s", w.Code, w.Header().Get("Location"))
			}
			r := httptest.NewRequest("GET", "/.mfa/push", nil)
			for _, c := range w.Result().Cookies() {
				r.AddCookie(c)
			}
			serve(r)
			devices, _ := svc.Store.Devices(ctx, u.ID)
			ap, err := svc.Core.Approvals.Pending(ctx, &devices[0])
			if err != nil || ap == nil {
				t.Fatalf("no pending request: %v", err)
			}
			if ap.Site != tc.want {
				t.Errorf("request site = %q, want %q", ap.Site, tc.want)
			}
		})
	}
}

// pairPhone gives the user an active phone, straight in the store.
func pairPhone(t *testing.T, st store.Store, userID int64) {
	t.Helper()
	ctx := context.Background()
	token, sess, code := []byte("token-hash-0123456789abcdef01234"), []byte("session-hash-0123456789abcdef012"), []byte("code-hash")
	if err := st.CreatePairing(ctx, &model.Pairing{TokenHash: token, UserID: userID, SessionHash: sess, ExpiresAt: time.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := st.RegisterDevice(ctx, token, &model.Device{Name: "Phone", PublicKey: []byte("spki")}, code, time.Now(), model.MaxDevices, model.MaxPairingPhones); err != nil {
		t.Fatal(err)
	}
	teststore.ConfirmPairing(t, st, userID, sess, code)
}
