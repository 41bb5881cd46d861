// Command caddy is Caddy with its standard modules and mfagate, as
// `xcaddy build --with github.com/mfagate/mfagate` would make.
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/mfagate/mfagate"
)

func main() {
	caddycmd.Main()
}
