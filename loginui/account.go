package loginui

import "strings"

// ChangePasswordPage changes the user's own password, posted to
// Prefix+"security/password" with the fields current, new, repeat and,
// when checked, delete-app-passwords=1. Each *Error is shown next to its
// field (and tied to it with aria-describedby).
type ChangePasswordPage struct {
	Common
	CurrentError string
	NewError     string
	RepeatError  string
	// MinLength is the shortest password accepted, for the hint.
	MinLength int
	// AppPasswordCount is how many app passwords the user has; the
	// "Also delete my app passwords" box is offered when there are any.
	AppPasswordCount   int
	DeleteAppPasswords bool // the box stays checked after an error
}

func (ChangePasswordPage) pageName() string { return "change-password" }

// FocusField is the id of the field that gets the focus: the first invalid
// one after a refusal (the two new fields are both invalid when they
// differ), else the first.
func (p ChangePasswordPage) FocusField() string {
	if p.CurrentError != "" {
		return "current-password"
	}
	return newPasswordFocus(p.NewError, p.RepeatError, "current-password")
}

// Problem is the summary above the form after a refusal: which field to
// fix, and that every password must be typed again (the form never keeps
// one).
func (p ChangePasswordPage) Problem() string {
	var fields []string
	if p.CurrentError != "" {
		fields = append(fields, "Current password")
	}
	return formProblem("Password not changed", append(fields, newPasswordFields(p.NewError, p.RepeatError)...))
}

// ChooseNewPasswordPage is where a user signed in with a temporary
// password an admin set must choose their own before going anywhere else,
// posted to Prefix+"password/new" as fields new and repeat.
type ChooseNewPasswordPage struct {
	Common
	NewError    string
	RepeatError string
	MinLength   int
}

func (ChooseNewPasswordPage) pageName() string { return "choose-password" }

// FocusField is the id of the field that gets the focus: the first invalid
// one after a refusal, else the first.
func (p ChooseNewPasswordPage) FocusField() string {
	return newPasswordFocus(p.NewError, p.RepeatError, "new-password")
}

// Problem is the summary above the form after a refusal.
func (p ChooseNewPasswordPage) Problem() string {
	return formProblem("Password not saved", newPasswordFields(p.NewError, p.RepeatError))
}

// newPasswordFocus is the first invalid of the shared new-password fields
// (both, when they differ: both must be typed again), else first.
func newPasswordFocus(newError, repeatError, first string) string {
	if newError != "" || repeatError != "" {
		return "new-password"
	}
	return first
}

// newPasswordFields names the invalid new-password fields by their labels.
func newPasswordFields(newError, repeatError string) []string {
	switch {
	case newError != "" && repeatError != "":
		return []string{"New password", "New password again"}
	case newError != "":
		return []string{"New password"}
	case repeatError != "":
		return []string{"New password", "New password again"}
	}
	return nil
}

// formProblem says what went wrong and which fields (by label) to fix;
// "" when none.
func formProblem(what string, fields []string) string {
	if len(fields) == 0 {
		return ""
	}
	which := "the field marked below: " + fields[0]
	if len(fields) > 1 {
		which = "the fields marked below: " + strings.Join(fields[:len(fields)-1], ", ") + " and " + fields[len(fields)-1]
	}
	return what + ". Fix " + which + ". Passwords are never kept in the form: type each one again."
}
