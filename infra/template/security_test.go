package template_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/registry"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/vault"
)

// Permissions, the vault key's policy, secrets and OAuth clients: what each
// function may do, and that no secret is written into the template.

// ---------------------------------------------------------------------------
// The vault key
// ---------------------------------------------------------------------------

func TestFunctionsUseTheVaultKeyOnlyWithTenantPlatformPurposeContext(t *testing.T) {
	t.Parallel()
	d := tpl(t)
	var stmt map[string]any
	for _, s := range statements(d) {
		if s.resource == "Key" && s.allow() && !equal(s.principals(), []any{rootPrincipal}) {
			if stmt != nil {
				t.Fatal("the key policy has more than one statement for principals other than the account")
			}
			stmt = s.s
		}
	}
	if stmt == nil {
		t.Fatal("the key policy grants the functions nothing")
	}
	s := statement{s: stmt}

	var roles []any
	for _, name := range app.Functions() {
		roles = append(roles, getAtt(roleOf(t, d, d.function(t, name)), "Arn"))
	}
	if !sameSet(jsonStrings(s.principals()), jsonStrings(roles)) {
		t.Errorf("the key policy's function statement names %v, want every function's role %v", s.principals(), roles)
	}
	if got := strs(s.s["Action"]); !sameSet(got, []string{"kms:GenerateDataKey", "kms:Decrypt"}) {
		t.Errorf("the functions may %v on the key, want kms:GenerateDataKey and kms:Decrypt only (the vault seals and opens; rewrap is an operator's)", got)
	}

	cond := obj(s.s["Condition"])
	keys := strs(obj(cond["ForAllValues:StringEquals"])["kms:EncryptionContextKeys"])
	if want := []string{vault.KeyTenant, vault.KeyPlatform, vault.KeyPurpose, vault.KeyRecord}; !sameSet(keys, want) {
		t.Errorf("ForAllValues:StringEquals kms:EncryptionContextKeys is %v, want the vault's context keys %v", keys, want)
	}
	null := obj(cond["Null"])
	for _, k := range []string{vault.KeyTenant, vault.KeyPlatform, vault.KeyPurpose} {
		if got := null["kms:EncryptionContext:"+k]; got != "false" {
			t.Errorf("Null kms:EncryptionContext:%s is %v, want \"false\": every call must name its %s", k, got, k)
		}
	}
	if len(cond) != 2 {
		t.Errorf("condition operators %v, want ForAllValues:StringEquals and Null", sortedKeys(cond))
	}
}

func TestOnlyTheKeyPolicyGrantsKMS(t *testing.T) {
	t.Parallel()
	for _, s := range statements(tpl(t)) {
		if s.resource == "Key" || !s.allow() {
			continue
		}
		for _, a := range s.actions() {
			if strings.HasPrefix(strings.ToLower(a), "kms:") || a == "*" {
				t.Errorf("%s grants %s: KMS use goes through the key policy, which requires the vault's context", s.where, a)
			}
		}
	}
}

// ---------------------------------------------------------------------------
// Permissions
// ---------------------------------------------------------------------------

func TestNoPolicyAllowsScan(t *testing.T) {
	t.Parallel()
	for _, s := range statements(tpl(t)) {
		if !s.allow() {
			continue
		}
		if _, ok := s.s["NotAction"]; ok {
			t.Errorf("%s: Allow with NotAction grants everything it does not name, Scan among it", s.where)
		}
		for _, a := range s.actions() {
			if globMatch(a, "dynamodb:Scan") {
				t.Errorf("%s allows %s, which covers dynamodb:Scan (only the operator's rewrap scans, with its own credentials)", s.where, a)
			}
		}
	}
}

