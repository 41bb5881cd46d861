package caddymodule

import (
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// push_number_digits takes 2 to 8 (default 2); anything else is refused
// before the store opens, with an error naming the option and its range.
func TestPushNumberDigitsChecked(t *testing.T) {
	for _, bad := range []int{-1, 1, 9, 100} {
		db := filepath.Join(t.TempDir(), "mfagate.db")
		a := &App{StorageRaw: storageJSON(t, "sqlite", "path", db), BcryptCost: 10, PushNumberDigits: bad}
		err := provision(t, a)
		if err == nil || !strings.Contains(err.Error(), "push_number_digits must be between 2 and 8") {
			t.Errorf("push_number_digits %d: %v", bad, err)
		}
		if exists(db) {
			t.Errorf("push_number_digits %d: the store was opened", bad)
		}
	}
	for set, want := range map[int]int{0: 2, 2: 2, 6: 6, 8: 8} {
		a := &App{StorageRaw: storageJSON(t, "sqlite", "path", filepath.Join(t.TempDir(), "ok.db")), BcryptCost: 10, PushNumberDigits: set}
		if err := provision(t, a); err != nil {
			t.Fatalf("push_number_digits %d refused: %v", set, err)
		}
		if a.PushNumberDigits != want || a.push.NumberDigits != want {
			t.Errorf("push_number_digits %d: option %d, wired %d; want %d", set, a.PushNumberDigits, a.push.NumberDigits, want)
		}
	}
}

// The Caddyfile's `push_number_digits N` lands in the JSON; a missing,
// extra or non-numeric argument is refused while adapting.
func TestPushNumberDigitsCaddyfile(t *testing.T) {
	out, err := adapt(t, "{\n\tmfa {\n\t\tpush_number_digits 6\n\t}\n}\n")
	if err != nil || !strings.Contains(out, `"push_number_digits":6`) {
		t.Fatalf("push_number_digits 6: %v\n%s", err, out)
	}
	out, err = adapt(t, "{\n\tmfa {\n\t\tissuer Corp\n\t}\n}\n")
	if err != nil || strings.Contains(out, "push_number_digits") {
		t.Fatalf("without the option: %v\n%s", err, out)
	}
	for _, bad := range []string{"push_number_digits", "push_number_digits six", "push_number_digits 6 7", "push_number_digits 0"} {
		if out, err := adapt(t, "{\n\tmfa {\n\t\t"+bad+"\n\t}\n}\n"); err == nil {
			t.Errorf("%q adapted:\n%s", bad, out)
		}
	}
}

// The start says whether the numbers meet NIST SP 800-63B-4's
// out-of-band rule (six digits or more).
func TestPushNumberDigitsLogged(t *testing.T) {
	for digits, want := range map[int]string{
		2: "shorter than the six digits NIST SP 800-63B-4 asks",
		5: "shorter than the six digits NIST SP 800-63B-4 asks",
		6: "meet NIST SP 800-63B-4's out-of-band rule",
		8: "meet NIST SP 800-63B-4's out-of-band rule",
	} {
		core, logs := observer.New(zapcore.InfoLevel)
		a := &App{logger: zap.New(core), PushNumberDigits: digits}
		a.logNumberDigits()
		entries := logs.All()
		if len(entries) != 1 || !strings.Contains(entries[0].Message, want) ||
			entries[0].ContextMap()["push_number_digits"] != int64(digits) {
			t.Errorf("push_number_digits %d logged %+v, want one entry saying %q with the option", digits, entries, want)
		}
	}
}
