// Tests that hold template.yaml to the code: its functions to app.Functions(),
// its HTTP API to httpapi.Routes(), its schedules and stream to
// ARCHITECTURE.md, its table to store.TableDefinition(). security_test.go
// holds its key policy to the vault's encryption context and its OAuth clients
// to registry.All(), and checks permissions and secrets; schema_test.go
// validates it against the SAM schema; decode_test.go tests the YAML reading.
package template_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/httpapi"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/vault"
)

// ---------------------------------------------------------------------------
// Functions
// ---------------------------------------------------------------------------

func TestTemplateDeclaresExactlyTheAppsFunctions(t *testing.T) {
	t.Parallel()
	fns := tpl(t).functions(t)
	if got, want := sortedKeys(fns), app.Functions(); !sameSet(got, want) {
		t.Fatalf("template.yaml's functions are %v, app.Functions() is %v", got, want)
	}
	if n := len(tpl(t).ofType("AWS::Serverless::Function")); n != len(app.Functions()) {
		t.Errorf("%d function resources for %d functions", n, len(app.Functions()))
	}
}

func TestEveryFunctionIsBuiltFromItsFolderUnderFunctions(t *testing.T) {
	t.Parallel()
	for name, f := range tpl(t).functions(t) {
		main := filepath.Join(root(t), "functions", name, "main.go")
		if _, err := os.Stat(main); err != nil {
			t.Errorf("%s: CodeUri build/%s/ but there is no %s", f.ID, name, main)
		}
	}
}

func TestEveryFunctionRunsBootstrapOnArm64ProvidedAL2023(t *testing.T) {
	t.Parallel()
	d := tpl(t)
	for _, name := range app.Functions() {
		f := d.function(t, name)
		if got := d.effective(f, "Runtime"); got != "provided.al2023" {
			t.Errorf("%s: Runtime %v, want provided.al2023", f.ID, got)
		}
		if got := strs(d.effective(f, "Architectures")); !slices.Equal(got, []string{"arm64"}) {
			t.Errorf("%s: Architectures %v, want [arm64] (the Makefile builds GOARCH=arm64)", f.ID, got)
		}
		if got := d.effective(f, "Handler"); got != "bootstrap" {
			t.Errorf("%s: Handler %v, want bootstrap", f.ID, got)
		}
		if _, ok := f.Props["Policies"]; ok {
			t.Errorf("%s: SAM Policies; roles are declared explicitly (least privilege, reviewable)", f.ID)
		}
	}
}

func TestEveryFunctionGetsTheCommonEnvironment(t *testing.T) {
	t.Parallel()
	d := tpl(t)
	want := map[string]any{
		"TABLE_NAME":   ref("Table"),
		"TENANT_CLAIM": ref("TenantClaim"),
		"LOG_LEVEL":    ref("LogLevel"),
	}
	for _, name := range app.Functions() {
		f := d.function(t, name)
		env := d.env(f)
		for k, v := range want {
			if !equal(env[k], v) {
				t.Errorf("%s: %s is %v, want %v", f.ID, k, env[k], v)
			}
		}
		if res, attr, ok := getAttOf(env[vault.EnvKMSKeyID]); !(ok && res == "Key" && attr == "Arn") && !equal(env[vault.EnvKMSKeyID], ref("Key")) {
			t.Errorf("%s: %s is %v, want the vault key (!GetAtt Key.Arn)", f.ID, vault.EnvKMSKeyID, env[vault.EnvKMSKeyID])
		}
		for _, forbidden := range []string{vault.EnvLocalKEK, vault.EnvAllowLocalKEKInLambda} {
			if _, ok := env[forbidden]; ok {
				t.Errorf("%s: sets %s; in AWS the vault uses KMS only", f.ID, forbidden)
			}
		}
	}
}