func TestDynamoDBAccessIsLimitedToTheTableItsIndexAndItsStream(t *testing.T) {
	t.Parallel()
	d := tpl(t)
	table := getAtt("Table", "Arn")
	index := map[string]any{"Fn::Sub": "${Table.Arn}/index/" + store.IndexGSI1}
	due := map[string]any{"Fn::Sub": "${Table.Arn}/index/" + store.IndexDue}
	stream := getAtt("Table", "StreamArn")
	allowed := map[string][]any{
		"dynamodb:GetItem":          {table},
		"dynamodb:PutItem":          {table},
		"dynamodb:UpdateItem":       {table},
		"dynamodb:DeleteItem":       {table},
		"dynamodb:Query":            {table, index, due},
		"dynamodb:DescribeStream":   {stream},
		"dynamodb:GetRecords":       {stream},
		"dynamodb:GetShardIterator": {stream},
		// ListStreams has no resource-level permission.
		"dynamodb:ListStreams": {"*"},
	}
	for _, s := range statements(d) {
		if !s.allow() {
			continue
		}
		for _, a := range s.actions() {
			if !strings.HasPrefix(strings.ToLower(a), "dynamodb:") {
				continue
			}
			ok, known := allowed[a]
			if !known {
				t.Errorf("%s allows %s: not an action any function needs", s.where, a)
				continue
			}
			for _, r := range list(s.s["Resource"]) {
				if !slices.ContainsFunc(ok, func(x any) bool { return equal(x, r) }) {
					t.Errorf("%s allows %s on %v, want only %v", s.where, a, r, ok)
				}
			}
		}
	}
}

