package main

import (
	"strings"
	"testing"
)

func TestPerRequest(t *testing.T) {
	top := `Duration: 8s, Total samples = 6s (74.99%)
      flat  flat%   sum%        cum   cum%
     0.02s  0.33%  0.67%      2.31s 38.50%  github.com/caddyserver/caddy/v2/modules/caddyhttp.(*Server).ServeHTTP
         0     0% 29.00%      300ms  6.67%  github.com/mfagate/mfagate/internal/gateway.(*Gateway).Serve`
	got := perRequest(top, 100_000)
	for _, want := range []string{"60.0 us  all samples", "23.1 us  38.50%  github.com/caddyserver/caddy/v2/modules/caddyhttp.(*Server).ServeHTTP", "3.0 us  6.67%  github.com/mfagate/mfagate/internal/gateway.(*Gateway).Serve"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
}