func TestParametersReachTheFunctionsThatReadThem(t *testing.T) {
	t.Parallel()
	d := tpl(t)
	params := d.section("Parameters")
	defaults := map[string]string{
		"TenantClaim":           "tenant_id",
		"MaxDeploymentsPerHour": "10",
		"DeploymentTimeoutMs":   "300000",
		"LogRetentionDays":      "30",
	}
	for p, want := range defaults {
		if got := fmt.Sprint(obj(params[p])["Default"]); got != want {
			t.Errorf("parameter %s defaults to %s, want %s", p, got, want)
		}
	}
	for _, p := range []string{"JwtIssuer", "JwtAudience", "ReturnUrlAllowlist"} {
		if _, ok := params[p]; !ok {
			t.Errorf("no parameter %s", p)
		}
	}
	uses := []struct{ fn, env, param string }{
		{app.OAuth, "RETURN_URL_ALLOWLIST", "ReturnUrlAllowlist"},
		{app.Deployments, "MAX_DEPLOYMENTS_PER_HOUR", "MaxDeploymentsPerHour"},
		{app.Deployments, "DEPLOYMENT_TIMEOUT_MS", "DeploymentTimeoutMs"},
		{app.DeployWorker, "DEPLOYMENT_TIMEOUT_MS", "DeploymentTimeoutMs"},
	}
	for _, u := range uses {
		f := d.function(t, u.fn)
		if got := d.env(f)[u.env]; !equal(got, ref(u.param)) {
			t.Errorf("%s: %s is %v, want !Ref %s", f.ID, u.env, got, u.param)
		}
	}
}

func TestTimeoutsFitEachTrigger(t *testing.T) {
	t.Parallel()
	d := tpl(t)
	for _, name := range app.HTTPFunctions() {
		f := d.function(t, name)
		// An HTTP API integration gets at most 30 s: the function must give
		// up first, so its own timeout is what the caller sees and the logs say.
		if got := num(t, f.ID+" Timeout", d.effective(f, "Timeout")); got < 1 || got > 29 {
			t.Errorf("%s: Timeout %d s, want 1..29 (API Gateway's 30 s integration limit)", f.ID, got)
		}
	}
	for _, name := range []string{app.StreamSched, app.TokenRefresher, app.EventDispatcher} {
		f := d.function(t, name)
		period := schedulePeriod(t, f)
		// A run ends before the next one starts, so runs do not pile up;
		// stream-scheduler's runs overlap by design (each waits for what is
		// due up to the next tick + 30 s, livestream.Service.Horizon), but
		// never more than two at once.
		most := period
		if name == app.StreamSched {
			most = 2 * period
		}
		if got := num(t, f.ID+" Timeout", d.effective(f, "Timeout")); time.Duration(got)*time.Second > most {
			t.Errorf("%s: Timeout %d s is longer than %v", f.ID, got, most)
		}
	}
	w := d.function(t, app.DeployWorker)
	timeout := num(t, w.ID+" Timeout", d.effective(w, "Timeout"))
	if timeout > 900 {
		t.Errorf("%s: Timeout %d s, Lambda's limit is 900", w.ID, timeout)
	}
	p := obj(d.section("Parameters")["DeploymentTimeoutMs"])
	for _, key := range []string{"Default", "MaxValue"} {
		// The worker must outlive the longest deployment it waits for, with a
		// margin to record timed_out.
		if ms := num(t, "DeploymentTimeoutMs "+key, p[key]); ms/1000+30 > timeout {
			t.Errorf("DeploymentTimeoutMs %s is %d ms; %s's Timeout %d s leaves under 30 s to record timed_out", key, ms, w.ID, timeout)
		}
	}
}

