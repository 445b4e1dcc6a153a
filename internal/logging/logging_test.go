package logging_test

import (
	"bytes"
	"encoding/json"
	"errors"
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

func TestURLUserinfoIsRedactedFromEveryLogLine(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := logging.New(&buf, "deploy-worker", slog.LevelDebug)
	const token = "ghp_0123456789abcdefSECRET"
	log.Info("cloning https://"+token+"@github.com/acme/site.git",
		slog.String("repo", "https://x-access-token:"+token+"@github.com/acme/site"),
		slog.Any("error", errors.New("git clone ssh://git:"+token+"@example.com/a failed")),
		slog.Group("source", slog.String("url", "HTTPS://"+token+"@GitHub.com/acme/site")),
		slog.String("contact", "ops@example.com"),
	)
	out := buf.String()
	if strings.Contains(out, token) {
		t.Fatalf("a URL's credentials reached the log: %s", out)
	}
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatal(err)
	}
	if rec["msg"] != "cloning https://[REDACTED]@github.com/acme/site.git" || rec["repo"] != "https://[REDACTED]@github.com/acme/site" {
		t.Fatalf("the URLs lost more than their userinfo: %v", rec)
	}
	if rec["contact"] != "ops@example.com" {
		t.Fatalf("an address that is not a URL was changed: %v", rec["contact"])
	}
}

func TestRedactURLUserinfo(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://tok@github.com/a/b":         "https://[REDACTED]@github.com/a/b",
		"git+ssh://u:p@h/x and http://a@b/c": "git+ssh://[REDACTED]@h/x and http://[REDACTED]@b/c",
		"https://github.com/a/b@v1":          "https://github.com/a/b@v1",
		"https://github.com/a?ref=x@y":       "https://github.com/a?ref=x@y",
		"mail me at a@b.c":                   "mail me at a@b.c",
		"no url here":                        "no url here",
	} {
		if got := logging.RedactURLUserinfo(in); got != want {
			t.Errorf("RedactURLUserinfo(%q) = %q, want %q", in, got, want)
		}
	}
}
