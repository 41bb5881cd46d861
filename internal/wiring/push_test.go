package wiring

import (
	"context"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/mfagate/mfagate/internal/push"
)

// An exact push_hosts entry naming an address or a private host is
// allowed (the tests' local push service is one) with a warning at load;
// name and wildcard entries give none.
func TestPrivilegedPushHostsWarnAtLoad(t *testing.T) {
	keys, err := push.GenerateVAPIDKeys()
	if err != nil {
		t.Fatal(err)
	}
	hosts := []string{"fcm.googleapis.com", "*.notify.windows.com", "127.0.0.1:8443", "push.internal"}
	core, logs := observer.New(zap.WarnLevel)
	s := newSender(keys, PushOptions{Hosts: hosts, Contact: "mailto:ops@example.com"}, zap.New(core), nil)
	defer s.Close(context.Background())
	warned := map[string]bool{}
	for _, e := range logs.All() {
		if entry, ok := e.ContextMap()["entry"].(string); ok {
			warned[entry] = true
		}
	}
	if !warned["127.0.0.1:8443"] || !warned["push.internal"] || len(warned) != 2 {
		t.Errorf("warned about %v, want exactly 127.0.0.1:8443 and push.internal", warned)
	}
}
