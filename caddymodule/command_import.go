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
	"golang.org/x/crypto/bcrypt"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/factor/password"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/userimport"
)

// userImportCommand imports the users of an Authelia users file, all or
// nothing.
func userImportCommand(opts *cliOptions) *cobra.Command {
	var imp core.ImportOptions
	c := &cobra.Command{
		Use:   "import <file>",
		Short: "Imports the users of an Authelia users file (users_database.yml), all or nothing",
		Long: "Imports the users of an Authelia users file: username, displayname, email, groups and the password hash." +
			" bcrypt and argon2id hashes are kept until each user's first sign-in, which replaces them by bcrypt at" +
			" bcrypt_cost. A hash whose check costs more than 2 checks at bcrypt_cost (bcrypt: 2^(its cost - bcrypt_cost);" +
			" argon2id: measured on this machine) would let anyone tell the account apart by timing and refuses the file," +
			" unless --allow-reset, which imports that user with no usable password for an admin to reset" +
			" (caddy mfa user reset-password, or Reset password in the admin center)." +
			" Users with disabled: true are imported blocked (caddy mfa user unblock lets them in). New users" +
			" have MFA enabled: they register a second factor at their first sign-in. Any problem (another hash scheme," +
			" a bad username or group, a name given twice or already in the store) refuses the whole file, naming the" +
			" line; otherwise every user is created in one transaction. --dry-run checks and prints without writing." +
			" Like user add, it may create the SQLite store before the server's first start.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runImport(cmd, opts, args[0], imp)
		},
	}
	c.Flags().BoolVar(&imp.DryRun, "dry-run", false, "Check the file and print what would be imported, without writing")
	c.Flags().BoolVar(&imp.AllowReset, "allow-reset", false,
		"Import users whose hash is too costly to check with no usable password (an admin resets it) instead of refusing the file")
	return c
}

func runImport(cmd *cobra.Command, opts *cliOptions, file string, imp core.ImportOptions) error {
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
	hasher, err := password.NewHasher(app.BcryptCost)
	if err != nil {
		return fmt.Errorf("bcrypt_cost: %w", err)
	}
	us, err := core.CheckImport(in, hasher, imp.AllowReset)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	mode := provisions
	if imp.DryRun {
		mode = previewsProvision
	}
	return withUsers(cmd, opts, mode, func(ctx context.Context, svc *core.Accounts) error {
		res := core.SummarizeImport(us, hasher)
		if svc != nil {
			if res, err = svc.Import(ctx, source, in, imp); err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
		}
		// else no store yet (the import would create it): nothing to
		// collide with.
		return printImport(cmd.OutOrStdout(), res, hasher.Cost(), imp.DryRun)
	})
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

// printImport lists the users (never their hashes) and the summary, for a
// server hashing at bcrypt cost cost.
func printImport(w io.Writer, res *core.ImportResult, cost int, dryRun bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USERNAME\tNAME\tEMAIL\tGROUPS\tHASH\tMFA")
	for _, u := range res.Users {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", u.Username, u.DisplayName, u.Email, strings.Join(u.Groups, ","),
			hashColumn(u.PasswordHash, cost), importState(u))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	verb := "imported"
	if dryRun {
		verb = "would be imported"
	}
	fmt.Fprintf(w, "%d users %s (%d hashes to be replaced by bcrypt cost %d at first sign-in)", len(res.Users), verb, res.Rehashed, cost)
	if res.Reset > 0 {
		fmt.Fprintf(w, "; %d with no usable password, too costly to check (caddy mfa user reset-password gives them one)", res.Reset)
	}
	if res.Blocked > 0 {
		fmt.Fprintf(w, "; %d blocked, disabled in the file (caddy mfa user unblock lets them in)", res.Blocked)
	}
	if dryRun {
		fmt.Fprint(w, "; dry run: nothing was written")
	}
	fmt.Fprintln(w)
	return nil
}

// hashColumn says what becomes of an imported hash.
func hashColumn(hash string, cost int) string {
	switch {
	case hash == "":
		return "none: too costly, an admin resets it"
	case password.IsArgon2id(hash):
		return fmt.Sprintf("argon2id (bcrypt %d at first sign-in)", cost)
	}
	if c, err := bcrypt.Cost([]byte(hash)); err == nil && c != cost {
		return fmt.Sprintf("bcrypt %d (bcrypt %d at first sign-in)", c, cost)
	}
	return "bcrypt"
}

func importState(u *model.User) string {
	state := string(u.MFAState)
	if !u.BlockedAt.IsZero() {
		state += " (blocked: disabled in the file)"
	}
	return state
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
