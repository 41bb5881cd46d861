package caddymodule

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/factor/password"
	"github.com/mfagate/mfagate/internal/userimport"
)

// userImportCommand imports the users of an Authelia users file, all or
// nothing.
func userImportCommand(opts *cliOptions) *cobra.Command {
	var dryRun bool
	c := &cobra.Command{
		Use:   "import <file>",
		Short: "Imports the users of an Authelia users file (users_database.yml), all or nothing",
		Long: "Imports the users of an Authelia users file: username, displayname, email, groups and the password hash." +
			" bcrypt hashes are kept; argon2id hashes are kept until each user's first sign-in, which replaces them by" +
			" bcrypt. Users with disabled: true are imported blocked (caddy mfa user unblock lets them in). New users" +
			" have MFA enabled: they register a second factor at their first sign-in. Any problem (another hash scheme," +
			" a bad username or group, a name given twice or already in the store) refuses the whole file, naming the" +
			" line; otherwise every user is created in one transaction. --dry-run checks and prints without writing." +
			" Like user add, it may create the SQLite store before the server's first start.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runImport(cmd, opts, args[0], dryRun)
		},
	}
	c.Flags().BoolVar(&dryRun, "dry-run", false, "Check the file and print what would be imported, without writing")
	return c
}

func runImport(cmd *cobra.Command, opts *cliOptions, file string, dryRun bool) error {
	data, err := readImportFile(file)
	if err != nil {
		return err
	}
	source, err := filepath.Abs(file)
	if err != nil {
		source = file
	}
	in, err := userimport.ParseAuthelia(data)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	// The file's own rules first: a bad file creates no store.
	app, _, err := appFromConfig(opts.config, opts.adapter)
	if err != nil {
		return err
	}
	if _, err := core.CheckImport(in, app.BcryptCost); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	mode := provisions
	if dryRun {
		mode = previewsProvision
	}
	return withUsers(cmd, opts, mode, func(ctx context.Context, svc *core.Accounts) error {
		var res *core.ImportResult
		if svc == nil {
			// No store yet (the import would create it): nothing to
			// collide with.
			us, err := core.CheckImport(in, app.BcryptCost)
			if err != nil {
				return err
			}
			res = &core.ImportResult{Users: us}
			for _, u := range us {
				res.Argon2id += boolInt(password.NeedsUpgrade(u.PasswordHash))
				res.Blocked += boolInt(!u.BlockedAt.IsZero())
			}
		} else if res, err = svc.Import(ctx, source, in, dryRun); err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		return printImport(cmd.OutOrStdout(), res, dryRun)
	})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// readImportFile reads at most userimport.MaxFileBytes of file.
func readImportFile(file string) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, userimport.MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", file, err)
	}
	return data, nil
}

// printImport lists the users (never their hashes) and the summary.
func printImport(w io.Writer, res *core.ImportResult, dryRun bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USERNAME\tNAME\tEMAIL\tGROUPS\tHASH\tMFA")
	for _, u := range res.Users {
		scheme := "bcrypt"
		if password.NeedsUpgrade(u.PasswordHash) {
			scheme = "argon2id (bcrypt at first sign-in)"
		}
		state := string(u.MFAState)
		if !u.BlockedAt.IsZero() {
			state += " (blocked: disabled in the file)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", u.Username, u.DisplayName, u.Email, strings.Join(u.Groups, ","), scheme, state)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	verb := "imported"
	if dryRun {
		verb = "would be imported"
	}
	fmt.Fprintf(w, "%d users %s (%d argon2id hashes to be upgraded at first sign-in)", len(res.Users), verb, res.Argon2id)
	if res.Blocked > 0 {
		fmt.Fprintf(w, "; %d blocked, disabled in the file (caddy mfa user unblock lets them in)", res.Blocked)
	}
	if dryRun {
		fmt.Fprint(w, "; dry run: nothing was written")
	}
	fmt.Fprintln(w)
	return nil
}

// sqliteCouldProvision reports whether withUsers, provisioning, could
// create s's database: for a dry run of an import before the first start.
func sqliteCouldProvision(s *SQLiteStorage) bool {
	if !provisionable(s) {
		return false
	}
	fi, err := os.Stat(filepath.Dir(s.path))
	return err == nil && fi.IsDir()
}
