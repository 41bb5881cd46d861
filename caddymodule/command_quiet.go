package caddymodule

import (
	"io"

	"github.com/caddyserver/caddy/v2"
	"github.com/spf13/cobra"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// quietUnlessVerbose makes every subcommand of c run without Caddy's own
// log lines ("using config from file", "adapted config to JSON", ...)
// unless --verbose: a command prints its answer, its "mfa: ..." notes and
// its error, nothing else. Warnings (an unformatted Caddyfile, a database
// file others could read) still show, as one plain line each. Errors are
// returned, so they reach stderr as "Error: ...".
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
			defer warningsOnly(cmd.ErrOrStderr())()
		}
		return run(cmd, args)
	}
}

// warningsOnly makes Caddy's default logger write warnings and errors to
// w as plain lines and drop the rest; it returns the function that puts
// the previous logger back. Caddy has no setter for its default logger:
// UnbufferDefaultLogger installs the logger it is given when a buffer (set
// by BufferedLog, as `caddy run` does before loading its config) is in
// place, so each swap goes through an (empty) buffer.
func warningsOnly(w io.Writer) (restore func()) {
	_, orig, _ := caddy.BufferedLog()
	caddy.UnbufferDefaultLogger(plainWarnings(w))
	return func() {
		caddy.BufferedLog()
		caddy.UnbufferDefaultLogger(orig)
	}
}

// plainWarnings logs warnings and errors as "mfa: warn: message {fields}".
func plainWarnings(w io.Writer) *zap.Logger {
	enc := zapcore.NewConsoleEncoder(zapcore.EncoderConfig{
		MessageKey:       "msg",
		LevelKey:         "level",
		ConsoleSeparator: " ",
		EncodeLevel: func(l zapcore.Level, enc zapcore.PrimitiveArrayEncoder) {
			enc.AppendString("mfa: " + l.String() + ":")
		},
	})
	return zap.New(zapcore.NewCore(enc, zapcore.AddSync(w), zapcore.WarnLevel))
}
