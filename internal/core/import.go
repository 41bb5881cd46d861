package core

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/factor/password"
	"github.com/mfagate/mfagate/internal/model"
)

// ImportedUser is one account read from another system's users file (see
// package userimport), with where its parts are in the file.
type ImportedUser struct {
	Username     string
	DisplayName  string
	Email        string
	Groups       []string
	PasswordHash string // bcrypt or argon2id (password.Hasher.CheckImportedHash)
	// Disabled accounts are imported blocked: they sign in once an admin
	// unblocks them.
	Disabled bool

	// Line is the line of the entry (its username); PasswordLine and
	// GroupLines (one per group) those of its values, 0 when unknown
	// (Line is named then).
	Line         int
	PasswordLine int
	GroupLines   []int
}

// ImportProblem is one reason an import is refused.
type ImportProblem struct {
	Line     int    // 0: not tied to a line
	Username string // as written in the file; "" when not known
	Reason   string
}

func (p ImportProblem) String() string {
	var b strings.Builder
	if p.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Username != "" {
		fmt.Fprintf(&b, "user %q: ", p.Username)
	}
	b.WriteString(p.Reason)
	return b.String()
}

// ImportError refuses an import, listing every problem found (nothing was
// imported).
type ImportError struct {
	Problems []ImportProblem
}

// NewImportError returns an ImportError listing problems in file order.
func NewImportError(problems []ImportProblem) *ImportError {
	slices.SortStableFunc(problems, func(a, b ImportProblem) int { return a.Line - b.Line })
	return &ImportError{Problems: problems}
}

func (e *ImportError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return fmt.Sprintf("nothing imported: %d problem(s) in the file:\n  %s", len(e.Problems), strings.Join(lines, "\n  "))
}

// ImportResult says what an import created (or, dry, would create).
type ImportResult struct {
	// Users as created (IDs set) or, dry, as they would be.
	Users []*model.User
	// Rehashed counts the hashes replaced by bcrypt at the server's cost
	// at each user's first successful sign-in (argon2id, or bcrypt at
	// another cost); Blocked the users imported blocked (disabled in the
	// file); Reset those imported with no usable password (ImportOptions.
	// AllowReset).
	Rehashed, Blocked, Reset int
}

// ImportOptions says how to import.
type ImportOptions struct {
	// DryRun writes nothing: the result says what would be created.
	DryRun bool
	// AllowReset imports a user whose hash costs more than
	// password.MaxImportedCost checks with no usable password (no
	// password matches until an admin resets it) instead of refusing the
	// file.
	AllowReset bool
}

// NoUsablePassword reports whether u has no password that can match:
// imported with AllowReset, until an admin resets it (reset-password gives
// a temporary one).
func NoUsablePassword(u *model.User) bool { return u.PasswordHash == "" }

// SummarizeImport counts what importing us (CheckImport's users) makes,
// for a server whose hasher is h.
func SummarizeImport(us []*model.User, h *password.Hasher) *ImportResult {
	r := &ImportResult{Users: us}
	for _, u := range us {
		switch {
		case NoUsablePassword(u):
			r.Reset++
		case h.NeedsRehash(u.PasswordHash):
			r.Rehashed++
		}
		if !u.BlockedAt.IsZero() {
			r.Blocked++
		}
	}
	return r
}

// importedReason is the block reason of a user disabled in the file.
func importedReason(source string) string {
	return "disabled in the imported file " + source
}

