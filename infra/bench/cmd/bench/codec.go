package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// codecCost is what aws-lambda-go's JSON handling costs per invocation in
// Lambda: it decodes the event into the handler's type and encodes the
// answer with encoding/json, which works by reflection. The local gateway
// hands handlers Go values, so the load runs do not include it; this
// measures it apart.
type codecCost struct {
	decode, encode testing.BenchmarkResult
	eventBytes     int
	answerBytes    int
	err            error
}

// measureCodec times decoding an HTTP API event from events/ and encoding
// an answer of the size of a connection's.
func measureCodec(eventsDir string) codecCost {
	raw, err := os.ReadFile(filepath.Join(eventsDir, "connections-list-platforms.json"))
	if err != nil {
		return codecCost{err: err}
	}
	answer := events.APIGatewayV2HTTPResponse{
		StatusCode: 200,
		Headers: map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store",
			"X-Content-Type-Options": "nosniff"},
		Body: `{"platform":"youtube","status":"connected","authType":"oauth2","accountId":"UC1234567890","accountName":"Grace Church",` +
			`"scopes":["https://www.googleapis.com/auth/youtube"],"connectedAt":"2026-11-22T01:00:00Z","updatedAt":"2026-11-22T01:00:00Z",` +
			`"expiresAt":"2026-11-22T02:00:00Z","lastRefreshedAt":null,"lastError":null}`,
	}
	out, err := json.Marshal(answer)
	if err != nil {
		return codecCost{err: err}
	}
	c := codecCost{eventBytes: len(raw), answerBytes: len(out)}
	c.decode = testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var ev events.APIGatewayV2HTTPRequest
			if err := json.Unmarshal(raw, &ev); err != nil || !strings.HasPrefix(ev.RawPath, "/") {
				b.Fatalf("decoding the event: %v", err)
			}
		}
	})
	c.encode = testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(answer); err != nil {
				b.Fatal(err)
			}
		}
	})
	return c
}
