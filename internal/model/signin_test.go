package model

import "testing"

// The sign-in log's factors read as a person says them: an app password
// stands alone, not "app password + not required: app password".
func TestSignInFactors(t *testing.T) {
	for _, c := range []struct{ first, second, want string }{
		{"password", "code", "password + code"},
		{"password", "notification", "password + notification"},
		{"app password", "not required: app password", "app password"},
		{"password", "not required", "password only"},
		{"password", "", "password"},
		{"", "", ""},
	} {
		s := SignIn{FirstFactor: c.first, SecondFactor: c.second}
		if got := s.Factors(); got != c.want {
			t.Errorf("Factors(%q, %q) = %q, want %q", c.first, c.second, got, c.want)
		}
	}
}
