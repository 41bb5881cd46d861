// Package humanize writes values the way pages and messages say them to
// people ("24 hours", not Go's "24h0m0s").
package humanize

import (
	"strconv"
	"strings"
	"time"
)

// units are the parts a duration is said in, largest first.
var units = []struct {
	size      time.Duration
	one, many string
}{
	{24 * time.Hour, "day", "days"},
	{time.Hour, "hour", "hours"},
	{time.Minute, "minute", "minutes"},
	{time.Second, "second", "seconds"},
}

// Duration says d in words, to the second: "24 hours", "10 minutes",
// "1 hour 30 minutes". A whole number of days is said in hours up to two
// days ("48 hours"), as a validity usually is; below a second it is
// "less than a second".
func Duration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	d = d.Truncate(time.Second)
	if d == 0 {
		return "less than a second"
	}
	var parts []string
	for _, u := range units {
		if u.size == 24*time.Hour && d <= 48*time.Hour {
			continue
		}
		n := d / u.size
		if n == 0 {
			continue
		}
		d -= n * u.size
		name := u.many
		if n == 1 {
			name = u.one
		}
		parts = append(parts, strconv.FormatInt(int64(n), 10)+" "+name)
	}
	return strings.Join(parts, " ")
}