// tableActions is each function's DynamoDB item actions on the table, and
// the store calls that need them (internal/store: Get is GetItem, Put and
// a transaction's Puts are PutItem, Update and a transaction's Updates are
// UpdateItem, Delete is DeleteItem, Query on the table is Query). The
// store's transactions have no ConditionCheck items, so no function needs
// ConditionCheckItem.
var tableActions = map[string][]string{
	// StartOAuth PutState; Callback TakeState (Get, Delete) and the
	// connection's Get and versioned Save (Put). No idempotent route, no list.
	// the state (Put, Get, Delete), the connection (Get, Put), and YouTube's
	// quota ledger counting the callback's account read (Update).
	app.OAuth: {"GetItem", "PutItem", "UpdateItem", "DeleteItem"},
	// Get, List (Query), Save (Put: connect, verify, refresh, disconnect),
	// TakeLease and ReleaseLease (Update); POST /connections/{platform}'s
	// idempotency Begin (Get, Put, Update), Finish (Update), Abandon
	// (Delete).
	app.Connections: {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query"},
	// livestream Create (Put), Save/SaveTarget (Update), Delete (a create
	// refused everywhere), List (Query); connection Token (Get, lease
	// Update, Save Put); idempotency Begin (Get, Put, Update), Finish
	// (Update), Abandon (Delete).
	app.Livestreams: {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query"},
	// meeting Create (Put), Cancel/SetTarget (Update), List (Query);
	// connection Token; idempotency as above.
	app.Meetings: {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query"},
	// livestream Due (Query on gsi1 only), Get, Save/SaveTarget (Update);
	// connection Token (Get, Update, Put); a set-up retried keeps the
	// tenant's reusable stream (CreateIngest: Put) and forgets one the
	// platform no longer has (DeleteIngest: Delete).
	app.StreamSched: {"GetItem", "PutItem", "UpdateItem", "DeleteItem"},
	// connection Due (gsi1), Get, TakeLease/ReleaseLease (Update), Save
	// (Put); the deployments sweep's Due (gsi1), Kick (a transaction of two
	// Updates), Expire (Update); recurring series' DueSeries (gsi1),
	// GetSeries, SaveSeries (Put) and each occurrence's livestream Create
	// (Put, and Delete when every platform refused it) and ingest.
	app.TokenRefresher: {"GetItem", "PutItem", "UpdateItem", "DeleteItem"},
	// LoadWindow (Get), Accept (a transaction of two Puts), PutFiles (Put),
	// Get, List and Logs (Query), Cancel (Update); connection Token;
	// idempotency as above.
	app.Deployments: {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query"},
	// Claim (Get, Update), Files (Get), Save (Update, or a transaction of an
	// Update and a log item's Put), Expire (Update); connection Token and
	// ReportUnauthorized (Get, Update, Put).
	app.DeployWorker: {"GetItem", "PutItem", "UpdateItem"},
	// endpoints CreateEndpoint (Put), Endpoint (Get), Endpoints, Feed and
	// Deliveries (Query), SaveEndpoint (Put), DeleteEndpoint (Delete);
	// idempotency as above.
	app.Webhooks: {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query"},
	// Record (a transaction of Puts), Endpoints and ScheduledLivestreams
	// (Query), Delivery and Endpoint (Get), SaveAttempt, Claim, SetFailing
	// and Disable (Update); DueDeliveries on gsi1.
	app.EventDispatcher: {"GetItem", "PutItem", "UpdateItem", "Query"},
}

func TestEachRoleGrantsOnTheTableExactlyTheItemActionsItsCodeCalls(t *testing.T) {
	t.Parallel()
	d := tpl(t)
	table := getAtt("Table", "Arn")
	for _, name := range app.Functions() {
		want, ok := tableActions[name]
		if !ok {
			t.Errorf("no table actions are listed for %s", name)
			continue
		}
		f := d.function(t, name)
		for _, a := range []string{"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "ConditionCheckItem", "BatchGetItem", "BatchWriteItem"} {
			if got, need := roleAllows(t, d, f, "dynamodb:"+a, table), slices.Contains(want, a); got != need {
				t.Errorf("%s may call dynamodb:%s on the table: %v, want %v", f.ID, a, got, need)
			}
		}
	}
}

// The schedulers find due work on the due index and gsi1 (event-dispatcher's
// webhook retries on gsi1 only); the HTTP functions and the worker address
// items by key and never need them.
func TestOnlyTheSchedulersQueryTheIndexes(t *testing.T) {
	t.Parallel()
	d := tpl(t)
	for _, ix := range []string{store.IndexGSI1, store.IndexDue} {
		index := map[string]any{"Fn::Sub": "${Table.Arn}/index/" + ix}
		for _, name := range app.Functions() {
			f := d.function(t, name)
			want := name == app.StreamSched || name == app.TokenRefresher ||
				(name == app.EventDispatcher && ix == store.IndexGSI1)
			if got := roleAllows(t, d, f, "dynamodb:Query", index); got != want {
				t.Errorf("%s may query %s: %v, want %v", f.ID, ix, got, want)
			}
		}
	}
}

func TestEachFunctionLogsToItsOwnGroupKeptForTheRetentionParameter(t *testing.T) {
	t.Parallel()
	d := tpl(t)
	seen := map[string]string{}
	for _, name := range app.Functions() {
		f := d.function(t, name)
		group, ok := refName(obj(f.Props["LoggingConfig"])["LogGroup"])
		if !ok {
			t.Errorf("%s: LoggingConfig.LogGroup is %v, want !Ref <its log group>", f.ID, obj(f.Props["LoggingConfig"])["LogGroup"])
			continue
		}
		d.resource(t, group, "AWS::Logs::LogGroup")
		if other, dup := seen[group]; dup {
			t.Errorf("%s and %s share the log group %s", other, f.ID, group)
		}
		seen[group] = f.ID
		if !roleAllows(t, d, f, "logs:PutLogEvents", getAtt(group, "Arn")) {
			t.Errorf("%s's role may not write to %s", f.ID, group)
		}
	}
	for id, g := range d.ofType("AWS::Logs::LogGroup") {
		if got := obj(g["Properties"])["RetentionInDays"]; !equal(got, ref("LogRetentionDays")) {
			t.Errorf("%s: RetentionInDays %v, want !Ref LogRetentionDays", id, got)
		}
	}
}

func TestEveryFunctionHasItsOwnRole(t *testing.T) {
	t.Parallel()
	d := tpl(t)
	seen := map[string]string{}
	for _, name := range app.Functions() {
		f := d.function(t, name)
		role := roleOf(t, d, f)
		if other, dup := seen[role]; dup {
			t.Errorf("%s and %s share the role %s", other, f.ID, role)
		}
		seen[role] = f.ID
		trust := obj(obj(d.resources()[role]["Properties"])["AssumeRolePolicyDocument"])
		for _, s := range list(trust["Statement"]) {
			if got := obj(obj(s)["Principal"])["Service"]; got != "lambda.amazonaws.com" {
				t.Errorf("%s trusts %v, want lambda.amazonaws.com only", role, obj(s)["Principal"])
			}
		}
		if mp, ok := obj(d.resources()[role]["Properties"])["ManagedPolicyArns"]; ok {
			t.Errorf("%s: ManagedPolicyArns %v; the AWS managed Lambda policies grant logs and streams on *", role, mp)
		}
	}
}

// ---------------------------------------------------------------------------
// Secrets and OAuth clients
// ---------------------------------------------------------------------------

var secretName = regexp.MustCompile(`SECRET|PASSWORD|PRIVATE_?KEY`)

func TestNoSecretHasALiteralValue(t *testing.T) {
	t.Parallel()
	d := tpl(t)
	params := d.section("Parameters")
	for name, p := range params {
		if secretName.MatchString(strings.ToUpper(name)) {
			if obj(p)["NoEcho"] != true {
				t.Errorf("parameter %s: a secret parameter must be NoEcho", name)
			}
			if _, ok := obj(p)["Default"]; ok {
				t.Errorf("parameter %s: a secret parameter must have no Default", name)
			}
		}
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, val := range x {
				p := path + "/" + k
				if path == "/Parameters" {
					walk(p, val)
					continue
				}
				if secretName.MatchString(strings.ToUpper(k)) {
					if m, isMap := val.(map[string]any); isMap && !isIntrinsic(m) {
						walk(p, val) // a group of settings named for a secret; its values are checked by name
						continue
					}
					if why := unsafeSecret(d, val); why != "" {
						t.Errorf("%s: %s", p, why)
					}
					continue
				}
				walk(p, val)
			}
		case []any:
			for i, e := range x {
				walk(fmt.Sprintf("%s/%d", path, i), e)
			}
		case string:
			if strings.Contains(x, "-----BEGIN") {
				t.Errorf("%s holds a PEM block", path)
			}
		}
	}
	walk("", d.m)
}

// unsafeSecret says why v may not stand as a secret's value, or "" if it may:
// a Secrets Manager or SSM SecureString dynamic reference (also through
// !Sub), a Ref to a NoEcho parameter or to a Secrets Manager secret, an ARN
// of a secret, AWS::NoValue, or an !If choosing among those.
func unsafeSecret(d doc, v any) string {
	safeString := func(s string) bool {
		return strings.HasPrefix(s, "{{resolve:secretsmanager:") || strings.HasPrefix(s, "{{resolve:ssm-secure:") ||
			regexp.MustCompile(`^arn:(aws[a-z-]*|\$\{AWS::Partition\}):(secretsmanager|ssm):`).MatchString(s)
	}
	switch x := v.(type) {
	case string:
		if safeString(x) {
			return ""
		}
		return "a literal value; use a {{resolve:secretsmanager:...}} dynamic reference"
	case map[string]any:
		if name, ok := refName(x); ok {
			if name == "AWS::NoValue" {
				return ""
			}
			if p, isParam := d.section("Parameters")[name]; isParam {
				if obj(p)["NoEcho"] == true {
					return ""
				}
				return fmt.Sprintf("!Ref %s, a parameter without NoEcho", name)
			}
			if d.resources()[name]["Type"] == "AWS::SecretsManager::Secret" {
				return ""
			}
			return fmt.Sprintf("!Ref %s, neither a NoEcho parameter nor a secret", name)
		}
		if sub, ok := x["Fn::Sub"]; ok && len(x) == 1 {
			tmpl, _ := sub.(string)
			if args, isList := sub.([]any); isList && len(args) > 0 {
				tmpl, _ = args[0].(string)
			}
			if safeString(tmpl) {
				return ""
			}
			return fmt.Sprintf("!Sub %q builds a literal value", tmpl)
		}
		if args, ok := x["Fn::If"].([]any); ok && len(x) == 1 && len(args) == 3 {
			for _, branch := range args[1:] {
				if why := unsafeSecret(d, branch); why != "" {
					return "a branch of !If: " + why
				}
			}
			return ""
		}
		b, _ := json.Marshal(x)
		return fmt.Sprintf("%s is not a dynamic reference, NoEcho parameter or secret ARN", b)
	default:
		return fmt.Sprintf("a literal %v", v)
	}
}

func isIntrinsic(m map[string]any) bool {
	if len(m) != 1 {
		return false
	}
	for k := range m {
		return k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::")
	}
	return false
}

// Which functions talk to the token endpoints of which kind of platform:
// oauth exchanges codes, connections and token-refresher refresh and revoke
// for every platform; the others refresh on the way, for their own kind.
var oauthClientsOf = map[string][]platform.Kind{
	app.OAuth:           {platform.KindLivestream, platform.KindMeeting, platform.KindDeploy},
	app.Connections:     {platform.KindLivestream, platform.KindMeeting, platform.KindDeploy},
	app.TokenRefresher:  {platform.KindLivestream, platform.KindMeeting, platform.KindDeploy},
	app.Livestreams:     {platform.KindLivestream},
	app.StreamSched:     {platform.KindLivestream},
	app.Meetings:        {platform.KindMeeting},
	app.Deployments:     {platform.KindDeploy},
	app.DeployWorker:    {platform.KindDeploy},
	app.Webhooks:        nil, // calls no platform
	app.EventDispatcher: nil, // calls only webhook endpoints
}

func TestOAuthClientsReachOnlyTheFunctionsThatUseThem(t *testing.T) {
	t.Parallel()
	d := tpl(t)
	if !sameSet(sortedKeys(oauthClientsOf), app.Functions()) {
		t.Fatalf("oauthClientsOf covers %v, app.Functions() is %v", sortedKeys(oauthClientsOf), app.Functions())
	}
	params, conds := d.section("Parameters"), d.section("Conditions")
	for _, p := range registry.All() {
		if !p.Accepts(platform.AuthOAuth2) {
			continue
		}
		camel := ""
		for _, w := range strings.Split(string(p.ID), "-") {
			camel += strings.ToUpper(w[:1]) + w[1:]
		}
		param := camel + "ClientId"
		if obj(params[param])["Type"] != "String" {
			t.Errorf("%s: no String parameter %s for its OAuth client id", p.ID, param)
			continue
		}
		has := "Has" + camel
		if want := map[string]any{"Fn::Not": []any{map[string]any{"Fn::Equals": []any{ref(param), ""}}}}; !equal(conds[has], want) {
			t.Errorf("condition %s is %v, want !Not [!Equals [!Ref %s, '']]", has, conds[has], param)
		}
		prefix := p.ID.EnvPrefix()
		wantSecret := map[string]any{"Fn::If": []any{has,
			map[string]any{"Fn::Sub": "{{resolve:secretsmanager:${ClientCredentialsPrefix}/" + string(p.ID) + ":SecretString:client_secret}}"},
			ref("AWS::NoValue")}}
		wantCallback := map[string]any{"Fn::If": []any{"HasPublicBaseUrl",
			map[string]any{"Fn::Sub": "${PublicBaseUrl}/oauth/" + string(p.ID) + "/callback"},
			ref("AWS::NoValue")}}
		for _, name := range app.Functions() {
			f := d.function(t, name)
			env := d.env(f)
			uses := slices.Contains(oauthClientsOf[name], p.Kind)
			if _, has := env[prefix+"_CLIENT_SECRET"]; has != uses {
				t.Errorf("%s: has %s_CLIENT_SECRET = %v, want %v", f.ID, prefix, has, uses)
			}
			if !uses {
				continue
			}
			if !equal(env[prefix+"_CLIENT_ID"], ref(param)) {
				t.Errorf("%s: %s_CLIENT_ID is %v, want !Ref %s", f.ID, prefix, env[prefix+"_CLIENT_ID"], param)
			}
			if !equal(env[prefix+"_CLIENT_SECRET"], wantSecret) {
				t.Errorf("%s: %s_CLIENT_SECRET is %v, want the Secrets Manager reference %v", f.ID, prefix, env[prefix+"_CLIENT_SECRET"], wantSecret)
			}
			// platform.Endpoints.OAuthConfigured needs the callback URL too.
			if !equal(env[prefix+"_CALLBACK_URL"], wantCallback) {
				t.Errorf("%s: %s_CALLBACK_URL is %v, want %v", f.ID, prefix, env[prefix+"_CALLBACK_URL"], wantCallback)
			}
		}
	}
}

// ---------------------------------------------------------------------------
// Policy helpers
// ---------------------------------------------------------------------------

var rootPrincipal = map[string]any{"AWS": map[string]any{"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}

type statement struct {
	resource string // the logical id of the resource holding the policy
	where    string
	s        map[string]any
}

func (s statement) allow() bool { return s.s["Effect"] == "Allow" }

func (s statement) actions() []string { return strs(s.s["Action"]) }

func (s statement) principals() []any {
	p := obj(s.s["Principal"])
	if len(p) == 0 {
		return nil
	}
	if aws, ok := p["AWS"]; ok && len(p) == 1 {
		if l, isList := aws.([]any); isList {
			return l
		}
		return []any{map[string]any{"AWS": aws}}
	}
	return []any{p}
}

// statements finds every policy statement in the template: in roles, managed
// and inline policies, key and queue policies, wherever a Statement list is.
func statements(d doc) []statement {
	var out []statement
	var walk func(res, path string, v any)
	walk = func(res, path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			if st, ok := x["Statement"]; ok {
				for i, s := range list(st) {
					if m, isMap := s.(map[string]any); isMap {
						out = append(out, statement{res, fmt.Sprintf("%s/Statement/%d", path, i), m})
					}
				}
			}
			for k, val := range x {
				if k != "Statement" {
					walk(res, path+"/"+k, val)
				}
			}
		case []any:
			for i, e := range x {
				walk(res, fmt.Sprintf("%s/%d", path, i), e)
			}
		}
	}
	for id, r := range d.resources() {
		walk(id, id, r)
	}
	return out
}

// roleOf is the logical id of a function's role.
func roleOf(t *testing.T, d doc, f function) string {
	t.Helper()
	role, attr, ok := getAttOf(f.Props["Role"])
	if !ok || attr != "Arn" {
		t.Fatalf("%s: Role is %v, want !GetAtt <its role>.Arn", f.ID, f.Props["Role"])
	}
	d.resource(t, role, "AWS::IAM::Role")
	return role
}

// roleAllows reports whether a statement of the function's role allows the
// action on the resource (as written in the template).
func roleAllows(t *testing.T, d doc, f function, action string, resource any) bool {
	t.Helper()
	role := roleOf(t, d, f)
	for _, s := range statements(d) {
		if s.resource != role || !s.allow() || !strings.Contains(s.where, "/PolicyDocument/") {
			continue
		}
		for _, a := range s.actions() {
			if globMatch(a, action) && slices.ContainsFunc(list(s.s["Resource"]), func(r any) bool { return equal(r, resource) }) {
				return true
			}
		}
	}
	return false
}

// globMatch matches an IAM action pattern (* and ?, case-insensitive).
func globMatch(pattern, action string) bool {
	re := "(?i)^" + strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(pattern)) + "$"
	return regexp.MustCompile(re).MatchString(action)
}

func jsonStrings(vs []any) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = mustJSON(v)
	}
	return out
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
