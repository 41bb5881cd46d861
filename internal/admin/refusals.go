package admin

import (
	"errors"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/safetext"
)

// Why a new user or a profile was refused, as the admin center says it:
// words of the page's own, never an error's text.
const (
	msgUserExists         = "a user with that username exists already"
	msgInvalidUsername    = "a username is 1 to 64 characters: a-z, 0-9, '.', '_', '@' or '-'"
	msgInvalidGroup       = "group names are text without commas, control or formatting characters"
	msgInvalidEmail       = "the email is not an address like name@example.com"
	msgDisplayNameTooLong = "the display name is too long"
	msgDisplayNameHidden  = "the display name contains an invisible or formatting character"
	msgInvalidDisplayName = "the display name is not valid text"
	msgInvalidProfile     = "the display name or email is not valid"
)

// refusal says in the page's words why err refused a new user or a
// profile (a core.ErrUserExists, ErrInvalidUsername, ErrInvalidGroup or
// ErrInvalidProfile).
func refusal(err error) string {
	switch {
	case errors.Is(err, core.ErrUserExists):
		return msgUserExists
	case errors.Is(err, core.ErrInvalidUsername):
		return msgInvalidUsername
	case errors.Is(err, core.ErrInvalidGroup):
		return msgInvalidGroup
	case errors.Is(err, core.ErrInvalidEmail):
		return msgInvalidEmail
	case errors.Is(err, core.ErrInvalidDisplayName) && errors.Is(err, safetext.ErrNameTooLong):
		return msgDisplayNameTooLong
	case errors.Is(err, core.ErrInvalidDisplayName) && errors.Is(err, safetext.ErrNameInvisible):
		return msgDisplayNameHidden
	case errors.Is(err, core.ErrInvalidDisplayName):
		return msgInvalidDisplayName
	}
	return msgInvalidProfile
}
