package caddymodule

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/humanize"
	"github.com/mfagate/mfagate/internal/model"
)

// userBlockCommand blocks a user's sign-in, as the phone's fraud report
// does, until `user unblock`.
func userBlockCommand(opts *cliOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "block <username>",
		Short: "Refuses every sign-in of a user (password, code, phone, basic auth) and ends their sessions, until unblock",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withUsers(cmd, opts, changes, func(ctx context.Context, svc *core.Accounts) error {
				if err := svc.Block(ctx, args[0]); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "blocked %s\n", args[0])
				return nil
			})
		},
	}
}

// userResetPasswordCommand gives a user a temporary password, printed
// once, to choose their own with after signing in.
func userResetPasswordCommand(opts *cliOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "reset-password <username>",
		Short: "Gives a user a temporary password (printed once) that they must replace after signing in",
		Long: "Gives a user a random temporary password, printed once. It works for 24 hours, never in basic auth, " +
			"and after signing in with it (and their second factor) the user must choose their own password. " +
			"The user's sessions end and their app passwords are deleted.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withUsers(cmd, opts, changes, func(ctx context.Context, svc *core.Accounts) error {
				pw, n, err := svc.ResetPassword(ctx, args[0])
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "temporary password of %s (valid %s, shown once): %s\n", args[0], humanize.Duration(core.TemporaryPasswordTTL), pw)
				fmt.Fprintf(cmd.ErrOrStderr(), "mfa: ended %s's sessions and deleted %d app passwords\n", args[0], n)
				return nil
			})
		},
	}
}

// sessionsCommand groups session commands.
func sessionsCommand(opts *cliOptions) *cobra.Command {
	c := &cobra.Command{Use: "sessions", Short: "End users' sessions"}
	c.AddCommand(&cobra.Command{
		Use:   "revoke <username>",
		Short: "Signs a user out everywhere (every browser session ends)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withUsers(cmd, opts, changes, func(ctx context.Context, svc *core.Accounts) error {
				n, err := svc.RevokeSessions(ctx, args[0])
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "ended %d sessions of %s\n", n, args[0])
				return nil
			})
		},
	})
	return c
}

// logCommand prints the sign-in log.
func logCommand(opts *cliOptions) *cobra.Command {
	var user string
	var since time.Duration
	var limit int
	var asJSON bool
	c := &cobra.Command{
		Use:   "log",
		Short: "Prints the sign-in log (every browser and basic-auth attempt), newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if since <= 0 {
				return fmt.Errorf("--since must be positive, got %s", since)
			}
			return withUsers(cmd, opts, readOnly, func(ctx context.Context, svc *core.Accounts) error {
				rows, err := svc.SignIns(ctx, user, time.Now().Add(-since), limit)
				if err != nil {
					return err
				}
				return printSignIns(cmd.OutOrStdout(), rows, asJSON)
			})
		},
	}
	c.Flags().StringVar(&user, "user", "", "Only this user's sign-ins")
	c.Flags().DurationVar(&since, "since", 24*time.Hour, "How far back")
	c.Flags().IntVar(&limit, "limit", 1000, "At most this many rows (0: all)")
	c.Flags().BoolVar(&asJSON, "json", false, "Print JSON")
	return c
}

type signInRow struct {
	At           time.Time `json:"at"`
	User         string    `json:"user"`
	Site         string    `json:"site,omitempty"`
	RemoteIP     string    `json:"remote_ip,omitempty"`
	Client       string    `json:"client,omitempty"`
	FirstFactor  string    `json:"first_factor,omitempty"`
	SecondFactor string    `json:"second_factor,omitempty"`
	Result       string    `json:"result"`
	Reason       string    `json:"reason,omitempty"`
	UserAgent    string    `json:"user_agent,omitempty"`
}

func printSignIns(w io.Writer, list []model.SignIn, asJSON bool) error {
	rows := make([]signInRow, 0, len(list))
	for _, e := range list {
		rows = append(rows, signInRow{e.At.UTC(), e.Username, e.Site, e.RemoteIP, e.Client, e.FirstFactor,
			e.SecondFactor, e.Result, e.Reason, e.UserAgent})
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME (UTC)\tUSER\tSITE\tFROM\tCLIENT\tFACTORS\tRESULT")
	for i, r := range rows {
		factors := list[i].Factors()
		result := r.Result
		if r.Reason != "" {
			result += ": " + r.Reason
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.At.Format("2006-01-02 15:04:05"), r.User, r.Site, r.RemoteIP,
			r.Client, factors, result)
	}
	return tw.Flush()
}
