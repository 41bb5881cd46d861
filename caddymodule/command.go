package caddymodule

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/caddyserver/caddy/v2"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/factor/password"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/web"
)

func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "mfa",
		Usage: "user <add|import|passwd|reset-password|tap|mfa|block|unblock|reset-methods|list|remove> ... | app-passwords <list|delete-all> <username> | sessions revoke <username> | log",
		Short: "Manages mfagate users and app passwords in the store of a Caddy config",
		Long: `
Manages the users of mfagate directly in its store. The store is found in the
config the server runs (--config, default ./Caddyfile; the adapter is guessed
as 'caddy run' does), so run this where the server runs, as its user.

Only 'user add' and 'user import' create a missing SQLite database (schema and
keys, as the server would), and only when the config names it by an absolute
path in an existing directory. Otherwise a missing database is an error: start
the server once with its config, and it creates the database.

Commands that change the store print on stderr which store they used; Caddy's
own log lines are printed only with --verbose (its warnings always are, one
plain line each).

  caddy mfa user add alice --group staff --name "Alice Liddell" --email alice@example.com
  caddy mfa user import users_database.yml [--dry-run]
  echo 'violet tractor 7 umbrella' | caddy mfa user add alice --config Caddyfile --password-stdin
  caddy mfa user passwd alice [--keep-app-passwords]
  caddy mfa user reset-password alice
  caddy mfa user tap alice [--lifetime 1h] [--once]
  caddy mfa user mfa alice enforced
  caddy mfa user block alice
  caddy mfa user unblock alice
  caddy mfa user reset-methods alice
  caddy mfa user list
  caddy mfa user remove alice
  caddy mfa app-passwords list alice
  caddy mfa app-passwords delete-all alice
  caddy mfa sessions revoke alice
  caddy mfa log --user alice --since 24h
`,
		CobraFunc: buildMFACommand,
	})
}

// cliOptions are the flags every subcommand shares.
type cliOptions struct {
	config  string
	adapter string
	verbose bool // print Caddy's own log lines too
}

func buildMFACommand(cmd *cobra.Command) {
	opts := new(cliOptions)
	cmd.PersistentFlags().StringVarP(&opts.config, "config", "c", "", "Configuration file the server runs (default ./Caddyfile)")
	cmd.PersistentFlags().StringVarP(&opts.adapter, "adapter", "a", "", "Name of config adapter to apply")
	cmd.PersistentFlags().BoolVar(&opts.verbose, "verbose", false, "Also print Caddy's log lines (config loading, storage) on stderr")
	user := &cobra.Command{Use: "user", Short: "Add, change, list and remove users"}
	user.AddCommand(userAddCommand(opts), userPasswdCommand(opts), userListCommand(opts),
		userRemoveCommand(opts), userMFACommand(opts), userUnblockCommand(opts), userResetMethodsCommand(opts), userBlockCommand(opts),
		userResetPasswordCommand(opts), userImportCommand(opts), userTapCommand(opts))
	aps := &cobra.Command{Use: "app-passwords", Short: "List or delete users' app passwords"}
	aps.AddCommand(appPasswordsListCommand(opts), appPasswordsDeleteAllCommand(opts))
	cmd.AddCommand(user, aps, logCommand(opts), sessionsCommand(opts))
	quietUnlessVerbose(cmd, opts)
}

func appPasswordsListCommand(opts *cliOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "list <username>",
		Short: "Lists a user's app passwords (names and last use)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withUsers(cmd, opts, readOnly, func(ctx context.Context, svc *core.Accounts) error {
				list, err := svc.AppPasswords(ctx, args[0])
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tNAME\tCREATED\tLAST USED")
				for _, a := range list {
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", a.ID, a.Name, a.CreatedAt.UTC().Format("2006-01-02 15:04"), web.DescribeUse(a.LastUsedAt, a.LastUsedIP))
				}
				return tw.Flush()
			})
		},
	}
}

func appPasswordsDeleteAllCommand(opts *cliOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "delete-all <username>",
		Short: "Deletes all app passwords of a user",
		Long:  "Deletes all app passwords of a user. Running servers refuse them within 5 seconds (their verification cache lifetime is 4 s).",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withUsers(cmd, opts, changes, func(ctx context.Context, svc *core.Accounts) error {
				n, err := svc.DeleteAllAppPasswords(ctx, args[0])
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "deleted %d app passwords of %s\n", n, args[0])
				return nil
			})
		},
	}
}

