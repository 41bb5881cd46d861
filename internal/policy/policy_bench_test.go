package policy

import (
	"net/http/httptest"
	"testing"

	"github.com/mfagate/mfagate/internal/model"
)

var benchSink int

// BenchmarkDecisions: the per-request policy questions for each MFA state
// and site option.
func BenchmarkDecisions(b *testing.B) {
	sites := []Site{{}, {RequireMFA: true}, {RefuseAccountPassword: true}}
	users := []*model.User{{MFAState: model.MFADisabled}, {MFAState: model.MFAEnabled}, {MFAState: model.MFAEnforced}}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		for _, s := range sites {
			for _, u := range users {
				if s.BrowserNeedsSecondFactor(u) {
					n++
				}
				if s.AccountPasswordInBasicAuth(u) {
					n++
				}
				if s.CanCreateAppPasswords(u, true) {
					n++
				}
				if s.EffectiveState(u) == model.MFAEnforced {
					n++
				}
			}
		}
	}
	benchSink = n
}

// BenchmarkIsPublic: every gateway request asks it; typical protected and
// public paths against a short list.
func BenchmarkIsPublic(b *testing.B) {
	s := Site{PublicPaths: []string{"/public/", "/favicon.ico", "/assets/*"}}
	for _, c := range []struct{ name, path string }{
		{"none-configured", "/app/page"},
		{"protected", "/app/projects/42/files?x=1"},
		{"public", "/assets/css/site.css"},
	} {
		site := s
		if c.name == "none-configured" {
			site = Site{}
		}
		r := httptest.NewRequest("GET", c.path, nil)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				if site.IsPublic(r) {
					n++
				}
			}
			benchSink = n
		})
	}
}
