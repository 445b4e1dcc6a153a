package platform_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/platform"
)

// A platform that echoes the request's token or a secret of its body back
// in an error cannot leak it: Caller.Do redacts both, for every client.
func TestCallerRedactsTheTokenAndTheRequestSecretsFromItsErrors(t *testing.T) {
	t.Parallel()
	const token, key = "tok-0123456789abcdef", "sk_live_987654"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(r.Header.Get("Authorization") + " cannot use key " + key))
	}))
	t.Cleanup(srv.Close)
	c := platform.Caller{Platform: "example", HTTP: srv.Client(), BaseURL: srv.URL,
		Refine: func(e *platform.Error, body []byte) { e.Message, e.Code = string(body), string(body) }}
	for _, op := range []string{"read", "create"} {
		_, err := c.Do(context.Background(), platform.Request{Op: op, Method: http.MethodPost, Path: "/x", Token: token,
			JSON: map[string]string{"key": key}, Secrets: []string{key}, Idempotent: op == "read"})
		pe, ok := platform.AsError(err)
		if !ok {
			t.Fatalf("%s: %v is not a platform error", op, err)
		}
		for _, s := range []string{token, key} {
			if strings.Contains(err.Error(), s) || strings.Contains(pe.Message, s) || strings.Contains(pe.Code, s) {
				t.Errorf("%s: the error carries the secret %q: %v (code %q)", op, s, err, pe.Code)
			}
		}
		if !strings.Contains(pe.Message, "[redacted]") {
			t.Errorf("%s: message %q does not say what was redacted", op, pe.Message)
		}
	}
}
