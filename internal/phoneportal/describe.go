package phoneportal

// DescribeAgent names a user agent in a few words ("Chrome on Linux"), as
// the phone's sign-in prompt does, for other pages that list sign-ins
// (the admin center's sign-in log), so both say the same. known is false
// when it names no browser or system the describer knows: the phone then
// says "an unrecognised browser", and a page for admins may show the
// agent itself instead (an app's "git/2.47.0").
func DescribeAgent(ua string) (name string, known bool) {
	return describeAgent(ua), match(ua, browsers) != "" || match(ua, systems) != ""
}
