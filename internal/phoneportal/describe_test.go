package phoneportal

import "testing"

// DescribeAgent says what the phone says, and whether it recognised the
// agent.
func TestDescribeAgentKnown(t *testing.T) {
	for ua, want := range map[string]bool{
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36": true,
		"Microsoft-WebDAV-MiniRedir/10.0.19045 (Windows)":                                                       true,
		"git/2.47.0": false,
		"":           false,
	} {
		name, known := DescribeAgent(ua)
		if known != want || name != describeAgent(ua) {
			t.Errorf("DescribeAgent(%q) = %q, %v; want %q, %v", ua, name, known, describeAgent(ua), want)
		}
	}
}
