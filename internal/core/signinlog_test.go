package core

import "testing"

// The sign-in log speaks of reasons, not of the checks' details.
func TestReasonNamesEachRefusal(t *testing.T) {
	for detail, want := range map[string]string{
		"wrong password":             "wrong password",
		"unknown user":               "unknown user",
		"wrong code":                 "wrong code",
		"code already used":          "code reused",
		"account locked":             "locked",
		"ip locked":                  "locked",
		"account blocked":            "blocked",
		"temporary password expired": "temporary password expired",
		"too many requests":          "too many requests",
	} {
		if got := Reason(detail); got != want {
			t.Errorf("Reason(%q) = %q, want %q", detail, got, want)
		}
	}
}
