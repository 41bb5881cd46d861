package core

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/mfagate/mfagate/internal/factor/password"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/secrets"
	"github.com/mfagate/mfagate/internal/testfixture/teststore"
)

// pow10 is 10^n.
func pow10(n int) int {
	p := 1
	for range n {
		p *= 10
	}
	return p
}

// Every number drawn has exactly N digits (never a leading zero) for N in
// 2..8, the draws cover the range (for two digits: all 90 numbers, 10 and
// 99 included), and a request made with push_number_digits N shows such
// a number.
func TestNumberHasExactlyNDigits(t *testing.T) {
	for digits := MinNumberDigits; digits <= MaxNumberDigits; digits++ {
		low, high := pow10(digits-1), pow10(digits)
		seen := map[int]bool{}
		lowHalf := 0
		const draws = 3000
		for range draws {
			n, err := drawNumber(digits)
			if err != nil {
				t.Fatal(err)
			}
			if n < low || n >= high || len(strconv.Itoa(n)) != digits {
				t.Fatalf("%d digits: drew %d", digits, n)
			}
			seen[n] = true
			if n < low+(high-low)/2 {
				lowHalf++
			}
		}
		if digits == 2 && len(seen) != 90 {
			t.Errorf("two digits: %d of the 90 numbers drawn in %d draws", len(seen), draws)
		}
		// Uniform: about half fall in the lower half of the range (a bias
		// toward either end, as 10 + rand(90) would give for six digits,
		// shows here).
		if lowHalf < draws*4/10 || lowHalf > draws*6/10 {
			t.Errorf("%d digits: %d of %d draws in the lower half of [%d, %d)", digits, lowHalf, draws, low, high)
		}

		f := newApprovalFixtureDigits(t, digits)
		ap := f.request(t, "browser-"+strconv.Itoa(digits))
		if ap.Number < low || ap.Number >= high || ap.Digits() != digits {
			t.Errorf("push_number_digits %d: request shows %d (%d digits)", digits, ap.Number, ap.Digits())
		}
		stored, err := f.c.Approvals.ForSession(context.Background(), []byte("browser-"+strconv.Itoa(digits)))
		if err != nil || stored.Number != ap.Number {
			t.Errorf("push_number_digits %d: stored request %+v, %v", digits, stored, err)
		}
	}
	for _, bad := range []int{0, 1, 9} {
		if n, err := drawNumber(bad); err == nil {
			t.Errorf("drawNumber(%d) = %d, want an error", bad, n)
		}
	}
}

// A core is not built with numbers outside 2..8 digits.
func TestNewRefusesNumberDigitsOutOfRange(t *testing.T) {
	h, err := password.NewHasher(password.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	key := []byte("0123456789abcdef0123456789abcdef")
	for _, bad := range []int{-1, 1, 9} {
		_, err := New(teststore.Open(t), Config{Hasher: h, Keys: &secrets.Keys{Factor: key, AppPasswordTag: key}, ApprovalNumberDigits: bad})
		if err == nil || !strings.Contains(err.Error(), "push_number_digits must be between 2 and 8") {
			t.Errorf("ApprovalNumberDigits %d: %v", bad, err)
		}
	}
}

// grouped writes a six-digit number as the waiting page shows it.
func grouped(n int) string {
	s := strconv.Itoa(n)
	return s[:3] + " " + s[3:]
}

// With push_number_digits 6 the phone's answer approves with the number
// typed as shown ("123 456") or without the space.
func TestSixDigitNumberApprovesWithOrWithoutTheSpace(t *testing.T) {
	f := newApprovalFixtureDigits(t, 6)
	ctx := context.Background()
	for i, typed := range []func(int) string{strconv.Itoa, grouped} {
		ap := f.request(t, "browser-"+strconv.Itoa(i))
		if ap.Digits() != 6 {
			t.Fatalf("request number %d", ap.Number)
		}
		status, err := f.c.Approvals.Answer(ctx, f.device, ap.ID, DecisionApprove, typed(ap.Number))
		if err != nil || status != model.ApprovalApproved {
			t.Fatalf("number typed as %q: %s, %v", typed(ap.Number), status, err)
		}
	}
	if fl, err := f.st.FailuresFor(ctx, "acct:alice"); err != nil || fl.Count != 0 {
		t.Errorf("account failures after right numbers = %+v, %v; want none", fl, err)
	}
}

// A wrong six-digit number voids the request and counts against the
// account, grouped or not, as a wrong two-digit number does. A number
// that is not six digits (the phone's form stops it) is refused before
// anything counts, and the request stays pending.
func TestWrongSixDigitNumberCounts(t *testing.T) {
	f := newApprovalFixtureDigits(t, 6)
	ctx := context.Background()
	for i, typed := range []func(int) string{strconv.Itoa, grouped} {
		ap := f.request(t, "browser-"+strconv.Itoa(i))
		right := strconv.Itoa(ap.Number)
		for _, bad := range []string{right[:5], right + "0", right[:2], right[:5] + "x", "", "12 34 5"} {
			var format *NumberFormatError
			if _, err := f.c.Approvals.Answer(ctx, f.device, ap.ID, DecisionApprove, bad); !errors.As(err, &format) || format.Digits != 6 {
				t.Fatalf("number %q for a six-digit request: %v, want a NumberFormatError of 6", bad, err)
			}
		}
		if got, _ := f.c.Approvals.ForSession(ctx, []byte("browser-"+strconv.Itoa(i))); got.Status != model.ApprovalPending {
			t.Fatalf("request after malformed numbers: %s, want still pending", got.Status)
		}
		// Another six-digit number: the last digit changed.
		wrong := ap.Number - ap.Number%10 + (ap.Number%10+1)%10
		status, err := f.c.Approvals.Answer(ctx, f.device, ap.ID, DecisionApprove, typed(wrong))
		if err != nil || status != model.ApprovalWrongNumber {
			t.Fatalf("wrong number %q: %s, %v", typed(wrong), status, err)
		}
		if _, err := f.c.Approvals.Answer(ctx, f.device, ap.ID, DecisionApprove, right); !errors.Is(err, ErrApprovalGone) {
			t.Fatalf("right number after a wrong one: %v, want ErrApprovalGone", err)
		}
		fl, err := f.st.FailuresFor(ctx, "acct:alice")
		if err != nil || fl.Count != i+1 {
			t.Errorf("account failures after %d wrong numbers = %+v, %v", i+1, fl, err)
		}
	}
}
