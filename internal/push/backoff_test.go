package push

import (
	"testing"
	"time"
)

func TestBackoffSkipsForTenMinutesAfterTwoTimeouts(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b := newBackoff(func() time.Time { return now })
	const ep = "https://fcm.googleapis.com/fcm/send/x"
	b.timedOut(ep)
	if b.skipping(ep) {
		t.Fatal("skipped after one timeout")
	}
	b.timedOut(ep)
	if !b.skipping(ep) || b.skipping("https://fcm.googleapis.com/fcm/send/y") {
		t.Fatal("two timeouts: the subscription, and only it, must be skipped")
	}
	now = now.Add(10*time.Minute - time.Second)
	if !b.skipping(ep) {
		t.Fatal("skipping ended before ten minutes")
	}
	now = now.Add(time.Second)
	if b.skipping(ep) {
		t.Fatal("still skipped after ten minutes")
	}
	// A success forgets earlier timeouts.
	b.timedOut(ep)
	b.succeeded(ep)
	b.timedOut(ep)
	if b.skipping(ep) {
		t.Fatal("timeouts separated by a success started a pause")
	}
}
