package httpapi

import (
	"net/http"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/apperr"
)

// TestEveryKindHasItsStatus pins the one mapping from kind to status: every
// kind has a name and a status of its own (only Internal answers 500), and
// 405 is a kind like the others, not a status patched in afterwards.
func TestEveryKindHasItsStatus(t *testing.T) {
	t.Parallel()
	seen := map[int]apperr.Kind{}
	for k := apperr.Internal; ; k++ {
		if strings.HasPrefix(k.String(), "kind(") {
			break
		}
		st := statusOf(k)
		if prev, dup := seen[st]; dup {
			t.Errorf("kinds %s and %s both answer %d", prev, k, st)
		}
		seen[st] = k
		if (st == http.StatusInternalServerError) != (k == apperr.Internal) {
			t.Errorf("kind %s answers %d", k, st)
		}
	}
	r := problemFor(apperr.E(apperr.MethodNotAllowed, apperr.CodeMethodNotAllowed, "PATCH is not allowed here"), "req-1")
	body := r.Body.(map[string]any)
	if r.Status != http.StatusMethodNotAllowed || body["status"] != http.StatusMethodNotAllowed ||
		body["title"] != http.StatusText(http.StatusMethodNotAllowed) || body["code"] != string(apperr.CodeMethodNotAllowed) {
		t.Errorf("a MethodNotAllowed problem: got %d %v", r.Status, body)
	}
}
