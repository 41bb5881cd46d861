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
	if ce, ok := errors.AsType[*safetext.CharError](err); ok {
		return "", fmt.Sprintf("The name contains an invisible or control character (%U), such as a text-direction mark or a zero-width space, "+
			"which can make it look like another name. Type the name again without it.", ce.Rune)
	}
	return "", fmt.Sprintf("Enter a name of up to %d characters, such as \"Laptop mail\".", maxRunes)
}
