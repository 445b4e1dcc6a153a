package faults_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// tcpFaults is toxiproxy, in process: TCP proxies whose traffic the test
// poisons with latency, resets and silence.
type tcpFaults struct {
	server *toxiproxy.ApiServer
}

func newTCPFaults(t *testing.T) *tcpFaults {
	t.Helper()
	return &tcpFaults{server: toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())}
}

// proxy fronts upstream (host:port) and returns the proxy and its address.
func (f *tcpFaults) proxy(t *testing.T, name, upstream string) *toxiproxy.Proxy {
	t.Helper()
	p := toxiproxy.NewProxy(f.server, name, "127.0.0.1:0", upstream)
	if err := p.Start(); err != nil {
		t.Fatalf("toxiproxy %s: %v", name, err)
	}
	t.Cleanup(p.Stop)
	return p
}

// poison adds a toxic to the answers (downstream) and returns a function
// that removes it.
func poison(t *testing.T, p *toxiproxy.Proxy, name, typ, attrs string) func() {
	t.Helper()
	return poisonStream(t, p, "downstream", name, typ, attrs)
}

// poisonStream adds a toxic to one direction: "upstream" poisons what the
// client sends (a reset there means the request never arrives),
// "downstream" what it gets back (the request arrived; the answer is lost).
func poisonStream(t *testing.T, p *toxiproxy.Proxy, stream, name, typ, attrs string) func() {
	t.Helper()
	body := fmt.Sprintf(`{"name":%q,"type":%q,"stream":%q,"toxicity":1,"attributes":%s}`, name, typ, stream, attrs)
	if _, err := p.Toxics.AddToxicJson(strings.NewReader(body)); err != nil {
		t.Fatalf("adding toxic %s: %v", name, err)
	}
	var once sync.Once
	remove := func() {
		once.Do(func() { _ = p.Toxics.RemoveToxic(t.Context(), name) })
	}
	t.Cleanup(remove)
	return remove
}

// throttler is an HTTP proxy in front of DynamoDB Local that answers the
// next n requests the way DynamoDB answers when it throttles.
type throttler struct {
	srv       *httptest.Server
	remaining atomic.Int64
	seen      atomic.Int64
}

func newThrottler(t *testing.T, upstream string) *throttler {
	t.Helper()
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	th := &throttler{}
	rp := httputil.NewSingleHostReverseProxy(u)
	th.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if th.remaining.Add(-1) >= 0 {
			th.seen.Add(1)
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/x-amz-json-1.0")
			w.Header().Set("x-amzn-ErrorType", "ThrottlingException")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate of requests exceeds the allowed throughput."}`)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(th.srv.Close)
	return th
}

// throttle makes the next n requests throttled.
func (th *throttler) throttle(n int64) { th.remaining.Store(n) }

// proxyRef carries a proxy made inside an env override out to the test.
type proxyRef struct{ p *toxiproxy.Proxy }

func dynamoEndpoint(t *testing.T) string {
	t.Helper()
	e := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")
	if e == "" {
		t.Fatal("AWS_ENDPOINT_URL_DYNAMODB is not set")
	}
	return e
}
