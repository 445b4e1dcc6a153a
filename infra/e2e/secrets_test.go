package e2e_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/switchboard-dev/switchboard/infra/sandbox"
	"github.com/switchboard-dev/switchboard/internal/dynamotest"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/vault"
)

// Known secrets go in through every path that takes one: OAuth tokens (and
// their refresh), PKCE verifiers, API keys and tokens, a JaaS private key,
// user-supplied and provisioned stream keys, deployment env values and a
// database connection string. Then every HTTP answer (but the ingest route,
// the one place stream keys are shown), every log line of every function
// and every raw DynamoDB item is scanned: no plaintext occurrence anywhere.
// The secrets Switchboard was given by platforms (tokens, provisioned keys,
// the connection string) are learnt by opening every sealed value in the
// table with the stack's key, so none is missed.
func TestNoSecretAppearsInAnswersLogsOrItems(t *testing.T) {
	t.Parallel()
	ds := newDeployStack(t, nil)
	const tenant = "tenant-secrets"
	secrets := map[string]string{}
	known := func(what, v string) { secrets[v] = what }

	// Keys and tokens the tenant pastes.
	ds.connectDeployPlatforms(tenant)
	known("render api key", e2eRenderKey)
	known("vercel token", e2eVercelToken)
	known("railway token", e2eRailwayToken)
	key := jaasKey(t)
	if r := ds.call("POST", "/connections/jitsi", tenant, map[string]any{"credentials": map[string]string{
		"appId": "vpaas-magic-cookie-0123456789abcdef", "keyId": "k1", "privateKey": key}}, nil); r.StatusCode != 201 {
		t.Fatalf("jitsi: %d %s", r.StatusCode, bodyOf(r))
	}
	for _, line := range strings.Split(key, "\n") {
		if len(line) > 40 {
			known("jaas private key", line)
		}
	}
	// OAuth tokens, refreshed once; an authorization left in flight holds a
	// PKCE verifier.
	for _, p := range []string{"youtube", "zoom", "restream", "instagram"} {
		ds.connectOAuth(tenant, p)
		known(p+" client secret", sandbox.ClientSecret(platform.ID(p)))
	}
	if r := ds.call("POST", "/connections/zoom/refresh", tenant, nil, nil); r.StatusCode != 200 {
		t.Fatalf("refresh: %d", r.StatusCode)
	}
	if r := ds.call("POST", "/connections/google-meet/oauth", tenant, map[string]string{}, nil); r.StatusCode != 200 {
		t.Fatalf("oauth start: %d", r.StatusCode)
	}
	// Stream keys: one the user pastes (Instagram), the others provisioned.
	const pastedKey = "IGLive-pasted-stream-key-0123456789"
	known("instagram stream key", pastedKey)
	ls := ds.createLivestream(tenant, newLivestream(liveStartIn(30),
		youtubeTarget(""), liveTarget{Platform: "restream"},
		liveTarget{Platform: "instagram", RTMPURL: "rtmps://live-upload.instagram.com:443/rtmp/", StreamKey: pastedKey}))
	var ingest struct{ Targets []struct{ StreamKey *string } }
	if r := ds.call("GET", "/livestreams/"+ls.ID+"/ingest", tenant, nil, &ingest); r.StatusCode != 200 {
		t.Fatalf("ingest: %d", r.StatusCode)
	}
	// A deployment with a secret env value and a database.
	const envSecret = "stripe-live-secret-0123456789abcdef"
	known("deployment env value", envSecret)
	d := ds.deploy(tenant, map[string]any{"platform": "render", "projectName": "secret-web", "image": "docker.io/library/nginx:1.27",
		"env": map[string]string{"STRIPE_SECRET": envSecret}, "database": map[string]string{"engine": "postgres"}})
	ds.waitEnded(tenant, d.ID)
	ds.call("GET", "/deployments/"+d.ID+"/logs", tenant, nil, nil)
	ds.call("GET", "/connections", tenant, nil, nil)
	ds.call("GET", "/livestreams/"+ls.ID, tenant, nil, nil)

	// Everything sealed in the table is a secret too.
	for v, what := range openEverySealedValue(t, ds.table, ds.env["LOCAL_KEK"]) {
		secrets[v] = what
	}
	for _, tg := range ingest.Targets {
		if tg.StreamKey != nil && len(*tg.StreamKey) >= 8 {
			known("provisioned stream key", *tg.StreamKey)
		}
	}
	if len(secrets) < 20 {
		t.Fatalf("only %d secrets learnt: the test is not looking at enough", len(secrets))
	}
	places := map[string]string{
		"HTTP answers":       ds.answers.String(),
		"function logs":      ds.logs.String() + ds.workerLogs.String(),
		"raw DynamoDB items": ds.rawTable(),
	}
	for place, text := range places {
		if len(text) < 1000 {
			t.Fatalf("%s hold only %d bytes: nothing was captured", place, len(text))
		}
		for v, what := range secrets {
			if strings.Contains(text, v) {
				t.Errorf("%s (%s) appears in plaintext in the %s", what, truncateSecret(v), place)
			}
		}
	}
}

// openEverySealedValue opens each sealed attribute of the table and
// returns the secret strings inside, each with where it was found.
func openEverySealedValue(t *testing.T, table, kek string) map[string]string {
	t.Helper()
	kr, err := vault.NewLocalKeyring(kek)
	if err != nil {
		t.Fatal(err)
	}
	v := vault.New(kr)
	db := dynamotest.Client(os.Getenv("AWS_ENDPOINT_URL_DYNAMODB"))
	out, err := db.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]string{}
	sealed := 0
	for _, it := range out.Items {
		for name := range it {
			env, ec, ok := store.GetSealed(it, name)
			if !ok {
				continue
			}
			sealed++
			plain, err := v.Open(context.Background(), env, ec)
			if err != nil {
				t.Fatalf("%s %s does not open: %v", store.GetS(it, "sk"), name, err)
			}
			for _, s := range secretStrings(plain) {
				found[s] = ec[vault.KeyPurpose] + " in " + name + " of " + store.GetS(it, "sk")
			}
		}
	}
	if sealed < 8 {
		t.Fatalf("only %d sealed values in the table", sealed)
	}
	return found
}

// secretStrings are the secret parts of a sealed plaintext: the whole of a
// plain value, or the string values of a JSON object (credentials, env),
// leaving out the ones that are not secret (types, times, ids).
func secretStrings(plain []byte) []string {
	var m map[string]any
	if json.Unmarshal(plain, &m) != nil {
		return []string{string(plain)}
	}
	var out []string
	var walk func(k string, v any)
	walk = func(k string, v any) {
		switch x := v.(type) {
		case string:
			switch k {
			case "tokenType", "expiry", "appId", "keyId", "team_id", "installation_id", "user_id", "pageId", "igUserId",
				"ownerId", "email", "username", "defaultTeamId": // account names and ids, shown as accountId
				return
			}
			if len(x) >= 12 {
				out = append(out, x)
			}
		case map[string]any:
			for kk, vv := range x {
				walk(kk, vv)
			}
		}
	}
	for k, v := range m {
		walk(k, v)
	}
	return out
}

func truncateSecret(s string) string {
	if len(s) > 6 {
		return s[:6] + "…"
	}
	return s
}