func userAddCommand(opts *cliOptions) *cobra.Command {
	var nu core.NewUser
	var stdin bool
	var state string
	c := &cobra.Command{
		Use:   "add <username>",
		Short: "Adds a user (password read from the terminal or --password-stdin)",
		Long: "Adds a user. The password is read from the terminal (twice) or, with --password-stdin, from the first line of standard input;" +
			" it must have 8 to 72 bytes and pass the config's min_password_score (default 3), the username and issuer counting as easy to guess.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pw, err := readPassword(cmd, stdin)
			if err != nil {
				return err
			}
			nu.Username, nu.Password, nu.MFAState = args[0], pw, model.MFAState(state)
			return withUsers(cmd, opts, provisions, func(ctx context.Context, svc *core.Accounts) error {
				u, err := svc.Add(ctx, nu)
				if err == nil {
					fmt.Fprintf(cmd.OutOrStdout(), "added user %s (MFA %s)\n", u.Username, u.MFAState)
				}
				return err
			})
		},
	}
	c.Flags().BoolVar(&stdin, "password-stdin", false, "Read the password from standard input")
	c.Flags().StringArrayVar(&nu.Groups, "group", nil, "Group membership (repeatable)")
	c.Flags().StringVar(&nu.DisplayName, "name", "", "Display name")
	c.Flags().StringVar(&nu.Email, "email", "", "Email address")
	c.Flags().StringVar(&state, "mfa", string(model.MFAEnabled), "MFA state: disabled, enabled or enforced")
	return c
}

func userPasswdCommand(opts *cliOptions) *cobra.Command {
	var stdin bool
	var reset core.PasswordReset
	c := &cobra.Command{
		Use:   "passwd <username>",
		Short: "Sets a user's password, ends their sessions and deletes their app passwords",
		Long: "Sets a user's password, ends their sessions and deletes their app passwords (unless --keep-app-passwords):" +
			" a reset usually follows a suspected compromise. Running servers refuse the deleted app passwords within 5 seconds." +
			" The password must pass the config's min_password_score, as for add.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pw, err := readPassword(cmd, stdin)
			if err != nil {
				return err
			}
			return withUsers(cmd, opts, changes, func(ctx context.Context, svc *core.Accounts) error {
				n, err := svc.SetPassword(ctx, args[0], pw, reset)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "password of %s changed; their sessions were ended; %s\n", args[0], appPasswordsOutcome(reset, n))
				return nil
			})
		},
	}
	c.Flags().BoolVar(&stdin, "password-stdin", false, "Read the password from standard input")
	c.Flags().BoolVar(&reset.KeepAppPasswords, "keep-app-passwords", false, "Keep the user's app passwords working (by default they are deleted)")
	return c
}

// appPasswordsOutcome says what a password reset did to app passwords.
func appPasswordsOutcome(reset core.PasswordReset, deleted int64) string {
	if reset.KeepAppPasswords {
		return "their app passwords were kept"
	}
	return fmt.Sprintf("%d app passwords were deleted", deleted)
}

func userListCommand(opts *cliOptions) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "list",
		Short: "Lists users",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withUsers(cmd, opts, readOnly, func(ctx context.Context, svc *core.Accounts) error {
				list, err := svc.List(ctx)
				if err != nil {
					return err
				}
				return printUsers(cmd.OutOrStdout(), list, asJSON)
			})
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "Print JSON")
	return c
}

func userRemoveCommand(opts *cliOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "remove <username>",
		Short: "Removes a user with their methods and sessions",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withUsers(cmd, opts, changes, func(ctx context.Context, svc *core.Accounts) error {
				if err := svc.Remove(ctx, args[0]); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "removed user %s\n", args[0])
				return nil
			})
		},
	}
}

func userMFACommand(opts *cliOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "mfa <username> <disabled|enabled|enforced>",
		Short: "Sets a user's MFA state",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withUsers(cmd, opts, changes, func(ctx context.Context, svc *core.Accounts) error {
				if err := svc.SetMFAState(ctx, args[0], model.MFAState(args[1])); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "MFA state of %s is now %s\n", args[0], args[1])
				return nil
			})
		},
	}
}

func userUnblockCommand(opts *cliOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "unblock <username>",
		Short: "Lets a user sign in again: lifts a block and clears the failed sign-in counter, as the admin center's Unblock",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withUsers(cmd, opts, changes, func(ctx context.Context, svc *core.Accounts) error {
				detail, err := svc.Unblock(ctx, args[0])
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "unblocked %s: %s\n", args[0], detail)
				return nil
			})
		},
	}
}

