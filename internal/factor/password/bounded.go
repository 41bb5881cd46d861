package password

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	"golang.org/x/time/rate"
)

// ErrBusy means every bcrypt slot stayed taken for the whole wait: the
// caller should shed the attempt (429/503) rather than queue it, so a
// password-spraying storm cannot starve signed-in users of CPU.
var ErrBusy = errors.New("password: too many checks in progress")

// DefaultQueueWait is how long an attempt may wait for a bcrypt slot.
const DefaultQueueWait = 250 * time.Millisecond

// DefaultCPUShare is the share of all cores that sign-in checks may use
// over time; a burst of a few seconds' worth is allowed above it.
const DefaultCPUShare = 1.0 / 3

// burstSeconds is how many seconds of the budget may be spent at once
// (people arriving together in the morning), before the rate applies; at
// least minBurst checks, however slow bcrypt measured at start-up.
const (
	burstSeconds = 5
	minBurst     = 64
)

// newBudget turns the measured cost of one comparison into a token
// bucket: share of the cores, in comparisons per second.
func newBudget(oneCheck time.Duration, share float64) *rate.Limiter {
	if oneCheck <= 0 {
		oneCheck = time.Millisecond
	}
	perSecond := share * float64(runtime.NumCPU()) / oneCheck.Seconds()
	return rate.NewLimiter(rate.Limit(perSecond), max(minBurst, int(perSecond*burstSeconds)))
}

// defaultSlots leaves at least half the cores to everything else.
func defaultSlots() int {
	return max(1, runtime.NumCPU()/2)
}

// SetCPUShare changes the share of all cores (0 < share <= 1) that
// VerifyBounded may use over time.
func (h *Hasher) SetCPUShare(share float64) error {
	if share <= 0 || share > 1 {
		return fmt.Errorf("sign-in CPU share must be above 0 and at most 1, got %g", share)
	}
	h.budget = newBudget(h.oneCheck, share)
	return nil
}

// VerifyBounded is Verify with bounded CPU: comparisons are paced to a
// share of the cores (DefaultCPUShare unless set) (with a short burst allowance) and at most half the
// cores run them at once; an attempt over the budget, or that cannot get a
// slot within the queue wait, returns ErrBusy without comparing. A hash
// dearer than the server's own (an imported one) is checked in its own
// pool instead, which never touches these slots and budget (see
// ImportedChecks): ErrImportedBusy when it is full.
func (h *Hasher) VerifyBounded(ctx context.Context, hash, pw string) (bool, error) {
	if h.dearer(hash) {
		return h.verifyImported(ctx, hash, pw)
	}
	if !h.budget.Allow() {
		return false, h.shed(ctx)
	}
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer func() { <-h.slots }()
	return h.Verify(hash, pw), nil
}

// HashBounded is Hash under the same budget and slots as VerifyBounded:
// hashing a new secret (an app password) costs one bcrypt like a sign-in
// check, so it is paced with them rather than beside them. Over the budget,
// or without a slot within the queue wait, it returns ErrBusy without
// hashing. An invalid password is refused before any budget is spent.
func (h *Hasher) HashBounded(ctx context.Context, pw string) (string, error) {
	if err := Check(pw); err != nil {
		return "", err
	}
	if !h.budget.Allow() {
		return "", h.shed(ctx)
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer func() { <-h.slots }()
	return h.Hash(pw)
}

// ShedDelay is how long an attempt over the budget is held before its
// ErrBusy answer: holding costs a sleeping goroutine, not CPU, and stops a
// client that ignores Retry-After from turning cheap refusals into a storm
// of its own.
const ShedDelay = time.Second

func (h *Hasher) shed(ctx context.Context) error {
	t := time.NewTimer(h.shedDelay)
	defer t.Stop()
	select {
	case <-t.C:
		return ErrBusy
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(h.queueWait)
	defer t.Stop()
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-t.C:
		return ErrBusy
	case <-ctx.Done():
		return ctx.Err()
	}
}
