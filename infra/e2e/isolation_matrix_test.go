package e2e_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/switchboard-dev/switchboard/internal/dynamotest"
	"github.com/switchboard-dev/switchboard/internal/httpapi"
	"github.com/switchboard-dev/switchboard/internal/store"
)

// notTenantData are the routes with a path parameter that do not address
// another tenant's thing, and why. Every other such route is in the matrix.
var notTenantData = map[string]string{
	"POST /connections/{platform}":          "connects the caller's own account",
	"POST /connections/{platform}/oauth":    "starts the caller's own authorization",
	"GET /oauth/{platform}/callback":        "public: the single-use state names the tenant (TestCallbackRefusesUnusableStates...)",
	"GET /projects/{platform}/availability": "asks the platform through the caller's own connection",
}

// The tenant isolation matrix, generated from the route table: every route
// that names an id or a platform is called with another tenant's identity
// and must answer 404, as if the thing did not exist, and change nothing.
// A new route is in the matrix by being in the route table; a new function
// with ids must say here which of the owner's things its {id} is.
func TestEveryRouteThatNamesAThingAnswers404ToAnotherTenantAndChangesNothing(t *testing.T) {
	t.Parallel()
	ds := newDeployStack(t, nil)
	const owner, other = "tenant-owner", "tenant-other"

	// The owner has one of everything.
	ds.connectDeployPlatforms(owner)
	for _, p := range []string{"zoom", "youtube", "facebook"} {
		if q := ds.connectOAuth(owner, p); q.Get("status") != "connected" {
			t.Fatalf("connect %s: %v", p, q)
		}
	}
	ls := ds.createLivestream(owner, newLivestream(liveStartIn(30), youtubeTarget("")))
	var m meetingBody
	if r := ds.call("POST", "/meetings", owner, meetingRequest("zoom"), &m); r.StatusCode != http.StatusCreated {
		t.Fatalf("meeting: %d %s", r.StatusCode, bodyOf(r))
	}
	d := ds.deploy(owner, map[string]any{"platform": "render", "projectName": "owner-web", "image": "docker.io/library/nginx:1.27"})
	ds.waitEnded(owner, d.ID) // nothing of the owner's moves while the matrix runs

	var wh struct{ ID string }
	// An IP literal: no DNS in tests, and a public address the guard takes.
	if r := ds.call("POST", "/webhooks", owner, map[string]any{"url": "https://93.184.216.34/hooks"}, &wh); r.StatusCode != http.StatusCreated {
		t.Fatalf("webhook: %d %s", r.StatusCode, bodyOf(r))
	}

	ids := map[string]string{httpapi.FnLivestreams: ls.ID, httpapi.FnMeetings: m.ID, httpapi.FnDeployments: d.ID, httpapi.FnWebhooks: wh.ID}
	platforms := map[string]string{httpapi.FnConnections: "zoom", httpapi.FnOAuth: "zoom", httpapi.FnDeployments: "render",
		httpapi.FnLivestreams: "facebook"}
	bodies := map[string]any{"PATCH": map[string]string{"title": "taken over"}}

	before := tenantItems(t, ds.table, owner)
	tested := 0
	for _, r := range httpapi.Routes() {
		if r.Public || !strings.Contains(r.Path, "{") {
			continue
		}
		if _, ok := notTenantData[r.Key()]; ok {
			continue
		}
		path := r.Path
		if strings.Contains(path, "{id}") {
			id, ok := ids[r.Function]
			if !ok {
				t.Fatalf("%s names an {id} of function %s, which the matrix has no owner's thing for: add one", r.Key(), r.Function)
			}
			path = strings.ReplaceAll(path, "{id}", id)
		}
		if strings.Contains(path, "{platform}") {
			p, ok := platforms[r.Function]
			if !ok {
				t.Fatalf("%s names a {platform} of function %s, which the matrix has no owner's connection for: add one", r.Key(), r.Function)
			}
			path = strings.ReplaceAll(path, "{platform}", p)
		}
		resp := ds.call(r.Method, path, other, bodies[r.Method], nil)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s as another tenant: %d %s", r.Key(), resp.StatusCode, bodyOf(resp))
		}
		tested++
	}
	if tested < 15 {
		t.Fatalf("only %d routes in the matrix", tested)
	}
	// Lists show the other tenant nothing of the owner's.
	for _, r := range httpapi.Routes() {
		if r.Method != "GET" || r.Public || strings.Contains(r.Path, "{") || r.Path == "/platforms" || r.Path == "/deployments/limits" {
			continue // lists of tenant data only; the platforms are everyone's, limits are the caller's own
		}
		var page struct{ Items []json.RawMessage }
		if resp := ds.call("GET", r.Path, other, nil, &page); resp.StatusCode == http.StatusOK && len(page.Items) != 0 {
			t.Errorf("%s shows another tenant %d items", r.Key(), len(page.Items))
		}
	}
	if after := tenantItems(t, ds.table, owner); after != before {
		t.Fatalf("the owner's items changed:\nbefore %s\nafter  %s", before, after)
	}
	for key := range notTenantData {
		found := false
		for _, r := range httpapi.Routes() {
			found = found || r.Key() == key
		}
		if !found {
			t.Errorf("the exclusion %q names no route", key)
		}
	}
}

// tenantItems is every item of a tenant's partition, as JSON, in key order.
func tenantItems(t *testing.T, table, tenant string) string {
	t.Helper()
	db := dynamotest.Client(os.Getenv("AWS_ENDPOINT_URL_DYNAMODB"))
	out, err := db.Query(context.Background(), &dynamodb.QueryInput{
		TableName: aws.String(table), KeyConditionExpression: aws.String("pk = :pk"), ConsistentRead: aws.Bool(true),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: store.TenantPK(tenant)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(out.Items, func(i, j int) bool { return store.GetS(out.Items[i], "sk") < store.GetS(out.Items[j], "sk") })
	raw, _ := json.Marshal(out.Items)
	if len(out.Items) < 5 {
		t.Fatalf("the owner has only %d items", len(out.Items))
	}
	return string(raw)
}
