package web

import (
	"testing"
	"time"
)

func TestDescribeUse(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("CET", 3600))
	for _, c := range []struct {
		at   time.Time
		ip   string
		want string
	}{
		{time.Time{}, "192.0.2.1", "Never"},
		{at, "", "2026-03-04 04:06 UTC"},
		{at, "192.0.2.1", "2026-03-04 04:06 UTC from 192.0.2.1"},
	} {
		if got := DescribeUse(c.at, c.ip); got != c.want {
			t.Errorf("DescribeUse(%v, %q) = %q, want %q", c.at, c.ip, got, c.want)
		}
	}
}
