package core

import "testing"

// The sign-in log speaks of reasons, not of the checks' details: each
// typed reason has the audit's detail and the sign-in log's word.
func TestReasonNamesEachRefusal(t *testing.T) {
	for _, c := range []struct {
		reason      Reason
		detail, log string
	}{
		{ReasonWrongPassword, "wrong password", "wrong password"},
		{ReasonUnknownUser, "unknown user", "unknown user"},
		{ReasonWrongCode, "wrong code", "wrong code"},
		{ReasonCodeReused, "code already used", "code reused"},
		{ReasonAccountLocked, "account locked", "locked"},
		{ReasonIPLocked, "ip locked", "locked"},
		{ReasonBlocked, "account blocked", "blocked"},
		{ReasonTemporaryPasswordExpired, "temporary password expired", "temporary password expired"},
		{ReasonTooManyRequests, "too many requests", "too many requests"},
	} {
		if got := c.reason.Audit(); got != c.detail {
			t.Errorf("%d: audit detail %q, want %q", c.reason, got, c.detail)
		}
		if got := c.reason.Log(); got != c.log {
			t.Errorf("%q: sign-in log reason %q, want %q", c.detail, got, c.log)
		}
	}
	for r := ReasonNone + 1; r < numReasons; r++ {
		if r.Audit() == "" || r.Log() == "" {
			t.Errorf("reason %d has no words", r)
		}
	}
}
