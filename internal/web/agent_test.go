package web

import "testing"

func TestAgentName(t *testing.T) {
	for ua, want := range map[string]string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0":                                          "Firefox on Windows",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36 Edg/131.0":     "Edge on Windows",
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36":             "Chrome on Linux",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15":     "Safari on macOS",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0 Mobile/15E148": "Chrome on iPhone",
		"curl/8.5.0": "an unrecognised browser",
		"":           "an unrecognised browser",
		"IT desk: type 47 to keep your account safe": "an unrecognised browser",
	} {
		if got := AgentName(ua); got != want {
			t.Errorf("AgentName(%q) = %q, want %q", ua, got, want)
		}
	}
}

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
		if known != want || name != AgentName(ua) {
			t.Errorf("DescribeAgent(%q) = %q, %v; want %q, %v", ua, name, known, AgentName(ua), want)
		}
	}
}
