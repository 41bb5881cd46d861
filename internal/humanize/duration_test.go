package humanize

import (
	"testing"
	"time"
)

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		24 * time.Hour:                     "24 hours",
		48 * time.Hour:                     "48 hours",
		72 * time.Hour:                     "3 days",
		73 * time.Hour:                     "3 days 1 hour",
		10 * time.Minute:                   "10 minutes",
		time.Hour + 30*time.Minute:         "1 hour 30 minutes",
		time.Minute:                        "1 minute",
		90 * time.Second:                   "1 minute 30 seconds",
		time.Second + 400*time.Millisecond: "1 second",
		300 * time.Millisecond:             "less than a second",
		-10 * time.Minute:                  "10 minutes",
	} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
	}
}
