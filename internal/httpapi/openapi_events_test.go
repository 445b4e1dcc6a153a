package httpapi_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/event"
	"github.com/switchboard-dev/switchboard/internal/httpapi"
)

// The EventType enum and the webhooks section name exactly event.Types(),
// in its order.
func TestOpenAPIDescribesEveryEventType(t *testing.T) {
	t.Parallel()
	var doc struct {
		Webhooks   map[string]any `json:"webhooks"`
		Components struct {
			Schemas map[string]struct {
				Enum []string `json:"enum"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(httpapi.OpenAPIDocument(), &doc); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, ti := range event.Types() {
		want = append(want, string(ti.Type))
		if _, ok := doc.Webhooks[string(ti.Type)]; !ok {
			t.Errorf("the webhooks section does not describe %s", ti.Type)
		}
	}
	if got := doc.Components.Schemas["EventType"].Enum; !slices.Equal(got, want) {
		t.Errorf("EventType enum %v, want %v", got, want)
	}
	if len(doc.Webhooks) != len(want) {
		t.Errorf("the webhooks section has %d entries, event.Types() %d", len(doc.Webhooks), len(want))
	}
}