// Each function is started only by what ARCHITECTURE.md says starts it.
func TestEachFunctionHasOnlyItsOwnTrigger(t *testing.T) {
	t.Parallel()
	d := tpl(t)
	want := map[string][]string{app.StreamSched: {"Schedule"}, app.TokenRefresher: {"Schedule"}, app.DeployWorker: {"DynamoDB"},
		app.EventDispatcher: {"DynamoDB", "Schedule"}}
	for _, name := range app.HTTPFunctions() {
		want[name] = []string{"HttpApi"}
	}
	for _, name := range app.Functions() {
		f := d.function(t, name)
		events := obj(f.Props["Events"])
		if len(events) == 0 {
			t.Errorf("%s has no events", f.ID)
		}
		for ev, e := range events {
			typ := fmt.Sprint(obj(e)["Type"])
			if typ == "ScheduleV2" {
				typ = "Schedule"
			}
			if !slices.Contains(want[name], typ) {
				t.Errorf("%s: event %s is %s, want only %s events", f.ID, ev, typ, want[name])
			}
		}
	}
}

// ---------------------------------------------------------------------------
// HTTP API
// ---------------------------------------------------------------------------

type routeKey struct{ method, path, function string }

func TestHttpApiEventsAreExactlyTheRouteTable(t *testing.T) {
	t.Parallel()
	d := tpl(t)
	want := map[routeKey]httpapi.Route{}
	for _, r := range httpapi.Routes() {
		want[routeKey{r.Method, r.Path, r.Function}] = r
	}
	got := map[routeKey]string{} // to the event's name
	for name, f := range d.functions(t) {
		for ev, p := range events(f, "HttpApi") {
			k := routeKey{strings.ToUpper(fmt.Sprint(p["Method"])), fmt.Sprint(p["Path"]), name}
			if other, dup := got[k]; dup {
				t.Errorf("%s %s is declared twice (%s and %s)", k.method, k.path, other, ev)
			}
			got[k] = f.ID + "." + ev
			if api, ok := refName(p["ApiId"]); !ok || api != "HttpApi" {
				t.Errorf("%s.%s: ApiId %v, want !Ref HttpApi (else SAM makes an API without the JWT authorizer)", f.ID, ev, p["ApiId"])
			}
			// The event's name is the route's operation, as in openapi.json.
			if r, ok := want[k]; ok && ev != strings.ToUpper(r.Operation[:1])+r.Operation[1:] {
				t.Errorf("%s.%s serves %s; name the event after its operation %s", f.ID, ev, r.Key(), r.Operation)
			}
		}
	}
	for k := range want {
		if _, ok := got[k]; !ok {
			t.Errorf("route %s %s (function %s) has no HttpApi event on that function", k.method, k.path, k.function)
		}
	}
	for k, ev := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s serves %s %s, which is not in httpapi.Routes() for function %s", ev, k.method, k.path, k.function)
		}
	}
}

func TestOnlyPublicRoutesSkipTheJWTAuthorizer(t *testing.T) {
	t.Parallel()
	d := tpl(t)
	public := map[routeKey]bool{}
	for _, r := range httpapi.Routes() {
		public[routeKey{r.Method, r.Path, r.Function}] = r.Public
	}
	for name, f := range d.functions(t) {
		for ev, p := range events(f, "HttpApi") {
			k := routeKey{strings.ToUpper(fmt.Sprint(p["Method"])), fmt.Sprint(p["Path"]), name}
			auth := obj(p["Auth"])
			open := auth["Authorizer"] == "NONE"
			if open != public[k] {
				t.Errorf("%s.%s (%s %s): Authorizer NONE is %v, route Public is %v", f.ID, ev, k.method, k.path, open, public[k])
			}
			if a, ok := auth["Authorizer"]; ok && a != "NONE" {
				t.Errorf("%s.%s: Authorizer %v; protected routes take the API's default JWT authorizer", f.ID, ev, a)
			}
		}
	}
}

