// Package mfagate adds multi-factor sign-in to Caddy v2: the `mfa` app, the
// `mfa_gateway` HTTP handler, their Caddyfile syntax and the `caddy mfa`
// subcommands.
//
// Importing this package registers all of them with Caddy, which is what
//
//	xcaddy build --with github.com/mfagate/mfagate
//
// does to add mfagate to a Caddy binary. The code lives in the caddymodule
// package (the Caddy glue) and in internal packages; this one only brings
// them in.
package mfagate

import (
	// The mfa app, the mfa_gateway handler, the Caddyfile global option and
	// directive, and the caddy mfa command.
	_ "github.com/mfagate/mfagate/caddymodule"
)
