package audit

// Events of the admin center (its other changes reuse the names above:
// MFAStateChanged, AppPasswordsPurged, MethodsReset, UserBlocked,
// UserUnblocked, UserRemoved).
const (
	ProfileChanged = "user.profile.changed"
	// AdminRefused is a change the admin asked for and the rules refused
	// (the last admin, an admin no longer in the group).
	AdminRefused = "admin.refused"
)
