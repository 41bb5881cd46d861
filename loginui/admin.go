package loginui

import "time"

// The admin center's pages, served on the portal origin under
// AdminNav.Base (e.g. "/admin/"). Every form POSTs to Base+"action"
// (or, for a fresh second factor, Base+"reverify"; the cross-origin check
// applies); the search and filter forms are GETs.
// Common.Prefix is the portal's sign-in prefix, for the static files and
// the sign-out link.

// AdminNav is what every admin page links to.
type AdminNav struct {
	Base    string // e.g. "/admin/"
	Section string // "users" or "sign-ins": the current one
}

// AdminUsersPage is the list of users: a GET search form (fields q, mfa,
// status) and a POST form on Base+"action" with a checkbox per row (field
// id) and one button per action (field op).
type AdminUsersPage struct {
	Common
	AdminNav
	Search   string
	MFA      string // "", "disabled", "enabled" or "enforced"
	Status   string // "", "active", "blocked" or "locked"
	Sort     string
	Desc     bool
	Columns  []AdminColumn
	Rows     []AdminUserRow
	Total    int
	From, To int // 1-based positions of the rows shown
	PrevHref string
	NextHref string
	// Back is this page's address, carried through the action forms.
	Back   string
	Notice string
	Error  string
	// Ops are the buttons under the list.
	Ops []AdminOp
}

// AdminColumn is a column heading; Href sorts by it (the other way when
// it is the current sort).
type AdminColumn struct {
	Label   string
	Href    string // "" when the column does not sort
	Current bool
	Desc    bool
}

// AdminOp is one action button: Value is the op field.
type AdminOp struct {
	Value  string
	Label  string
	Danger bool
}

// AdminUserRow is one user in the list.
type AdminUserRow struct {
	ID          int64
	Username    string
	DisplayName string
	Email       string
	Href        string // the user's page
	Groups      string // joined with ", "
	MFAState    string // "Disabled", "Enabled" or "Enforced"
	// Methods, e.g. "2 authenticator apps, 1 phone, 1 passkey, 3 app
	// passwords", or "none".
	Authenticators int
	Phones         int
	Passkeys       int
	AppPasswords   int
	LastSignIn     string // "Never" when none
	// State: "Active", "Blocked: reported by the user", "Locked until
	// 12:00 UTC", "Basic auth locked until 12:00 UTC".
	State      string
	StateClass string // "ok", "blocked" or "locked"
	Self       bool   // the signed-in admin
	Admin      bool   // in the admin group
}

// AdminUserPage is one user: details, methods, recent sign-ins, and forms
// posting to Base+"action" with field id: the MFA state (op enable,
// enforce or disable), user settings (op settings, checkboxes do),
// block or unblock, the profile (op edit: display_name, email, groups)
// and removal.
type AdminUserPage struct {
	Common
	AdminNav
	Row            AdminUserRow
	Created        string
	Authenticators []AdminMethodRow
	Phones         []AdminMethodRow
	Passkeys       []AdminMethodRow // with Make
	AppPasswords   []AdminMethodRow
	// RecoveryCodes is how many recovery codes are left: "7 of 10 left",
	// or "None".
	RecoveryCodes string
	SignIns       []AdminSignInRow
	SignInsHref   string // the sign-in log of this user
	Back          string // the list this page came from
	Here          string // this page, where its actions come back to
	Blocked       bool
	// GroupsInput is the groups as the edit form shows them.
	GroupsInput string
	Notice      string
	Error       string
	// AccessPass describes the user's Temporary Access Pass ("" when
	// none).
	AccessPass string
}

// AdminMethodRow is one authenticator app, phone, passkey or app
// password.
type AdminMethodRow struct {
	Name     string
	Added    string
	LastUsed string
	// Make is a passkey's authenticator as its AAGUID names it
	// ("Unknown" when hidden).
	Make string
}

// AdminConfirmPage says what an action will do and to whom, and posts it
// again with confirmed=yes (Fields carry the request's fields).
type AdminConfirmPage struct {
	Common
	AdminNav
	Heading string
	// What lists what will happen, one sentence each.
	What    []string
	Users   []AdminConfirmUser
	Fields  []AdminField
	Confirm string // the button's label
	Danger  bool
	Cancel  string // where Cancel leads
	// Verify, when set, asks for a fresh second factor in place of the
	// Confirm button: after it the same confirmation is shown again.
	Verify *AdminVerify
}

