package phoneportal

// DescribeAgent names a user agent in a few words ("Chrome on Linux"), as
// the phone's sign-in prompt does, for other pages that list sign-ins
// (the admin center's sign-in log): one describer, so both say the same.
func DescribeAgent(ua string) string { return describeAgent(ua) }
