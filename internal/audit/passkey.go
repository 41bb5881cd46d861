package audit

// Events of passkeys and security keys (WebAuthn).
const (
	PasskeyRegistered   = "passkey.registered"
	PasskeyRegisterFail = "passkey.register_fail"
	PasskeyDeleted      = "passkey.deleted"
	PasskeyRenamed      = "passkey.renamed"
	SignInPasskeyOK     = "signin.passkey.ok"
	SignInPasskeyFail   = "signin.passkey.fail"
	// SignInPasskeyCloned is an assertion refused because the
	// credential's sign count went backwards: a cloned authenticator,
	// or a replayed old assertion.
	SignInPasskeyCloned = "signin.passkey.cloned"
)
