package password

import (
	"context"
	"errors"
	"runtime"
	"time"
)

// ErrBusy means every bcrypt slot stayed taken for the whole wait: the
// caller should shed the attempt (429/503) rather than queue it, so a
// password-spraying storm cannot starve signed-in users of CPU.
var ErrBusy = errors.New("password: too many checks in progress")

// DefaultQueueWait is how long an attempt may wait for a bcrypt slot.
const DefaultQueueWait = 250 * time.Millisecond

// defaultSlots leaves at least half the cores to everything else.
func defaultSlots() int {
	return max(1, runtime.NumCPU()/2)
}

// VerifyBounded is Verify with bounded concurrency: at most a fixed number
// of comparisons run at once (half the cores); an attempt that cannot get a
// slot within the queue wait returns ErrBusy without comparing.
func (h *Hasher) VerifyBounded(ctx context.Context, hash, pw string) (bool, error) {
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer func() { <-h.slots }()
	return h.Verify(hash, pw), nil
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
