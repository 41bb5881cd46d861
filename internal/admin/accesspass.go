package admin

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/humanize"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/loginui"
)

// The user page's "Issue a Temporary Access Pass" (op access-pass, with
// lifetime and once): an action like the others, confirmed first and
// applied only after the admin re-verified within RecentMFA (the core
// refuses it on the admin's own account); the result page shows the pass
// once, with a Copy button.

// readAccessPass reads the pass's lifetime (a Go duration from the
// page's choice; "" is the default) and once; a non-empty message says
// what is wrong.
func readAccessPass(r *http.Request, users int) (core.Action, string) {
	act := core.Action{Kind: core.ActionAccessPass, Once: r.PostForm.Get("once") == "yes"}
	if users != 1 {
		return act, "Issue a Temporary Access Pass to one user at a time."
	}
	if v := r.PostForm.Get("lifetime"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return act, "The pass's lifetime could not be read. Go back and choose one."
		}
		act.Lifetime = d
	}
	act, err := act.CheckAccessPass()
	if errors.Is(err, core.ErrAccessPassLifetime) {
		_, why, _ := strings.Cut(err.Error(), ": ")
		return act, "The pass was not issued: " + why + "."
	}
	if err != nil {
		return act, "The pass was not issued."
	}
	return act, ""
}

// accessPassWhat is the confirmation's sentence.
func accessPassWhat(act core.Action) string {
	kind := "It works for any number of sign-ins"
	if act.Once {
		kind = "It works for one sign-in"
	}
	return fmt.Sprintf("The user gets a Temporary Access Pass, shown once on the next page. %s within %s, signs in to Security info only "+
		"(to register a new sign-in method; never a site, basic auth or the admin center) and replaces any earlier pass.",
		kind, humanize.Duration(act.Lifetime))
}

// accessPassRow shows res's pass on the result page: without its dashes
// (the page groups it), with its expiry.
func accessPassRow(row *loginui.AdminResultRow, res core.Result) {
	if res.Secret == "" {
		return
	}
	row.Secret = strings.ReplaceAll(res.Secret, "-", "")
	row.SecretLabel = "Temporary Access Pass"
	row.Detail += "; expires " + res.Expires.UTC().Format("2006-01-02 15:04 MST")
}

// describePass says where the user's pass stands ("" when none).
func describePass(ap *model.AccessPass, now time.Time) string {
	if ap == nil {
		return ""
	}
	kind := "multi-use"
	if ap.Once {
		kind = "one-time"
	}
	expires := ap.ExpiresAt.UTC().Format("2006-01-02 15:04 MST")
	switch {
	case ap.Expired(now):
		return fmt.Sprintf("The %s pass issued %s expired %s.", kind, when(ap.CreatedAt), expires)
	case ap.UsedUp():
		return fmt.Sprintf("The one-time pass issued %s was used %s.", when(ap.CreatedAt), when(ap.LastUsedAt))
	}
	return fmt.Sprintf("A %s pass issued %s works until %s (used %d times).", kind, when(ap.CreatedAt), expires, ap.Uses)
}
