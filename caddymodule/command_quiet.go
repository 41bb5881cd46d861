package caddymodule

import (
	"github.com/caddyserver/caddy/v2"
	"github.com/spf13/cobra"
	"go.uber.org/zap"
)

// quietUnlessVerbose makes every subcommand of c run with Caddy's own log
// lines ("using config from file", "adapted config to JSON", the
// adapter's warnings, the store's) held back, unless --verbose: a command
// prints its answer, its "mfa: ..." notes and its error, nothing else.
// Errors are returned, so they still reach stderr as "Error: ...".
func quietUnlessVerbose(c *cobra.Command, opts *cliOptions) {
	for _, sub := range c.Commands() {
		quietUnlessVerbose(sub, opts)
	}
	run := c.RunE
	if run == nil {
		return
	}
	c.RunE = func(cmd *cobra.Command, args []string) error {
		if !opts.verbose {
			defer quietCaddyLog()()
		}
		return run(cmd, args)
	}
}

// quietCaddyLog points Caddy's default logger at a buffer (as `caddy run`
// does before its config is loaded) and returns the function that drops
// what was buffered and restores the logger.
func quietCaddyLog() (restore func()) {
	_, orig, _ := caddy.BufferedLog()
	return func() {
		// UnbufferDefaultLogger flushes the buffer into the logger it is
		// given and installs that logger: first a no-op one, to drop the
		// lines; then, through an empty buffer, the original one again.
		caddy.UnbufferDefaultLogger(zap.NewNop())
		caddy.BufferedLog()
		caddy.UnbufferDefaultLogger(orig)
	}
}
