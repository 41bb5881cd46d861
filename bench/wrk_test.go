package main

import "testing"

const sampleWrk = `Running 10s test @ http://127.0.0.1:8080/bench
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   635.91us    0.89ms  12.92ms   93.69%
    Req/Sec    30.20k     2.59k   36.22k    71.50%
  Latency Distribution
     50%  205.00us
     75%  487.00us
     90%    1.42ms
     99%    1.02s 
  601274 requests in 10.01s, 72.25MB read
  Socket errors: connect 0, read 1, write 2, timeout 3
  Non-2xx or 3xx responses: 7
Requests/sec:  60079.49
Transfer/sec:      7.22MB
`

func TestParseWrk(t *testing.T) {
	r, err := parseWrk(sampleWrk)
	if err != nil {
		t.Fatal(err)
	}
	if r.RequestsPerSec != 60079.49 || r.P50ms != 0.205 || r.P99ms != 1020 || r.Requests != 601274 || r.Non2xx3xx != 7 || r.SocketErrors != 6 {
		t.Fatalf("%+v", r)
	}
	if _, err := parseWrk("Requests/sec: 1\n"); err == nil {
		t.Fatal("missing percentiles accepted")
	}
}
