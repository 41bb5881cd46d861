package signin

import (
	"regexp"
	"strings"
	"testing"
)

// inputTag is the <input …> tag with id in body.
func inputTag(t *testing.T, body, id string) string {
	t.Helper()
	tag := regexp.MustCompile(`<input id="` + id + `"[^>]*>`).FindString(body)
	if tag == "" {
		t.Fatalf("no input #%s in:\n%s", id, body)
	}
	return tag
}

// A refused sign-in never echoes the password; focus moves to the field
// to fix, marked invalid and tied to the message, which names it.
func TestLoginFocusesTheFieldToFix(t *testing.T) {
	p, _ := newPortal(t)
	for _, c := range []struct {
		name, user, pw, msg, field, other string
	}{
		{"wrong password", "alice", "wrong", msgBadLogin, "password", "username"},
		{"no username", "", "something", msgEnterUsername, "username", "password"},
		{"no password", "alice", "", msgEnterPassword, "password", "username"},
	} {
		t.Run(c.name, func(t *testing.T) {
			body := postLogin(p, c.user, c.pw, "192.0.2.7").Body.String()
			if !strings.Contains(body, `<div class="alert" role="alert" id="error">`+c.msg+`</div>`) {
				t.Errorf("no message %q:\n%s", c.msg, body)
			}
			tag := inputTag(t, body, c.field)
			for _, a := range []string{`aria-invalid="true"`, `aria-describedby="error"`, "autofocus"} {
				if !strings.Contains(tag, a) {
					t.Errorf("#%s lacks %s: %s", c.field, a, tag)
				}
			}
			other := inputTag(t, body, c.other)
			if strings.Contains(other, "aria-invalid") || strings.Contains(other, "autofocus") {
				t.Errorf("#%s is marked or focused too: %s", c.other, other)
			}
			if pw := inputTag(t, body, "password"); strings.Contains(pw, "value=") {
				t.Errorf("the password is echoed back: %s", pw)
			}
			if c.user != "" && !strings.Contains(inputTag(t, body, "username"), `value="`+c.user+`"`) {
				t.Error("the username is not kept")
			}
		})
	}
}