func userResetMethodsCommand(opts *cliOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "reset-methods <username>",
		Short: "Removes all sign-in methods (authenticator apps and phones) and recovery codes of a user who lost them, and ends their sessions",
		Long: "Removes all sign-in methods (authenticator apps and phones) and recovery codes of a user who lost them, and ends their sessions, as the admin center's reset. " +
			"At their next sign-in the user registers a method again, with their password, unless multi-factor sign-in is disabled for them.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withUsers(cmd, opts, changes, func(ctx context.Context, svc *core.Accounts) error {
				n, err := svc.ResetMethods(ctx, args[0])
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "removed %d sign-in methods of %s; their sessions were ended\n", n, args[0])
				return nil
			})
		},
	}
}

type userRow struct {
	Username    string   `json:"username"`
	DisplayName string   `json:"display_name,omitempty"`
	Email       string   `json:"email,omitempty"`
	Groups      []string `json:"groups,omitempty"`
	MFAState    string   `json:"mfa_state"`
	Blocked     bool     `json:"blocked,omitempty"`
}

func printUsers(w io.Writer, list []model.User, asJSON bool) error {
	rows := make([]userRow, 0, len(list))
	for _, u := range list {
		rows = append(rows, userRow{u.Username, u.DisplayName, u.Email, u.Groups, string(u.MFAState), !u.BlockedAt.IsZero()})
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USERNAME\tNAME\tEMAIL\tGROUPS\tMFA")
	for _, r := range rows {
		state := r.MFAState
		if r.Blocked {
			state += " (blocked)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Username, r.DisplayName, r.Email, strings.Join(r.Groups, ","), state)
	}
	return tw.Flush()
}

// readPassword reads from stdin (first line) or asks twice on the terminal.
func readPassword(cmd *cobra.Command, fromStdin bool) (string, error) {
	if fromStdin {
		b, err := io.ReadAll(io.LimitReader(os.Stdin, 4096))
		if err != nil {
			return "", fmt.Errorf("reading password from stdin: %w", err)
		}
		pw, _, _ := strings.Cut(string(b), "\n")
		pw = strings.TrimSuffix(pw, "\r")
		return pw, password.Check(pw)
	}
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return "", errors.New("standard input is not a terminal: use --password-stdin")
	}
	pw, err := prompt(cmd, fd, "Password: ")
	if err != nil {
		return "", err
	}
	again, err := prompt(cmd, fd, "Repeat password: ")
	if err != nil {
		return "", err
	}
	if pw != again {
		return "", errors.New("passwords do not match")
	}
	return pw, password.Check(pw)
}

func prompt(cmd *cobra.Command, fd int, label string) (string, error) {
	fmt.Fprint(cmd.ErrOrStderr(), label)
	b, err := term.ReadPassword(fd)
	fmt.Fprintln(cmd.ErrOrStderr())
	if err != nil {
		return "", fmt.Errorf("reading password: %w", err)
	}
	return string(b), nil
}

// cliMode says what a subcommand does to the store: those that change it
// say which store they use; those that provision may create it.
type cliMode int

const (
	readOnly   cliMode = iota
	changes            // changes the store, which must exist
	provisions         // changes the store, and may create an SQLite one first
	// previewsProvision reads the store to say what provisions would do;
	// fn gets nil Accounts when that would create the SQLite store first.
	previewsProvision
)

// withUsers opens the store named by the config and runs fn. It creates a
// database only to provision (mode provisions) an SQLite file the config
// names by an absolute path (see provisionSQLite): otherwise a file that
// does not exist means the CLI is looking at another store than the
// server's (another user's data dir, another working directory, no
// --config), and a user added there would never reach the server.
func withUsers(cmd *cobra.Command, opts *cliOptions, mode cliMode, fn func(context.Context, *core.Accounts) error) error {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	app, configFile, err := appFromConfig(opts.config, opts.adapter)
	if err != nil {
		return err
	}
	// Loading the storage module (as `caddy storage export` loads Caddy's)
	// expands and checks its options; nothing is opened yet.
	cctx, cancel := caddy.NewContext(caddy.Context{Context: ctx})
	defer cancel()
	if err := app.loadStorage(cctx); err != nil {
		return fmt.Errorf("mfa storage: %w", err)
	}
	created := false
	if s, ok := app.storage.(*SQLiteStorage); ok {
		if err := sqliteExists(s.path, s.Path, configFile); err != nil {
			if mode == previewsProvision && sqliteCouldProvision(s) {
				fmt.Fprintf(cmd.ErrOrStderr(), "mfa: no sqlite store at %s yet: it would be created\n", s.path)
				return fn(ctx, nil)
			}
			if mode != provisions || !provisionable(s) {
				return err
			}
			if err := provisionSQLite(ctx, cmd, app, s, err); err != nil {
				return err
			}
			created = true
		}
	}
	if mode != readOnly && !created {
		fmt.Fprintf(cmd.ErrOrStderr(), "mfa: using %s\n", app.storage.describe(configFile))
	}
	// Outside the pool: the CLI is not a loaded config. Caddy's default
	// logger writes to stderr, beside "mfa: using ...".
	st, err := openBounded(ctx, app.storage, caddy.Log())
	if err != nil {
		return fmt.Errorf("mfa storage: %w", err)
	}
	defer st.Close()
	hasher, err := password.NewHasher(app.BcryptCost)
	if err != nil {
		return fmt.Errorf("bcrypt_cost: %w", err)
	}
	// The same account operations as the admin center's, made by the
	// operator; passwords given to add and passwd pass the server's
	// policy, with the app's issuer among the guessable words.
	policy := app.passwordPolicy()
	accounts, err := core.NewOperator(st, core.Config{Hasher: hasher, PasswordPolicy: &policy, Issuer: app.Issuer,
		AdminGroup: app.AdminGroup}, cliActor())
	if err != nil {
		return err
	}
	return fn(ctx, accounts)
}

// cliActor names who runs a CLI change in the audit log: the CLI and the
// operating-system account, as page changes name their admin.
func cliActor() core.Actor {
	if u, err := user.Current(); err == nil {
		return core.CLIActor(u.Username)
	}
	return core.CLIActor("")
}

// sqliteExists fails, with a hint, unless the database file is there.
// configured is the path as written in the config ("" for the default).
func sqliteExists(path, configured, configFile string) error {
	fi, err := os.Stat(path)
	if err == nil && fi.Mode().IsRegular() {
		return nil
	}
	if err == nil {
		return fmt.Errorf("mfa storage: %s is not a regular file", path)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("mfa storage: %w", err)
	}
	if configFile == "" {
		// Most often the --config was forgotten: say that first, briefly.
		return fmt.Errorf("mfa: no config given and no ./Caddyfile here: pass the server's, e.g. --config Caddyfile"+
			" (there is no database at the default location %s either)", path)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "mfa storage: no sqlite database at %s, and the CLI does not create one (the server would not see it)", path)
	fmt.Fprintf(&b, "; config: %s", configFile)
	switch {
	case configured == "":
		b.WriteString("; this is the default location <caddy data dir>/mfagate/mfagate.db, and the data dir depends on" +
			" the user running the command ($XDG_DATA_HOME/caddy, else $HOME/.local/share/caddy: with sudo it is root's," +
			" not the service user's)")
	case !filepath.IsAbs(configured):
		fmt.Fprintf(&b, "; the configured path %q is relative to the current directory", configured)
	}
	b.WriteString(". Start the server once with its config so that it creates the database, or pass --config" +
		" pointing at the config the server runs (run as the server's user, or with its HOME/XDG_DATA_HOME, if it" +
		" uses the default location)")
	return errors.New(b.String())
}

// appFromConfig adapts the config like `caddy run` and decodes apps.mfa;
// it returns the config file used ("" if none).
func appFromConfig(configFile, adapter string) (*App, string, error) {
	cfgJSON, configFile, _, err := caddycmd.LoadConfig(configFile, adapter)
	if err != nil {
		return nil, "", err
	}
	var cfg struct {
		Apps struct {
			MFA json.RawMessage `json:"mfa"`
		} `json:"apps"`
	}
	if len(cfgJSON) > 0 {
		if err := json.Unmarshal(cfgJSON, &cfg); err != nil {
			return nil, "", fmt.Errorf("reading config: %w", err)
		}
	}
	app := new(App)
	if len(cfg.Apps.MFA) > 0 {
		if err := json.Unmarshal(cfg.Apps.MFA, app); err != nil {
			return nil, "", fmt.Errorf("reading apps.mfa: %w", err)
		}
	}
	app.setDefaults()
	if err := app.passwordPolicy().Validate(); err != nil {
		return nil, "", fmt.Errorf("min_password_score: %w", err)
	}
	return app, configFile, nil
}
