package gateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/policy"
	"github.com/mfagate/mfagate/internal/signin"
	"github.com/mfagate/mfagate/internal/testfixture"
)

// Basic auth: every failure is logged, a success once per credential per
// hour (clients send far too many to log each).
func TestBasicAuthAttemptsAreLogged(t *testing.T) {
	ctx := context.Background()
	svc := testfixture.Services(t)
	u, err := svc.Core.Accounts.Add(ctx, core.NewUser{Username: "gus", Password: "gus rides a violet tractor", MFAState: model.MFADisabled})
	if err != nil {
		t.Fatal(err)
	}
	portal := signin.New(signin.Deps{Deps: svc.Web(nil, nil), Hasher: svc.Hasher}, signin.Config{Issuer: "T"})
	g := New(portal, svc.Sessions, svc.Verifier, svc.Core.Audit, Config{Policy: policy.Site{}, SignInLog: svc.Core.SignInLog})
	basic := func(pw string) int {
		r := httptest.NewRequest("GET", "http://dav.example.com/dav/", nil)
		r.SetBasicAuth("gus", pw)
		r.Header.Set("User-Agent", "davfs2/1.7")
		_, w := serve(g, r)
		return w.Code
	}
	if code := basic("wrong one"); code != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", code)
	}
	for range 3 {
		if res, _ := g.Serve(httptest.NewRecorder(), func() *http.Request {
			r := httptest.NewRequest("GET", "http://dav.example.com/dav/", nil)
			r.SetBasicAuth("gus", "gus rides a violet tractor")
			return r
		}()); res.User == nil {
			t.Fatal("right password refused")
		}
	}
	rows, err := svc.Store.SignIns(ctx, model.SignInFilter{UserID: u.ID})
	if err != nil || len(rows) != 2 {
		t.Fatalf("sign-in log = %+v, %v; want one failure and one success", rows, err)
	}
	ok, fail := rows[0], rows[1]
	if fail.Result != model.SignInFailure || fail.Reason != "wrong password" || fail.Client != model.ClientNonBrowser ||
		fail.Site != "dav.example.com" || fail.UserAgent != "davfs2/1.7" {
		t.Errorf("failure row = %+v", fail)
	}
	if ok.Result != model.SignInSuccess || ok.FirstFactor != "account password" || ok.SecondFactor != "not required: account password" {
		t.Errorf("success row = %+v", ok)
	}
}

// A basic-auth row names the site as configured, or by a Host that is a
// DNS name, never by other text the client sent as its Host.
func TestBasicAuthRowsNameTheSiteSafely(t *testing.T) {
	for _, tc := range []struct{ siteName, host, want string }{
		{"", "IT desk: type 47 to keep your account safe", "this site"},
		{"", "dav.example.com:8443", "dav.example.com:8443"},
		{"Example DAV", "IT desk: type 47", "Example DAV"},
	} {
		ctx := context.Background()
		svc := testfixture.Services(t)
		u, err := svc.Core.Accounts.Add(ctx, core.NewUser{Username: "gus", Password: "gus rides a violet tractor", MFAState: model.MFADisabled})
		if err != nil {
			t.Fatal(err)
		}
		portal := signin.New(signin.Deps{Deps: svc.Web(nil, nil), Hasher: svc.Hasher}, signin.Config{Issuer: "T"})
		g := New(portal, svc.Sessions, svc.Verifier, svc.Core.Audit, Config{SignInLog: svc.Core.SignInLog, SiteName: tc.siteName})
		r := httptest.NewRequest("GET", "/dav/", nil)
		r.Host = tc.host
		r.SetBasicAuth("gus", "wrong one")
		serve(g, r)
		rows, err := svc.Store.SignIns(ctx, model.SignInFilter{UserID: u.ID})
		if err != nil || len(rows) != 1 || rows[0].Site != tc.want {
			t.Errorf("Host %q, site_name %q: rows %+v, %v; want site %q", tc.host, tc.siteName, rows, err, tc.want)
		}
	}
}