// AdminVerify is the re-verification step of an action: the admin's
// second factor is older than Fresh, so one is asked for before the
// action can be confirmed. Its forms post the action's Fields again,
// with then and the second factor, to Base+"reverify"; nothing is
// applied there. An admin with none of the three signs in again instead.
type AdminVerify struct {
	// CanPasskey offers the admin's passkey (Security info's passkey
	// form: the options by POST to Base+"reverify/passkey/options", the
	// answer posted with the Fields and method=passkey).
	CanPasskey bool
	// CanCode offers a code from the admin's authenticator app.
	CanCode bool
	// CanPhone offers a request to the admin's paired phone: the form
	// posts the Fields with method=phone to Base+"reverify".
	CanPhone bool
	Fresh    string // e.g. "10 minutes"
	Then     string // "action" or "add-user": the step shown again after
	Fields   []AdminField
	Cancel   string
	Error    string
}

// PasskeyForm is the step's passkey form (when CanPasskey); base is the
// admin center's, prefix the portal's.
func (v AdminVerify) PasskeyForm(base, prefix string) PasskeyForm {
	fields := []HiddenField{{Name: "then", Value: v.Then}, {Name: "method", Value: "passkey"}}
	for _, f := range v.Fields {
		fields = append(fields, HiddenField(f))
	}
	return PasskeyForm{ID: "verify-passkey-form", Action: base + "reverify", Options: base + "reverify/passkey/options",
		Fields: fields, Cancel: v.Cancel, Others: v.CanCode || v.CanPhone, Prefix: prefix}
}

// verifyCSP lets passkey.js fetch a passkey's options (only when the
// step offers a passkey).
func verifyCSP(v *AdminVerify) string {
	if v == nil || !v.CanPasskey {
		return ""
	}
	return "connect-src 'self'"
}

func (p AdminConfirmPage) extraCSP() string { return verifyCSP(p.Verify) }
func (p AdminAddUserPage) extraCSP() string { return verifyCSP(p.Verify) }

// AdminConfirmUser is one user the action applies to (Note says why it
// will not, e.g. for the admin's own account).
type AdminConfirmUser struct {
	Username    string
	DisplayName string
	Note        string
}

// AdminField is a hidden form field.
type AdminField struct{ Name, Value string }

// AdminResultPage says what an action changed, per user.
type AdminResultPage struct {
	Common
	AdminNav
	Heading string
	Summary string // e.g. "2 changed, 1 skipped"
	Rows    []AdminResultRow
	Back    string
	// BackText names Back ("Back to the users").
	BackText string
	// Unchanged makes the summary a neutral notice, not a success.
	Unchanged bool
}

// HasSecrets tells whether a row carries a temporary password.
func (p AdminResultPage) HasSecrets() bool {
	for _, r := range p.Rows {
		if r.Secret != "" {
			return true
		}
	}
	return false
}

// AdminResultRow is one user's outcome.
type AdminResultRow struct {
	Username string
	Href     string // "" when the user is gone
	Outcome  string // "Changed", "No change", "Skipped", "Refused", "Not found"
	Class    string // "ok", "same", "skipped" or "refused"
	Detail   string
	// Secret is a temporary password, shown on this page only.
	Secret string
	// SecretLabel names the secret ("" : "Temporary password").
	SecretLabel string
}

// AdminSignInsPage is the sign-in log: a GET filter form (user, result,
// site, since, until) and pages backwards by ID.
type AdminSignInsPage struct {
	Common
	AdminNav
	User, Result, Site, Since, Until string
	Rows                             []AdminSignInRow
	OlderHref                        string
	NewestHref                       string // "" on the newest page
	Error                            string
	// BadSince and BadUntil mark the date that Error is about.
	BadSince, BadUntil bool
}

// AdminSignInRow is one sign-in attempt.
type AdminSignInRow struct {
	When     string
	Username string
	UserHref string
	Site     string
	From     string
	Client   string
	Method   string
	Success  bool
	Reason   string
	// Browser names the client in a few words ("Chrome on Linux");
	// Agent is its full user agent, shown on request.
	Browser string
	Agent   string
}

func (AdminUsersPage) pageName() string   { return "admin-users" }
func (AdminUserPage) pageName() string    { return "admin-user" }
func (AdminConfirmPage) pageName() string { return "admin-confirm" }
func (AdminResultPage) pageName() string  { return "admin-result" }
func (AdminSignInsPage) pageName() string { return "admin-signins" }

// AdminAddUserPage adds a user, posted to Base+"users/new" as fields
// username, name, email and groups (comma-separated); the result page
// shows the temporary password once.
type AdminAddUserPage struct {
	Common
	AdminNav
	Username, Name, Email, Groups string // kept after an error
	Error                         string
	ValidFor                      time.Duration // of the temporary password
	// Verify, when set, asks for a fresh second factor before the user
	// is added: after it the filled-in form is shown again.
	Verify *AdminVerify
}

func (AdminAddUserPage) pageName() string { return "admin-add-user" }
