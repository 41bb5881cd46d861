package securityinfo

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/model"
)

// Security info shows the user's own recent sign-ins, not other users'.
func TestRecentActivityShowsOwnSignIns(t *testing.T) {
	f := newFixture(t, time.Minute)
	ctx := context.Background()
	for _, e := range []model.SignIn{
		{UserID: f.user.ID, Username: "ann", Site: "files.example.com", RemoteIP: "203.0.113.7", Client: model.ClientBrowser,
			FirstFactor: "password", SecondFactor: "code", Result: model.SignInFailure, Reason: "wrong code"},
		{UserID: f.user.ID, Username: "ann", Site: "dav.example.com", RemoteIP: "203.0.113.8", Client: model.ClientNonBrowser,
			FirstFactor: "app password", SecondFactor: "not required: app password", Result: model.SignInSuccess},
		{UserID: f.user.ID + 1, Username: "bob", Site: "secret.example.com", Result: model.SignInSuccess},
	} {
		if err := f.st.AppendSignIn(ctx, &e); err != nil {
			t.Fatal(err)
		}
	}
	body := f.get("/.mfa/security").Body.String()
	for _, want := range []string{"Recent activity", "files.example.com", "password &#43; code", "wrong code", "dav.example.com", "app password (app)"} {
		if !strings.Contains(body, want) {
			t.Errorf("Security info lacks %q", want)
		}
	}
	if strings.Contains(body, "secret.example.com") {
		t.Error("Security info shows another user's sign-in")
	}
}
