package logging_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/logging"
)

func TestSecretNamedAttributesAreRedacted(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := logging.New(&buf, "connections", slog.LevelDebug)
	const secret = "ya29.super-secret-value"
	log.Info("hello",
		slog.String("authorization", "Bearer "+secret),
		slog.String("access_token", secret),
		slog.Group("req", slog.String("refreshToken", secret), slog.String("path", "/connections")),
		slog.String("pkce_verifier", secret),
		slog.String("route", "GET /connections"),
	)
	out := buf.String()
	if strings.Contains(out, secret) {
		t.Fatalf("secret reached the log: %s", out)
	}
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("log line is not JSON: %v", err)
	}
	if rec["function"] != "connections" || rec["route"] != "GET /connections" {
		t.Fatalf("ordinary attributes lost: %v", rec)
	}
	if rec["access_token"] != logging.Redacted {
		t.Fatalf("access_token = %v", rec["access_token"])
	}
}

func TestIsSecretName(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]bool{
		"Authorization": true, "x-api-key": true, "api_key": true, "streamKey": true, "client_secret": true,
		"request_id": false, "status": false, "platform": false, "code_verifier": true,
	} {
		if got := logging.IsSecretName(name); got != want {
			t.Errorf("IsSecretName(%q) = %v, want %v", name, got, want)
		}
	}
}
