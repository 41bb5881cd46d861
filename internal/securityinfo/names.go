package securityinfo

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/mfagate/mfagate/internal/safetext"
)

// formName reads the name the user chose (form field "name") through
// safetext.ValidName, the one check for every user-chosen name. When it is
// refused, msg says why, in words for the page, and name is empty.
func formName(r *http.Request, maxRunes int) (name, msg string) {
	name, err := safetext.ValidName(r.PostForm.Get("name"), maxRunes)
	if err == nil {
		return name, ""
	}
	return "", nameRefusal(err, maxRunes)
}

// isNameRefusal reports whether err is safetext.ValidName's refusal of a
// name (as the core returns it when renaming), not a failure.
func isNameRefusal(err error) bool {
	for _, e := range []error{safetext.ErrNameEmpty, safetext.ErrNameTooLong, safetext.ErrNameEncoding, safetext.ErrNameInvisible} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// nameRefusal says, in words for the page, why a name was refused.
func nameRefusal(err error, maxRunes int) string {
	if ce, ok := errors.AsType[*safetext.CharError](err); ok {
		return fmt.Sprintf("The name contains an invisible or control character (%U), such as a text-direction mark or a zero-width space, "+
			"which can make it look like another name. Type the name again without it.", ce.Rune)
	}
	return fmt.Sprintf("Enter a name of up to %d characters, such as \"Laptop mail\".", maxRunes)
}
