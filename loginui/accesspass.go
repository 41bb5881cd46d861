package loginui

// AccessPassPage is "Sign in with a Temporary Access Pass", posted to
// Prefix+"access-pass" with the fields username and pass; the login form
// links to it ("Sign in another way").
type AccessPassPage struct {
	Common
	Username string // pre-filled username (after a failed attempt)
	Error    string
	// ErrorField is the field Error asks to fix, "username" or "pass"
	// ("": neither).
	ErrorField string
}

// FocusField is the id of the field that gets the focus.
func (p AccessPassPage) FocusField() string {
	if p.ErrorField != "" {
		return p.ErrorField
	}
	if p.Username != "" {
		return "pass"
	}
	return "username"
}

func (AccessPassPage) pageName() string { return "access-pass" }
