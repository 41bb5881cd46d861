package caddymodule

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/humanize"
)

// userTapCommand issues a Temporary Access Pass (core.Accounts.
// IssueAccessPass as the CLI's operator), printed once with its expiry.
func userTapCommand(opts *cliOptions) *cobra.Command {
	var lifetime time.Duration
	var once bool
	c := &cobra.Command{
		Use:   "tap <username>",
		Short: "Issues a Temporary Access Pass (printed once) with which a user who lost every method signs in to Security info to add one",
		Long: "Issues a Temporary Access Pass, printed once: with it (on the sign-in page, \"Use a Temporary Access Pass\") the user " +
			"signs in to Security info only, to register a new sign-in method, then signs in normally. Never in basic auth, the " +
			"admin center or a protected site. Lifetime 10m to 720h (30 days), default 1h; a pass that works more than once " +
			"(without --once) lasts at most 8h. A user has at most one pass: a new one replaces the old.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withUsers(cmd, opts, changes, func(ctx context.Context, svc *core.Accounts) error {
				pass, expires, err := svc.IssueAccessPass(ctx, args[0], lifetime, once)
				if err != nil {
					return err
				}
				kind := "multi-use"
				if once {
					kind = "one-time"
				}
				fmt.Fprintf(cmd.OutOrStdout(), "Temporary Access Pass of %s (%s, shown once): %s\nexpires %s (in %s)\n",
					args[0], kind, pass, expires.UTC().Format("2006-01-02 15:04 MST"), humanize.Duration(time.Until(expires).Round(time.Minute)))
				return nil
			})
		},
	}
	c.Flags().DurationVar(&lifetime, "lifetime", core.AccessPassDefaultLifetime, "How long the pass works: 10m to 720h (8h at most without --once)")
	c.Flags().BoolVar(&once, "once", false, "The pass works for one sign-in only")
	return c
}
