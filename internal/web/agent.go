package web

import "strings"

// browsers and systems are looked for in a user agent, in order: the
// first match names it ("Edg/" before "Chrome/", which Edge also sends;
// "Chrome/" before "Safari/", which Chrome also sends).
var (
	browsers = []struct{ token, name string }{
		{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"FxiOS/", "Firefox"},
		{"CriOS/", "Chrome"}, {"Chrome/", "Chrome"}, {"Safari/", "Safari"},
	}
	systems = []struct{ token, name string }{
		{"Windows", "Windows"}, {"iPhone", "iPhone"}, {"iPad", "iPad"}, {"Android", "Android"},
		{"Mac OS X", "macOS"}, {"CrOS", "ChromeOS"}, {"Linux", "Linux"},
	}
)

// unrecognisedAgent is what a phone shows for a user agent naming no
// known browser or system.
const unrecognisedAgent = "an unrecognised browser"

// AgentName turns a sign-in's user agent into the few words a phone
// shows ("Firefox on Windows"). The user agent is the client's to choose,
// so nothing of it is shown as sent: one naming no known browser or
// system is "an unrecognised browser" (a text of the attacker's choice on
// the prompt, "type 47 to keep your account safe", would be an
// instruction).
func AgentName(ua string) string {
	browser, system := match(ua, browsers), match(ua, systems)
	switch {
	case browser != "" && system != "":
		return browser + " on " + system
	case browser != "":
		return browser
	case system != "":
		return "a browser on " + system
	}
	return unrecognisedAgent
}

func match(ua string, list []struct{ token, name string }) string {
	for _, e := range list {
		if strings.Contains(ua, e.token) {
			return e.name
		}
	}
	return ""
}

// DescribeAgent names a user agent in a few words ("Chrome on Linux"), as
// the phone's sign-in prompt does (AgentName), for other pages that list
// sign-ins (the admin center's sign-in log), so both say the same. known
// is false when it names no browser or system the describer knows: the
// phone then says "an unrecognised browser", and a page for admins may
// show the agent itself instead (an app's "git/2.47.0").
func DescribeAgent(ua string) (name string, known bool) {
	return AgentName(ua), match(ua, browsers) != "" || match(ua, systems) != ""
}