func TestHttpApiChecksJWTsFromTheIssuerAndAudienceParameters(t *testing.T) {
	t.Parallel()
	d := tpl(t)
	api := obj(d.resource(t, "HttpApi", "AWS::Serverless::HttpApi")["Properties"])
	auth := obj(api["Auth"])
	name, _ := auth["DefaultAuthorizer"].(string)
	if name == "" {
		t.Fatal("HttpApi has no DefaultAuthorizer: every route would be open")
	}
	a := obj(obj(auth["Authorizers"])[name])
	if a["IdentitySource"] != "$request.header.Authorization" {
		t.Errorf("authorizer %s: IdentitySource %v, want $request.header.Authorization", name, a["IdentitySource"])
	}
	jwt := obj(a["JwtConfiguration"])
	if !equal(jwt["issuer"], ref("JwtIssuer")) {
		t.Errorf("authorizer %s: issuer %v, want !Ref JwtIssuer", name, jwt["issuer"])
	}
	if !equal(jwt["audience"], ref("JwtAudience")) && !equal(jwt["audience"], []any{ref("JwtAudience")}) {
		t.Errorf("authorizer %s: audience %v, want !Ref JwtAudience", name, jwt["audience"])
	}
}

// ---------------------------------------------------------------------------
// Schedules and the stream
// ---------------------------------------------------------------------------

func TestSchedulersRunEveryMinuteAndEveryTenMinutes(t *testing.T) {
	t.Parallel()
	d := tpl(t)
	for name, want := range map[string]time.Duration{app.StreamSched: time.Minute, app.TokenRefresher: 10 * time.Minute, app.EventDispatcher: time.Minute} {
		f := d.function(t, name)
		if got := schedulePeriod(t, f); got != want {
			t.Errorf("%s runs every %v, want every %v", f.ID, got, want)
		}
	}
}

// schedulePeriod is the period of a function's one schedule event.
func schedulePeriod(t *testing.T, f function) time.Duration {
	t.Helper()
	var exprs []string
	for _, p := range events(f, "Schedule") {
		exprs = append(exprs, fmt.Sprint(p["Schedule"]))
	}
	for _, p := range events(f, "ScheduleV2") {
		exprs = append(exprs, fmt.Sprint(p["ScheduleExpression"]))
	}
	if len(exprs) != 1 {
		t.Fatalf("%s has %d schedules %v, want one", f.ID, len(exprs), exprs)
	}
	m := regexp.MustCompile(`^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$`).FindStringSubmatch(exprs[0])
	if m == nil {
		t.Fatalf("%s: schedule %q is not rate(N unit)", f.ID, exprs[0])
	}
	n := num(t, "rate", m[1])
	if (n == 1) != !strings.HasSuffix(m[2], "s") {
		t.Fatalf("%s: schedule %q: EventBridge wants a singular unit for 1 and a plural otherwise", f.ID, exprs[0])
	}
	unit := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}[strings.TrimSuffix(m[2], "s")]
	return time.Duration(n) * unit
}

func TestDeployWorkerTakesNewDeploymentsFromTheTableStream(t *testing.T) {
	t.Parallel()
	d := tpl(t)
	w := d.function(t, app.DeployWorker)
	streams := events(w, "DynamoDB")
	if len(streams) != 1 {
		t.Fatalf("%s has %d DynamoDB events, want 1", w.ID, len(streams))
	}
	p := streams[sortedKeys(streams)[0]]
	if res, attr, ok := getAttOf(p["Stream"]); !ok || res != "Table" || attr != "StreamArn" {
		t.Errorf("Stream is %v, want !GetAtt Table.StreamArn", p["Stream"])
	}
	if p["StartingPosition"] != "LATEST" {
		t.Errorf("StartingPosition %v, want LATEST", p["StartingPosition"])
	}
	if got := num(t, "BatchSize", p["BatchSize"]); got != 10 {
		t.Errorf("BatchSize %d, want 10", got)
	}
	if !slices.Contains(strs(p["FunctionResponseTypes"]), "ReportBatchItemFailures") {
		t.Errorf("FunctionResponseTypes %v: the worker reports failed records, so Lambda must read its answer (ReportBatchItemFailures)", p["FunctionResponseTypes"])
	}
	if retries := num(t, "MaximumRetryAttempts", p["MaximumRetryAttempts"]); retries < 0 || retries > 10 {
		t.Errorf("MaximumRetryAttempts %d: want a small bound, so a failing record does not hold its shard for a day", retries)
	}
	dest := obj(obj(p["DestinationConfig"])["OnFailure"])["Destination"]
	q, attr, ok := getAttOf(dest)
	if !ok || attr != "Arn" {
		t.Fatalf("DestinationConfig.OnFailure.Destination is %v, want !GetAtt <queue>.Arn", dest)
	}
	d.resource(t, q, "AWS::SQS::Queue")
	if !roleAllows(t, d, w, "sqs:SendMessage", getAtt(q, "Arn")) {
		t.Errorf("%s's role may not sqs:SendMessage to %s, the stream's on-failure destination", w.ID, q)
	}
}

