package integration

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/push"
)

const phoneMsgPushOff = "Notifications are off"

// phoneDevicePushOff reports whether Security info (in b) says the
// phone named name has notifications off.
func phoneDevicePushOff(t *testing.T, b *browser, name string) bool {
	t.Helper()
	p := b.get("/.mfa/security")
	if p.status != http.StatusOK {
		t.Fatalf("Security info: %d\n%s", p.status, p.body)
	}
	i := strings.Index(p.body, `<span class="method-name">`+name+`</span>`)
	if i < 0 {
		t.Fatalf("Security info does not list %q:\n%s", name, p.body)
	}
	item := p.body[i:]
	if end := strings.Index(item, "</li>"); end >= 0 {
		item = item[:end]
	}
	return strings.Contains(item, phoneMsgPushOff)
}

// phonePushMessage waits for sub's n-th message and returns its payload.
func phonePushMessage(t *testing.T, e *phoneEnv, sub push.Subscription, n int) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	msgs, err := e.push.Wait(ctx, sub, n)
	if err != nil {
		t.Fatalf("push message %d: %v (rejections: %v)", n, err, e.push.Rejections(sub))
	}
	m := msgs[n-1]
	if m.Urgency != "high" || m.TTL <= 0 || m.Subscriber != "mailto:admin@localhost" {
		t.Errorf("push message: urgency %q, TTL %d, VAPID sub %q", m.Urgency, m.TTL, m.Subscriber)
	}
	var payload map[string]any
	if err := json.Unmarshal(m.Payload, &payload); err != nil {
		t.Fatalf("push payload %q: %v", m.Payload, err)
	}
	return payload
}

// TestPhoneWebPush: a sign-in request reaches the phone's push
// subscription through the (fake) push service, signed with the portal's
// VAPID key and encrypted for the phone, naming the request but never the
// number; a 410 marks the subscription dead, and the phone still sees
// requests by polling.
func TestPhoneWebPush(t *testing.T) {
	up := newUpstream(t)
	e := startPhoneEnv(t, up, phoneOptions{})
	// A Host that is an IP address is shown by the listener's port.
	site := "this site (port " + strconv.Itoa(e.g.httpPort) + ")"

	// The service accepts only the key the phone subscribed with: the
	// one the portal hands out.
	cfg := e.newPhone().post("config", struct{}{})
	if cfg.status != http.StatusOK || cfg.str("vapid_public_key") == "" {
		t.Fatalf("config: %d %s", cfg.status, cfg.raw)
	}
	e.push.ExpectVAPIDKey(cfg.str("vapid_public_key"))

	wes := e.newPhoneUser("wes")
	sub := e.push.NewSubscription()
	wes.pairPhone(&sub)
	const phoneName = "wes&#39;s phone"
	if phoneDevicePushOff(t, wes.sec, phoneName) {
		t.Fatal("Security info says notifications are off for a phone with a subscription")
	}

	a := wes.startPushSignIn("/pushed")
	payload := phonePushMessage(t, e, sub, 1)
	if len(payload) != 2 || payload["request"] != a.id {
		t.Fatalf("push payload %v, want {request: %s, text}", payload, a.id)
	}
	text, _ := payload["text"].(string)
	if !strings.Contains(text, site) || strings.Contains(strings.ReplaceAll(text, site, ""), a.num()) {
		t.Fatalf("push text %q: want the site, never the number %s", text, a.num())
	}
	if r := e.push.Rejections(sub); len(r) != 0 {
		t.Fatalf("push service refused messages: %v", r)
	}
	wantPhoneStatus(t, "approve", wes.phone.answer(a.id, "approve", a.num()), http.StatusOK)
	a.completes(t, up, "wes", "/pushed")

	// The push service says the subscription is gone.
	e.push.Answer(sub, http.StatusGone, 1)
	before := e.push.Requests(sub)
	a = wes.startPushSignIn("/after-410")
	phoneDeadline(t, "push request answered 410", 15*time.Second, func() bool { return e.push.Requests(sub) > before })
	delay := phoneDeadline(t, "Security info shows notifications off", 5*time.Second, func() bool {
		return phoneDevicePushOff(t, wes.sec, phoneName)
	})
	t.Logf("subscription marked dead %v after the 410 was answered", delay.Round(time.Millisecond))
	if req := wes.phone.pending(); req == nil || req["id"] != a.id {
		t.Fatalf("phone with a dead subscription sees %v, want request %s", req, a.id)
	}
	wantPhoneStatus(t, "approve without notifications", wes.phone.answer(a.id, "approve", a.num()), http.StatusOK)
	a.completes(t, up, "wes", "/after-410")

	// The phone subscribes again: notifications are on, and go to the new
	// subscription only.
	sub2 := e.push.NewSubscription()
	wantPhoneStatus(t, "new subscription", wes.phone.call("subscription", map[string]any{"subscription": sub2}), http.StatusOK)
	if phoneDevicePushOff(t, wes.sec, phoneName) {
		t.Fatal("notifications still off after a new subscription")
	}
	deadRequests := e.push.Requests(sub)
	a = wes.startPushSignIn("/resubscribed")
	if payload := phonePushMessage(t, e, sub2, 1); payload["request"] != a.id {
		t.Fatalf("new subscription got %v, want request %s", payload, a.id)
	}
	if n := e.push.Requests(sub); n != deadRequests {
		t.Fatalf("the dead subscription was sent %d more requests", n-deadRequests)
	}
	wantPhoneStatus(t, "approve", wes.phone.answer(a.id, "approve", a.num()), http.StatusOK)
	a.completes(t, up, "wes", "/resubscribed")
}
