package audit

// PasswordHashUpgraded records that an imported password hash (argon2id)
// was replaced by a bcrypt hash of the same password at a sign-in.
const PasswordHashUpgraded = "user.password.hash_upgraded"
