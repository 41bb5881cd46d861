package phoneportal

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

// describeAgent turns a sign-in's user agent into the few words a phone
// shows ("Firefox on Windows"); anything it does not recognise is shown
// shortened as sent, so nothing is hidden.
func describeAgent(ua string) string {
	browser, system := match(ua, browsers), match(ua, systems)
	switch {
	case browser != "" && system != "":
		return browser + " on " + system
	case browser != "":
		return browser
	case system != "":
		return "a browser on " + system
	}
	if len(ua) > 60 {
		return ua[:60] + "…"
	}
	return ua
}

func match(ua string, list []struct{ token, name string }) string {
	for _, e := range list {
		if strings.Contains(ua, e.token) {
			return e.name
		}
	}
	return ""
}
