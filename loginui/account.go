package loginui

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