func TestDeployWorkerFilterPassesOnlyInsertedDeploymentItems(t *testing.T) {
	t.Parallel()
	d := tpl(t)
	w := d.function(t, app.DeployWorker)
	var filters []any
	for _, p := range events(w, "DynamoDB") {
		filters = list(obj(p["FilterCriteria"])["Filters"])
	}
	if len(filters) != 1 {
		// Filters are ORed: a second one could only widen what passes.
		t.Fatalf("%d filters, want exactly 1", len(filters))
	}
	var pattern map[string]any
	if err := json.Unmarshal([]byte(fmt.Sprint(obj(filters[0])["Pattern"])), &pattern); err != nil {
		t.Fatalf("the filter's Pattern is not JSON: %v", err)
	}

	// The sample event `sam local invoke` feeds the worker: a new deployment.
	data, err := os.ReadFile(filepath.Join(root(t), "events", "deploy-worker.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sample struct{ Records []map[string]any }
	if err := json.Unmarshal(data, &sample); err != nil || len(sample.Records) == 0 {
		t.Fatalf("events/deploy-worker.json: %v (records %d)", err, len(sample.Records))
	}
	record := func(edit func(r map[string]any)) map[string]any {
		b, _ := json.Marshal(sample.Records[0])
		var r map[string]any
		_ = json.Unmarshal(b, &r)
		edit(r)
		return r
	}
	newImage := func(r map[string]any) map[string]any { return obj(obj(r["dynamodb"])["NewImage"]) }
	cases := []struct {
		name string
		r    map[string]any
		pass bool
	}{
		{"a new deployment (events/deploy-worker.json)", record(func(map[string]any) {}), true},
		{"a deployment's status update (MODIFY)", record(func(r map[string]any) { r["eventName"] = "MODIFY" }), false},
		{"a deployment deleted (REMOVE)", record(func(r map[string]any) { r["eventName"] = "REMOVE"; delete(obj(r["dynamodb"]), "NewImage") }), false},
		{"a new livestream item", record(func(r map[string]any) { newImage(r)["type"] = map[string]any{"S": "livestream"} }), false},
		{"a new item without a type", record(func(r map[string]any) { delete(newImage(r), "type") }), false},
		{"a new item whose type is not a string", record(func(r map[string]any) { newImage(r)["type"] = map[string]any{"N": "1"} }), false},
	}
	for _, c := range cases {
		if got := matchesPattern(t, pattern, c.r); got != c.pass {
			t.Errorf("%s: filter passes it = %v, want %v (pattern %v)", c.name, got, c.pass, pattern)
		}
	}
}

// matchesPattern applies a Lambda event filter pattern (the subset used here:
// nested objects, lists of exact strings, and {"prefix": s}) to a record.
func matchesPattern(t *testing.T, pattern, event map[string]any) bool {
	t.Helper()
	for k, want := range pattern {
		got, present := event[k]
		switch w := want.(type) {
		case map[string]any:
			sub, ok := got.(map[string]any)
			if !present || !ok || !matchesPattern(t, w, sub) {
				return false
			}
		case []any:
			s, ok := got.(string)
			if !present || !ok {
				return false
			}
			hit := false
			for _, alt := range w {
				switch a := alt.(type) {
				case string:
					hit = hit || s == a
				case map[string]any:
					prefix, ok := a["prefix"].(string)
					if len(a) != 1 || !ok {
						t.Fatalf("filter operator %v is not supported by this test", a)
					}
					hit = hit || strings.HasPrefix(s, prefix)
				default:
					t.Fatalf("filter value %v is not supported by this test", alt)
				}
			}
			if !hit {
				return false
			}
		default:
			t.Fatalf("filter pattern %q: %v is neither an object nor a list", k, want)
		}
	}
	return true
}

// ---------------------------------------------------------------------------
// Table and key
// ---------------------------------------------------------------------------

func TestTableIsTheStoresDefinition(t *testing.T) {
	t.Parallel()
	d := tpl(t)
	props := obj(d.resource(t, "Table", "AWS::DynamoDB::Table")["Properties"])
	def := store.TableDefinition()

	keys := func(v any) [][2]string {
		var out [][2]string
		for _, k := range list(v) {
			out = append(out, [2]string{fmt.Sprint(obj(k)["AttributeName"]), fmt.Sprint(obj(k)["KeyType"])})
		}
		return out
	}
	var wantKeys [][2]string
	for _, k := range def.KeySchema {
		wantKeys = append(wantKeys, [2]string{aws.ToString(k.AttributeName), string(k.KeyType)})
	}
	if got := keys(props["KeySchema"]); !slices.Equal(got, wantKeys) {
		t.Errorf("KeySchema %v, want %v", got, wantKeys)
	}

	var gotAttrs, wantAttrs []string
	for _, a := range list(props["AttributeDefinitions"]) {
		gotAttrs = append(gotAttrs, fmt.Sprint(obj(a)["AttributeName"], ":", obj(a)["AttributeType"]))
	}
	for _, a := range def.AttributeDefinitions {
		wantAttrs = append(wantAttrs, aws.ToString(a.AttributeName)+":"+string(a.AttributeType))
	}
	if !sameSet(gotAttrs, wantAttrs) || len(gotAttrs) != len(wantAttrs) {
		t.Errorf("AttributeDefinitions %v, want %v", gotAttrs, wantAttrs)
	}

	type gsi struct {
		name, projection, included string // included: the INCLUDE projection's attributes, sorted
		keys                       [][2]string
	}
	var gotGSIs, wantGSIs []gsi
	sortedJoin := func(xs []string) string { xs = slices.Clone(xs); slices.Sort(xs); return strings.Join(xs, ",") }
	for _, g := range list(props["GlobalSecondaryIndexes"]) {
		var inc []string
		for _, a := range list(obj(obj(g)["Projection"])["NonKeyAttributes"]) {
			inc = append(inc, fmt.Sprint(a))
		}
		gotGSIs = append(gotGSIs, gsi{fmt.Sprint(obj(g)["IndexName"]), fmt.Sprint(obj(obj(g)["Projection"])["ProjectionType"]), sortedJoin(inc), keys(obj(g)["KeySchema"])})
	}
	for _, g := range def.GSIs {
		var ks [][2]string
		for _, k := range g.KeySchema {
			ks = append(ks, [2]string{aws.ToString(k.AttributeName), string(k.KeyType)})
		}
		wantGSIs = append(wantGSIs, gsi{aws.ToString(g.IndexName), string(g.Projection.ProjectionType), sortedJoin(g.Projection.NonKeyAttributes), ks})
	}
	if !equal(gotGSIs, wantGSIs) {
		t.Errorf("GlobalSecondaryIndexes %+v, want %+v", gotGSIs, wantGSIs)
	}
	if _, ok := props["LocalSecondaryIndexes"]; ok {
		t.Error("LocalSecondaryIndexes: the store defines none")
	}

	if props["BillingMode"] != string(def.BillingMode) {
		t.Errorf("BillingMode %v, want %s", props["BillingMode"], def.BillingMode)
	}
	if got := obj(props["StreamSpecification"])["StreamViewType"]; got != string(def.StreamViewType) {
		t.Errorf("StreamViewType %v, want %s", got, def.StreamViewType)
	}
	ttl := obj(props["TimeToLiveSpecification"])
	if ttl["AttributeName"] != def.TTLAttribute || ttl["Enabled"] != true {
		t.Errorf("TimeToLiveSpecification %v, want %s enabled", ttl, def.TTLAttribute)
	}
	if got := obj(props["PointInTimeRecoverySpecification"])["PointInTimeRecoveryEnabled"]; got != true {
		t.Errorf("PointInTimeRecoveryEnabled %v, want true", got)
	}
	if got := obj(props["SSESpecification"])["SSEEnabled"]; got != true {
		t.Errorf("SSEEnabled %v, want true", got)
	}
}

func TestTableAndKeyOutliveTheStack(t *testing.T) {
	t.Parallel()
	d := tpl(t)
	for _, id := range []string{"Table", "Key"} {
		r := d.resources()[id]
		if r["DeletionPolicy"] != "Retain" || r["UpdateReplacePolicy"] != "Retain" {
			t.Errorf("%s: DeletionPolicy %v, UpdateReplacePolicy %v, want Retain for both: losing it loses every tenant's connections",
				id, r["DeletionPolicy"], r["UpdateReplacePolicy"])
		}
	}
}

func TestVaultKeyIsASymmetricRotatingKeyWithAnAlias(t *testing.T) {
	t.Parallel()
	d := tpl(t)
	props := obj(d.resource(t, "Key", "AWS::KMS::Key")["Properties"])
	if spec, ok := props["KeySpec"]; ok && spec != "SYMMETRIC_DEFAULT" {
		t.Errorf("KeySpec %v: GenerateDataKey needs a symmetric key", spec)
	}
	if usage, ok := props["KeyUsage"]; ok && usage != "ENCRYPT_DECRYPT" {
		t.Errorf("KeyUsage %v, want ENCRYPT_DECRYPT", usage)
	}
	if props["EnableKeyRotation"] != true {
		t.Errorf("EnableKeyRotation %v, want true", props["EnableKeyRotation"])
	}
	aliases := 0
	for id, a := range d.ofType("AWS::KMS::Alias") {
		if equal(obj(a["Properties"])["TargetKeyId"], ref("Key")) {
			aliases++
		} else {
			t.Errorf("alias %s points at %v", id, obj(a["Properties"])["TargetKeyId"])
		}
	}
	if aliases != 1 {
		t.Errorf("%d aliases of Key, want 1", aliases)
	}
}

// ---------------------------------------------------------------------------
// References and outputs
// ---------------------------------------------------------------------------

var pseudoParameters = []string{"AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue", "AWS::Partition",
	"AWS::Region", "AWS::StackId", "AWS::StackName", "AWS::URLSuffix"}

func TestEveryReferenceResolves(t *testing.T) {
	t.Parallel()
	d := tpl(t)
	params, res, conds := d.section("Parameters"), d.section("Resources"), d.section("Conditions")
	named := func(name string) bool {
		_, p := params[name]
		_, r := res[name]
		return p || r || slices.Contains(pseudoParameters, name)
	}
	subVar := regexp.MustCompile(`\$\{([^!}][^}]*)\}`)
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, val := range x {
				p := path + "/" + k
				switch {
				case k == "Ref" && len(x) == 1:
					if s, _ := val.(string); !named(s) {
						t.Errorf("%s: !Ref %v names no parameter or resource", p, val)
					}
				case k == "Fn::GetAtt" && len(x) == 1:
					if args := list(val); len(args) != 2 || res[fmt.Sprint(args[0])] == nil {
						t.Errorf("%s: !GetAtt %v names no resource", p, val)
					}
				case k == "Fn::Sub" && len(x) == 1:
					tmpl, vars := val, map[string]any{}
					if args, ok := val.([]any); ok && len(args) == 2 {
						tmpl, vars = args[0], obj(args[1])
					}
					for _, m := range subVar.FindAllStringSubmatch(fmt.Sprint(tmpl), -1) {
						name, _, _ := strings.Cut(m[1], ".")
						if _, local := vars[m[1]]; !local && !named(name) && !(strings.Contains(m[1], ".") && res[name] != nil) {
							t.Errorf("%s: ${%s} names no parameter, resource or variable", p, m[1])
						}
					}
				case k == "Fn::If" && len(x) == 1:
					if args := list(val); len(args) != 3 || conds[fmt.Sprint(args[0])] == nil {
						t.Errorf("%s: !If %v names no condition", p, val)
					}
				case k == "Condition":
					// A condition name (resource attribute or !Condition); IAM
					// statements' Condition blocks are mappings.
					if s, ok := val.(string); ok && conds[s] == nil {
						t.Errorf("%s: condition %s is not declared", p, s)
					}
				}
				walk(p, val)
			}
		case []any:
			for i, e := range x {
				walk(fmt.Sprintf("%s/%d", path, i), e)
			}
		}
	}
	walk("", d.m)
	for name := range params {
		if !strings.Contains(mustJSON(d.m["Resources"])+mustJSON(d.m["Conditions"])+mustJSON(d.m["Globals"])+mustJSON(d.m["Outputs"]), `"Ref":"`+name+`"`) &&
			!strings.Contains(mustJSON(d.m), "${"+name+"}") {
			t.Errorf("parameter %s is never used", name)
		}
	}
}