// CheckImport validates users read from a file without the store, for a
// server whose hasher is h: usernames (normalised, none twice), group
// names, and hashes (password.Hasher.CheckImportedHash: a supported
// scheme, at most password.MaxImportedCost checks at the server's bcrypt
// cost). It returns the users to create (MFA state Enabled: they register
// a second factor at their first sign-in), or an *ImportError naming every
// problem with its line. With allowReset a user whose hash is only too
// costly is kept with no usable password (NoUsablePassword).
func CheckImport(in []ImportedUser, h *password.Hasher, allowReset bool) ([]*model.User, error) {
	var problems []ImportProblem
	bad := func(line int, name, format string, args ...any) {
		problems = append(problems, ImportProblem{Line: line, Username: name, Reason: fmt.Sprintf(format, args...)})
	}
	firstLine := map[string]int{}
	out := make([]*model.User, 0, len(in))
	for _, iu := range in {
		ok := true
		name, err := NormalizeUsername(iu.Username)
		if err != nil {
			bad(iu.Line, iu.Username, "%v", err)
			ok = false
		} else if prev, dup := firstLine[name]; dup {
			bad(iu.Line, iu.Username, "the username %q is given twice (first on line %d)", name, prev)
			ok = false
		} else {
			firstLine[name] = iu.Line
		}
		for i, g := range iu.Groups {
			if err := checkGroup(strings.TrimSpace(g)); err != nil {
				line := iu.Line
				if i < len(iu.GroupLines) && iu.GroupLines[i] > 0 {
					line = iu.GroupLines[i]
				}
				bad(line, iu.Username, "%v", err)
				ok = false
			}
		}
		hash := iu.PasswordHash
		if _, _, err := h.CheckImportedHash(hash); err != nil {
			line := iu.Line
			if iu.PasswordLine > 0 {
				line = iu.PasswordLine
			}
			switch {
			case allowReset && errors.Is(err, password.ErrTooCostly):
				hash = "" // no usable password: an admin resets it
			case errors.Is(err, password.ErrTooCostly):
				bad(line, iu.Username, "password: %v (--allow-reset imports the user with no usable password, for an admin to reset)", err)
				ok = false
			default:
				bad(line, iu.Username, "password: %v", err)
				ok = false
			}
		}
		if !ok {
			continue
		}
		groups, _ := NormalizeGroups(iu.Groups) // checked above
		u := &model.User{
			Username:     name,
			DisplayName:  strings.TrimSpace(iu.DisplayName),
			Email:        strings.TrimSpace(iu.Email),
			Groups:       groups,
			PasswordHash: hash,
			MFAState:     model.MFAEnabled,
		}
		if iu.Disabled {
			u.BlockedAt = time.Now() // the reason is set by Import, which knows the file
		}
		out = append(out, u)
	}
	if len(problems) > 0 {
		return nil, NewImportError(problems)
	}
	return out, nil
}

// Import creates the users read from source (a file name, for the block
// reason and the audit log) all at once or not at all: it validates them
// (CheckImport, with opts.AllowReset), refuses names that exist in the
// store (with their line), and then creates every user in one store
// transaction. Users disabled in the file are created blocked. Each
// creation is audited as "imported from source by <actor>". With
// opts.DryRun nothing is written and the result says what would be
// created.
func (s *Accounts) Import(ctx context.Context, source string, in []ImportedUser, opts ImportOptions) (*ImportResult, error) {
	us, err := CheckImport(in, s.hasher, opts.AllowReset)
	if err != nil {
		return nil, err
	}
	existing, err := s.store.ListUsers(ctx)
	if err != nil {
		return nil, fmt.Errorf("import: listing users: %w", err)
	}
	taken := make(map[string]bool, len(existing))
	for _, u := range existing {
		taken[u.Username] = true
	}
	var problems []ImportProblem
	res := SummarizeImport(us, s.hasher)
	lines := entryLines(in)
	for _, u := range us {
		if taken[u.Username] {
			problems = append(problems, ImportProblem{Line: lines[u.Username], Username: u.Username,
				Reason: "a user of this name exists already"})
		}
		if !u.BlockedAt.IsZero() {
			u.BlockedReason = importedReason(source)
		}
	}
	if len(problems) > 0 {
		return nil, NewImportError(problems)
	}
	if opts.DryRun || len(us) == 0 {
		return res, nil
	}
	if err := s.store.CreateUsers(ctx, us); err != nil {
		if errors.Is(err, model.ErrConflict) {
			return nil, fmt.Errorf("nothing imported: a user was created meanwhile (%w)", err)
		}
		return nil, fmt.Errorf("nothing imported: %w", err)
	}
	for _, u := range us {
		// New accounts: nothing about them is cached anywhere, so no
		// event is announced.
		s.audit.Record(ctx, model.AuditEvent{UserID: u.ID, Username: u.Username, Event: audit.UserCreated,
			Detail: s.importDetail(u) + "; imported from " + source + " by " + s.actor.Name})
	}
	return res, nil
}

// importDetail says, for the audit log, what an import made of u.
func (s *Accounts) importDetail(u *model.User) string {
	detail := fmt.Sprintf("state %s, groups %v", u.MFAState, u.Groups)
	switch {
	case NoUsablePassword(u):
		detail += fmt.Sprintf(", no usable password (its hash costs more than %.1f checks at bcrypt cost %d; an admin resets it)",
			password.MaxImportedCost, s.hasher.Cost())
	case s.hasher.NeedsRehash(u.PasswordHash):
		detail += fmt.Sprintf(", %s hash (bcrypt cost %d at first sign-in)", describeHash(u.PasswordHash), s.hasher.Cost())
	}
	if !u.BlockedAt.IsZero() {
		detail += ", blocked (disabled in the file)"
	}
	return detail
}

// entryLines maps each valid username (normalised) to its entry's line.
func entryLines(in []ImportedUser) map[string]int {
	lines := make(map[string]int, len(in))
	for _, iu := range in {
		if n, err := NormalizeUsername(iu.Username); err == nil {
			if _, seen := lines[n]; !seen {
				lines[n] = iu.Line
			}
		}
	}
	return lines
}
