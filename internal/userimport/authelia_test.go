package userimport

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/factor/password"
)

const sample = `# Authelia users
users:
  alice:
    disabled: false
    displayname: "Alice Smith"
    password: "$argon2id$v=19$m=65536,t=3,p=4$BpLnfgDsc2WD8F2q$o/vzA4myCqZZ36bUGsDY//8mKUYNZZaR0t4MIFAhV8U"
    email: alice@example.com
    groups: [admins, dev]
  Bob:
    password: $2y$12$abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0
    disabled: true
    groups:
      - staff
    locale: en-GB
  carol:
    password: "$2b$10$abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0"
`

func TestParseAuthelia(t *testing.T) {
	got, err := ParseAuthelia([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	want := []core.ImportedUser{
		{Username: "alice", DisplayName: "Alice Smith", Email: "alice@example.com", Groups: []string{"admins", "dev"},
			PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$BpLnfgDsc2WD8F2q$o/vzA4myCqZZ36bUGsDY//8mKUYNZZaR0t4MIFAhV8U",
			Line:         3, PasswordLine: 6, GroupLines: []int{8, 8}},
		{Username: "Bob", Groups: []string{"staff"}, Disabled: true,
			PasswordHash: "$2y$12$abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0", Line: 9, PasswordLine: 10, GroupLines: []int{13}},
		{Username: "carol", PasswordHash: "$2b$10$abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0", Line: 15, PasswordLine: 16},
	}
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Fatalf("got\n%+v\nwant\n%+v", got, want)
	}
	// The values pass core's rules.
	if _, err := core.CheckImport(got, hasher(t), false); err != nil {
		t.Fatal(err)
	}
}

// wantProblems checks that err is an *core.ImportError with exactly
// these "line N: …" beginnings, in order.
func wantProblems(t *testing.T, err error, want ...string) {
	t.Helper()
	var ie *core.ImportError
	if !errors.As(err, &ie) {
		t.Fatalf("error %v, want an ImportError", err)
	}
	if len(ie.Problems) != len(want) {
		t.Fatalf("problems:\n%v\nwant %d: %q", err, len(want), want)
	}
	for i, w := range want {
		if got := ie.Problems[i].String(); !strings.HasPrefix(got, w) {
			t.Errorf("problem %d: %q, want it to start with %q", i, got, w)
		}
	}
}

func TestParseAutheliaRefusesWithLines(t *testing.T) {
	_, err := ParseAuthelia([]byte(`users:
  alice:
    password: [not, text]
    displayname: {a: b}
    disabled: "yes"
    groups: {a: b}
    passwrd: typo
    email: a@example.com
    email: b@example.com
  bob:
    displayname: no password
  carol: just text
  dave:
    password: "$2y$12$x"
    groups:
      - ok
      - [nested]
extra: 1
`))
	wantProblems(t, err,
		"line 3: user \"alice\": password must be text",
		"line 4: user \"alice\": displayname must be text",
		"line 5: user \"alice\": disabled must be true or false",
		"line 6: user \"alice\": groups must be a list",
		"line 7: user \"alice\": unknown field \"passwrd\"",
		"line 9: user \"alice\": the field \"email\" is given twice",
		"line 10: user \"bob\": no password hash",
		"line 12: user \"carol\": the user's fields must be a mapping",
		"line 17: user \"dave\": a group must be a name",
		"line 18: unknown top-level key \"extra\"",
	)
	if !strings.Contains(err.Error(), "nothing imported") {
		t.Errorf("message: %v", err)
	}

	for text, want := range map[string]string{
		"just text\n":                 "line 1: the file must be a mapping",
		"people:\n  a: {}\n":          "line 1: unknown top-level key \"people\"",
		"users: [a, b]\n":             "line 1: \"users\" must map usernames",
		"users:\n":                    "line 1: no users in the file",
		"users: {}\n---\nusers: {}\n": "line 2: a second YAML document",
		"{}\n":                        "line 1: no \"users\" key",
	} {
		_, err := ParseAuthelia([]byte(text))
		wantProblems(t, err, want)
	}
	if _, err := ParseAuthelia([]byte("users:\n  a: [\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("broken YAML: %v", err)
	}
	if _, err := ParseAuthelia(make([]byte, MaxFileBytes+1)); err == nil {
		t.Error("an oversized file was read")
	}
}

// TestCheckImportNamesTheLine: a value core refuses is named by the line
// it is on: the password's for a hash, the group's for a group, the
// entry's for the username.
func TestCheckImportNamesTheLine(t *testing.T) {
	in, err := ParseAuthelia([]byte(`users:
  alice:
    password: "$2y$12$abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0"
    groups: [dev]
  bob:
    displayname: Bob
    password: "$6$rounds=5000$saltsalt$hash"
  "bad name":
    password: "$2y$12$abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0"
  carl:
    password: "$2y$12$abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0"
    groups:
      - ok
      - "a,b"
  ALICE:
    password: "$2y$12$abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0"
  dora:
    password: plaintext-password
`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = core.CheckImport(in, hasher(t), false)
	wantProblems(t, err,
		`line 7: user "bob": password: unsupported password hash: sha512-crypt`,
		`line 8: user "bad name": username must be`,
		`line 14: user "carl": group "a,b"`,
		`line 15: user "ALICE": the username "alice" is given twice (first on line 2)`,
		`line 18: user "dora": password: unsupported password hash: not a hash`,
	)
	if strings.Contains(err.Error(), "plaintext-password") || strings.Contains(err.Error(), "saltsalt") {
		t.Errorf("the error quotes a secret: %v", err)
	}
}

// hasher is a server's hasher at the default bcrypt cost, 12.
func hasher(t *testing.T) *password.Hasher {
	t.Helper()
	h, err := password.NewHasher(password.DefaultCost)
	if err != nil {
		t.Fatal(err)
	}
	return h
}
