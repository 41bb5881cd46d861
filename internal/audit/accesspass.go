package audit

// Temporary Access Pass events: issued (by an admin or the CLI), the
// user's earlier pass replaced or found expired, and sign-ins with one.
const (
	AccessPassIssued     = "access_pass.issued"
	AccessPassReplaced   = "access_pass.replaced"
	AccessPassExpired    = "access_pass.expired"
	SignInAccessPassOK   = "signin.access_pass.ok"
	SignInAccessPassFail = "signin.access_pass.fail"
)
