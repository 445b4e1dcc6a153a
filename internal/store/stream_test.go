package store_test

import (
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/switchboard-dev/switchboard/internal/store"
)

func TestDeploymentFromStreamReadsTenantAndIDOrNothing(t *testing.T) {
	t.Parallel()
	s, n := events.NewStringAttribute, events.NewNumberAttribute
	cases := []struct {
		name  string
		image map[string]events.DynamoDBAttributeValue
		want  store.DeploymentRef
		ok    bool
	}{
		{"a deployment", map[string]events.DynamoDBAttributeValue{"type": s("deployment"), "tenant": s("t1"), "id": s("dpl_1")}, store.DeploymentRef{Tenant: "t1", ID: "dpl_1"}, true},
		{"no image", nil, store.DeploymentRef{}, false},
		{"no tenant", map[string]events.DynamoDBAttributeValue{"id": s("dpl_1")}, store.DeploymentRef{ID: "dpl_1"}, false},
		{"an id that is not a string", map[string]events.DynamoDBAttributeValue{"tenant": s("t1"), "id": n("7")}, store.DeploymentRef{Tenant: "t1"}, false},
	}
	for _, c := range cases {
		got, ok := store.DeploymentFromStream(events.DynamoDBEventRecord{Change: events.DynamoDBStreamRecord{NewImage: c.image}})
		if got != c.want || ok != c.ok {
			t.Errorf("%s: %+v %v, want %+v %v", c.name, got, ok, c.want, c.ok)
		}
	}
}
