package integration

import (
	"net/url"
	"time"
)

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func sleepBriefly() { time.Sleep(100 * time.Millisecond) }