func TestOutputsNameTheAPITableAndKey(t *testing.T) {
	t.Parallel()
	out := tpl(t).section("Outputs")
	want := map[string]func(any) bool{
		"ApiUrl": func(v any) bool {
			s, _ := obj(v)["Fn::Sub"].(string)
			return strings.HasPrefix(s, "https://${HttpApi}.execute-api.")
		},
		"TableName": func(v any) bool { return equal(v, ref("Table")) },
		"KeyArn":    func(v any) bool { return equal(v, getAtt("Key", "Arn")) },
	}
	for name, ok := range want {
		if v := obj(out[name])["Value"]; !ok(v) {
			t.Errorf("output %s is %v", name, v)
		}
	}
}

// event-dispatcher's stream filter names exactly the sort-key prefixes of
// the items whose changes make events (store.EventItemPrefixes), which the
// local stream (streams.EventItems) filters by too.
func TestEventDispatcherFilterPassesTheItemsThatMakeEvents(t *testing.T) {
	t.Parallel()
	d := tpl(t)
	f := d.function(t, app.EventDispatcher)
	var filters []any
	for _, p := range events(f, "DynamoDB") {
		filters = list(obj(p["FilterCriteria"])["Filters"])
		if !slices.Contains(strs(p["FunctionResponseTypes"]), "ReportBatchItemFailures") || p["BisectBatchOnFunctionError"] != true {
			t.Errorf("the stream event must report batch item failures and bisect: %v", p)
		}
		if q, _, ok := getAttOf(obj(obj(p["DestinationConfig"])["OnFailure"])["Destination"]); !ok || !roleAllows(t, d, f, "sqs:SendMessage", getAtt(q, "Arn")) {
			t.Errorf("the stream event's on-failure destination is not a queue the role may send to")
		}
	}
	if len(filters) != 1 {
		t.Fatalf("%d filters, want 1", len(filters))
	}
	var pattern struct {
		DynamoDB struct {
			Keys struct {
				SK struct {
					S []struct{ Prefix string } `json:"S"`
				} `json:"sk"`
			} `json:"Keys"`
		} `json:"dynamodb"`
	}
	if err := json.Unmarshal([]byte(fmt.Sprint(obj(filters[0])["Pattern"])), &pattern); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range pattern.DynamoDB.Keys.SK.S {
		got = append(got, p.Prefix)
	}
	if !sameSet(got, store.EventItemPrefixes()) {
		t.Errorf("the filter passes sk prefixes %v, want %v", got, store.EventItemPrefixes())
	}
}
