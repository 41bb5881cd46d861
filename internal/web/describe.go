package web

import "time"

// DescribeUse formats when (and from where) a sign-in method was last used,
// for Security info and the CLI's listings: "Never" when it was not.
func DescribeUse(at time.Time, ip string) string {
	if at.IsZero() {
		return "Never"
	}
	s := at.UTC().Format("2006-01-02 15:04 UTC")
	if ip != "" {
		s += " from " + ip
	}
	return s
}
