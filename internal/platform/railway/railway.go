// Package railway deploys projects to Railway through its public GraphQL
// API (https://backboard.railway.com/graphql/v2): a project, a service from
// a Git repository or a registry image, its variables, a deployment, its
// status and build logs, Postgres from Railway's template, rollback and
// cancel.
//
// Every GraphQL document here is checked by the tests against Railway's
// published schema (shared/specs/railway-schema.json), and the fake checks
// every request it receives against the same schema.
//
// Tokens: an account or OAuth token and a workspace token go in
// Authorization: Bearer, a project token in Project-Access-Token; the kind
// travels with the token (platform.TokenOfKind with TokenWorkspace or
// TokenProject; none is an account or OAuth token). Evidence: PLATFORMS.md
// Railway "Token kinds" (railwayapp/docs integrations/api.md).
//
// Projects: a project and its service are made once per project name and
// workspace and reused by later deployments (the deploy worker records
// them in its project record). Requests are few and polls slow: Railway
// allows a Free plan token 100 requests an hour (PLATFORMS.md Railway,
// "Rate limits").
//
// Railway documents no file upload. The CLI's `railway up` posts a tar.gz
// to an undocumented endpoint (POST /project/{id}/environment/{envId}/up);
// this client can use it only when built WithUndocumentedUpload(true), and
// otherwise refuses files in Validate.
package railway

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/switchboard-dev/switchboard/internal/platform"
)

// Progress keys this client records in DeployProgress.Extra.
const (
	extraWorkflow     = "railway.databaseWorkflow"   // the template deployment that creates Postgres
	extraWorkflowAt   = "railway.databaseWorkflowAt" // when it was asked for (RFC 3339)
	extraDatabaseName = "railway.databaseService"    // the Postgres service's name, for reference variables
	extraProjectAsked = "railway.projectCreateAt"    // a projectCreate was sent at (RFC 3339); its answer may be lost
	extraProjectMade  = "railway.projectMade"        // this deployment created the project
	extraServiceAsked = "railway.serviceCreateSent"  // a serviceCreate was sent; its answer may be lost
	extraSourceSet    = "railway.sourceSet"          // the service's source is this deployment's
	extraReused       = "railway.projectReused"      // the project is one an earlier deployment made
	extraServiceFound = "railway.serviceFound"       // the service was there already
)

// Token kinds (platform.TokenOfKind). An account or OAuth token carries no
// kind. Evidence: railwayapp/cli reads RAILWAY_TOKEN as a project token and
// RAILWAY_API_TOKEN as an account or workspace token (PLATFORMS.md
// Railway, "Token kinds").
const (
	TokenWorkspace = "workspace"
	TokenProject   = "project"
)

// DefaultPollEvery is how often the deploy worker reads a Railway
// deployment's status (and its build log): one deployment of a few
// minutes then costs some twenty requests, which a Free plan's 100 an
// hour can afford several times.
const DefaultPollEvery = 20 * time.Second

// PostgresTemplate is the code of Railway's Postgres template.
const PostgresTemplate = "postgres"

// Client is a platform.Deployer for Railway.
type Client struct {
	call       *platform.Caller
	origin     string // scheme and host of the API URL, for the upload endpoint
	upload     bool
	pollEvery  time.Duration
	pollFor    time.Duration
	logLimit   int
	sleep      func(context.Context, time.Duration) error
	serviceURL bool
	pollStatus time.Duration
	now        func() time.Time
}

var _ platform.Deployer = (*Client)(nil)

// Option changes a Client.
type Option func(*Client)

// WithUndocumentedUpload lets the client upload files through the CLI's
// undocumented endpoint. Railway may change or close it without notice.
func WithUndocumentedUpload(on bool) Option { return func(c *Client) { c.upload = on } }

// WithPolling sets how often and how long the client waits for the
// Postgres template to finish (10 s and 3 min by default).
func WithPolling(every, upTo time.Duration) Option {
	return func(c *Client) {
		if every > 0 {
			c.pollEvery = every
		}
		if upTo > 0 {
			c.pollFor = upTo
		}
	}
}

// WithStatusPolling sets how often the deploy worker reads a
// deployment's status (DefaultPollEvery when not set).
func WithStatusPolling(every time.Duration) Option {
	return func(c *Client) {
		if every > 0 {
			c.pollStatus = every
		}
	}
}

// WithoutPublicDomain leaves the service without a generated
// *.up.railway.app domain (one is created by default).
func WithoutPublicDomain() Option { return func(c *Client) { c.serviceURL = false } }

// New builds a client; apiURL "" is Railway's GraphQL endpoint. A URL
// without a query string gets ?source=switchboard, which names the caller
// in Railway's logs (no vendor document says it changes any limit:
// PLATFORMS.md Railway, "Rate limits").
func New(httpClient *http.Client, apiURL string, opts ...Option) *Client {
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	if !strings.Contains(apiURL, "?") {
		apiURL += "?source=switchboard"
	}
	c := &Client{pollEvery: 10 * time.Second, pollFor: 3 * time.Minute, logLimit: 500, sleep: platform.Sleep, serviceURL: true,
		pollStatus: DefaultPollEvery, now: time.Now}
	if u, err := url.Parse(apiURL); err == nil {
		c.origin = u.Scheme + "://" + u.Host
	}
	c.call = &platform.Caller{Platform: ID, HTTP: httpClient, BaseURL: apiURL, Refine: refine}
	for _, o := range opts {
		o(c)
	}
	return c
}

// PollEvery paces the deploy worker's status polls (platform.Paced).
func (c *Client) PollEvery() time.Duration { return c.pollStatus }

// The GraphQL documents this client sends, each checked against Railway's
// schema by the tests (Documents, in export_test.go, lists them).
const (
	docMe                = `query Me { me { id email name workspaces { id name } } }`
	docAPIToken          = `query ApiToken { apiToken { workspaces { id name } } }`
	docProjectToken      = `query ProjectToken { projectToken { projectId environmentId project { id name } } }`
	docProjects          = `query Projects($workspaceId: String) { projects(workspaceId: $workspaceId, orderBy: CREATED_AT_DESC, first: 50) { edges { node { id name createdAt } } } }`
	docServiceConnect    = `mutation ServiceConnect($id: String!, $input: ServiceConnectInput!) { serviceConnect(id: $id, input: $input) { id } }`
	docDomains           = `query Domains($projectId: String!, $environmentId: String!, $serviceId: String!) { domains(projectId: $projectId, environmentId: $environmentId, serviceId: $serviceId) { serviceDomains { domain } } }`
	docProjectCreate     = `mutation ProjectCreate($input: ProjectCreateInput!) { projectCreate(input: $input) { id name environments { edges { node { id name } } } } }`
	docProjectEnvs       = `query ProjectEnvironments($id: String!) { project(id: $id) { id environments { edges { node { id name } } } } }`
	docProjectServices   = `query ProjectServices($id: String!) { project(id: $id) { id services { edges { node { id name } } } } }`
	docServiceCreate     = `mutation ServiceCreate($input: ServiceCreateInput!) { serviceCreate(input: $input) { id name } }`
	docDomainCreate      = `mutation ServiceDomainCreate($input: ServiceDomainCreateInput!) { serviceDomainCreate(input: $input) { id domain } }`
	docVariablesUpsert   = `mutation VariableCollectionUpsert($input: VariableCollectionUpsertInput!) { variableCollectionUpsert(input: $input) }`
	docTemplate          = `query Template($code: String!) { template(code: $code) { id code serializedConfig } }`
	docTemplateDeploy    = `mutation TemplateDeployV2($input: TemplateDeployV2Input!) { templateDeployV2(input: $input) { projectId workflowId } }`
	docWorkflowStatus    = `query WorkflowStatus($workflowId: String!) { workflowStatus(workflowId: $workflowId) { status error } }`
	docDeploy            = `mutation ServiceInstanceDeployV2($serviceId: String!, $environmentId: String!) { serviceInstanceDeployV2(serviceId: $serviceId, environmentId: $environmentId) }`
	docDeployment        = `query Deployment($id: String!) { deployment(id: $id) { id status staticUrl url } }`
	docBuildLogs         = `query BuildLogs($deploymentId: String!, $limit: Int, $startDate: DateTime) { buildLogs(deploymentId: $deploymentId, limit: $limit, startDate: $startDate) { timestamp message severity } }`
	docDeploymentRollbak = `mutation DeploymentRollback($id: String!) { deploymentRollback(id: $id) }`
	docDeploymentCancel  = `mutation DeploymentCancel($id: String!) { deploymentCancel(id: $id) }`
)

// gql sends one document; out receives data. A project token goes in
// Project-Access-Token, any other as a bearer token (PLATFORMS.md Railway,
// "Token kinds": "Project tokens use the `Project-Access-Token` header").
// A refusal names what it was about (the workspace, project, service or
// deployment), since Railway's "Not Authorized" does not.
func (c *Client) gql(ctx context.Context, token, op, doc string, vars map[string]any, out any, idempotent bool) error {
	var resp struct {
		Data json.RawMessage `json:"data"`
	}
	body := map[string]any{"query": doc}
	if len(vars) > 0 {
		body["variables"] = vars
	}
	req := platform.Request{Op: op, Method: http.MethodPost, JSON: body, Out: &resp, Idempotent: idempotent}
	if kind, raw := platform.SplitTokenKind(token); kind == TokenProject {
		req.Header = http.Header{"Project-Access-Token": {raw}}
	} else {
		req.Token = raw
	}
	if _, err := c.call.Do(ctx, req); err != nil {
		if pe, ok := platform.AsError(err); ok && pe.Reason == platform.ReasonExpiredToken {
			if what := resourceOf(vars); what != "" {
				pe.Message += " (" + what + ")"
			}
		}
		return err
	}
	if out == nil {
		return nil
	}
	if len(resp.Data) == 0 || string(resp.Data) == "null" {
		return &platform.Error{Platform: ID, Op: op, Status: http.StatusOK, Reason: platform.ReasonTransient, Message: "the answer carried no data"}
	}
	if err := json.Unmarshal(resp.Data, out); err != nil {
		return &platform.Error{Platform: ID, Op: op, Status: http.StatusOK, Reason: platform.ReasonTransient,
			Message: "the answer was not the data expected", Err: err}
	}
	return nil
}

// resourceOf names what a request acts on, most specific first.
func resourceOf(vars map[string]any) string {
	look := func(m map[string]any) string {
		for _, k := range []struct{ key, what string }{{"serviceId", "service"}, {"projectId", "project"}, {"workspaceId", "workspace"}} {
			if v, _ := m[k.key].(string); v != "" {
				return k.what + " " + v
			}
		}
		return ""
	}
	if in, ok := vars["input"].(map[string]any); ok {
		if w := look(in); w != "" {
			return w
		}
	}
	if w := look(vars); w != "" {
		return w
	}
	for _, k := range []string{"id", "deploymentId"} {
		if v, _ := vars[k].(string); v != "" {
			return "id " + v
		}
	}
	return ""
}

// ValidateProjectName: Railway states no rule for project names and does
// not require them to be unique; Switchboard asks for 1 to 100 characters
// after trimming, without control characters (an assumption, kept to what
// Railway's dashboard shows comfortably).
func ValidateProjectName(name string) error {
	trimmed := strings.TrimSpace(name)
	bad := trimmed != name || len([]rune(trimmed)) < 1 || len([]rune(trimmed)) > 100
	for _, r := range name {
		if unicode.IsControl(r) {
			bad = true
		}
	}
	if bad {
		return &platform.Error{Platform: ID, Op: "validate project name", Reason: platform.ReasonInvalid,
			Message: "a Railway project name is 1 to 100 characters, without leading or trailing spaces or control characters"}
	}
	return nil
}

// Validate checks a spec without calling Railway.
func (c *Client) Validate(spec platform.DeploySpec) error {
	if err := platform.CheckDeploySpec(ID, spec); err != nil {
		return err
	}
	if err := ValidateProjectName(spec.ProjectName); err != nil {
		return err
	}
	if len(spec.Files) > 0 && !c.upload {
		return &platform.Error{Platform: ID, Op: "validate deployment", Reason: platform.ReasonUnsupported,
			Message: "Railway documents no file upload; give a repository or an image"}
	}
	return nil
}

// Whoami names the account behind a token and the workspaces it may act
// in, by the token's kind: an account or OAuth token asks
// `me { id email name workspaces { id name } }`, a workspace token
// `apiToken { workspaces { id name } }`, a project token
// `projectToken { projectId environmentId project { id name } }`: `me`
// works only for account and OAuth tokens (PLATFORMS.md Railway, "Token
// kinds"; railwayapp/cli src/gql/queries/strings/ApiToken.graphql and
// ProjectToken.graphql).
func (c *Client) Whoami(ctx context.Context, token string) (platform.Account, error) {
	switch kind, _ := platform.SplitTokenKind(token); kind {
	case TokenWorkspace:
		var out struct {
			APIToken struct {
				Workspaces []named `json:"workspaces"`
			} `json:"apiToken"`
		}
		if err := c.gql(ctx, token, "read token", docAPIToken, nil, &out, true); err != nil {
			return platform.Account{}, err
		}
		ws := workspacesOf(out.APIToken.Workspaces)
		if len(ws) == 0 {
			return platform.Account{}, &platform.Error{Platform: ID, Op: "read token", Reason: platform.ReasonPermission,
				Message: "the workspace token can act in no workspace"}
		}
		return platform.Account{ID: ws[0].ID, Name: ws[0].Name, Workspaces: ws}, nil
	case TokenProject:
		var out struct {
			ProjectToken struct {
				ProjectID     string `json:"projectId"`
				EnvironmentID string `json:"environmentId"`
				Project       named  `json:"project"`
			} `json:"projectToken"`
		}
		if err := c.gql(ctx, token, "read project token", docProjectToken, nil, &out, true); err != nil {
			return platform.Account{}, err
		}
		pt := out.ProjectToken
		return platform.Account{ID: pt.ProjectID, Name: pt.Project.Name,
			Extra: map[string]string{"project_id": pt.ProjectID, "environment_id": pt.EnvironmentID}}, nil
	}
	var out struct {
		Me struct {
			ID         string  `json:"id"`
			Email      string  `json:"email"`
			Name       *string `json:"name"`
			Workspaces []named `json:"workspaces"`
		} `json:"me"`
	}
	if err := c.gql(ctx, token, "read user", docMe, nil, &out, true); err != nil {
		return platform.Account{}, err
	}
	name := out.Me.Email
	if out.Me.Name != nil && *out.Me.Name != "" {
		name = *out.Me.Name
	}
	acc := platform.Account{ID: out.Me.ID, Name: name, Workspaces: workspacesOf(out.Me.Workspaces)}
	if out.Me.Email != "" {
		acc.Extra = map[string]string{"email": out.Me.Email}
	}
	return acc, nil
}

func workspacesOf(in []named) []platform.Workspace {
	out := make([]platform.Workspace, 0, len(in))
	for _, w := range in {
		if w.ID != "" {
			out = append(out, platform.Workspace{ID: w.ID, Name: w.Name})
		}
	}
	return out
}

// CheckName: Railway project names need not be unique, so any name that
// passes ValidateProjectName is available; Railway is not asked. A name
// that does not pass is not available and its trimmed form is suggested.
func (c *Client) CheckName(_ context.Context, _, _, name string) (bool, string, error) {
	if ValidateProjectName(name) == nil {
		return true, "", nil
	}
	s := strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, strings.TrimSpace(name))
	if r := []rune(s); len(r) > 100 {
		s = strings.TrimSpace(string(r[:100]))
	}
	if s == "" {
		s = "project"
	}
	return false, s, nil
}

type edges[T any] struct {
	Edges []struct {
		Node T `json:"node"`
	} `json:"edges"`
}

type named struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// pickEnvironment is the environment named production, else the first.
func pickEnvironment(envs edges[named]) string {
	for _, e := range envs.Edges {
		if e.Node.Name == "production" {
			return e.Node.ID
		}
	}
	if len(envs.Edges) > 0 {
		return envs.Edges[0].Node.ID
	}
	return ""
}

// EnsureProject finds or makes what the deployment lives in, skipping
// each part p records:
//
//   - the project: a project token's own project (projectToken); else the
//     project Switchboard made for the name before (DeploySpec.OwnedProjectID,
//     the deploy worker's record: Railway's names repeat, so the name alone
//     cannot find it; PLATFORMS.md Railway, "Project names need not be
//     unique"), unless it has been deleted; else projectCreate with the
//     workspace (DeploySpec.TeamID), which Railway needs: an OAuth grant
//     covers only the workspaces the user selected (PLATFORMS.md Railway,
//     "Workspaces"). When an earlier projectCreate's answer was lost, the
//     project it made is found again by name among the workspace's projects
//     created since;
//   - its environment (production, else the first);
//   - the service named like the project: found in a project made before,
//     and pointed at this deployment's source (serviceConnect); else
//     serviceCreate with the source and the spec's variables (a build
//     Railway starts on its own sees them);
//   - a generated *.up.railway.app domain, once per service.
func (c *Client) EnsureProject(ctx context.Context, token string, spec platform.DeploySpec, p *platform.DeployProgress) error {
	kind, _ := platform.SplitTokenKind(token)
	if p.ProjectID == "" && kind != TokenProject && spec.OwnedProjectID != "" {
		p.ProjectID = spec.OwnedProjectID
		p.Set(extraReused, "true")
	}
	if p.ProjectID == "" {
		var err error
		if kind == TokenProject {
			err = c.tokenProject(ctx, token, p)
		} else {
			err = c.createProject(ctx, token, spec, p)
		}
		if err != nil {
			return err
		}
	}
	if p.EnvironmentID == "" {
		var out struct {
			Project struct {
				Environments edges[named] `json:"environments"`
			} `json:"project"`
		}
		err := c.gql(ctx, token, "read project environments", docProjectEnvs, map[string]any{"id": p.ProjectID}, &out, true)
		if platform.ReasonOf(err) == platform.ReasonNotFound && p.Get(extraReused) != "" {
			// The project made before was deleted at Railway: make another.
			*p = platform.DeployProgress{}
			spec.OwnedProjectID = ""
			return c.EnsureProject(ctx, token, spec, p)
		}
		if err != nil {
			return err
		}
		if p.EnvironmentID = pickEnvironment(out.Project.Environments); p.EnvironmentID == "" {
			return &platform.Error{Platform: ID, Op: "read project environments", Reason: platform.ReasonInvalid,
				Message: "the project has no environment"}
		}
	}
	if p.ServiceID == "" && (kind == TokenProject || p.Get(extraReused) != "" || p.Get(extraServiceAsked) != "") {
		// A project Switchboard did not just create, or a lost answer: the
		// service may be there already.
		id, err := c.findService(ctx, token, p.ProjectID, func(n named) bool { return n.Name == spec.ProjectName })
		if err != nil {
			return err
		}
		if p.ServiceID = id; id != "" {
			p.Set(extraServiceFound, "true")
		}
	}
	if p.ServiceID == "" {
		if err := c.createService(ctx, token, spec, p); err != nil {
			return err
		}
	}
	if p.Get(extraSourceSet) == "" {
		if err := c.connectSource(ctx, token, spec, p); err != nil {
			return err
		}
	}
	if p.URL == "" && p.Get(extraServiceFound) != "" {
		if err := c.existingDomain(ctx, token, p); err != nil {
			return err
		}
	}
	if p.URL == "" && c.serviceURL {
		var out struct {
			ServiceDomainCreate struct {
				Domain string `json:"domain"`
			} `json:"serviceDomainCreate"`
		}
		input := map[string]any{"serviceId": p.ServiceID, "environmentId": p.EnvironmentID}
		if err := c.gql(ctx, token, "create domain", docDomainCreate, map[string]any{"input": input}, &out, false); err != nil {
			return err
		}
		if out.ServiceDomainCreate.Domain != "" {
			p.URL = "https://" + out.ServiceDomainCreate.Domain
		}
	}
	return nil
}

// existingDomain records the generated domain a service found in place
// has already, so that no second one is made.
func (c *Client) existingDomain(ctx context.Context, token string, p *platform.DeployProgress) error {
	var out struct {
		Domains struct {
			ServiceDomains []struct {
				Domain string `json:"domain"`
			} `json:"serviceDomains"`
		} `json:"domains"`
	}
	if err := c.gql(ctx, token, "read the service's domains", docDomains, map[string]any{
		"projectId": p.ProjectID, "environmentId": p.EnvironmentID, "serviceId": p.ServiceID}, &out, true); err != nil {
		return err
	}
	if ds := out.Domains.ServiceDomains; len(ds) > 0 && ds[0].Domain != "" {
		p.URL = "https://" + ds[0].Domain
	}
	return nil
}

// tokenProject records a project token's project and environment: such a
// token can act in no other and cannot create one.
func (c *Client) tokenProject(ctx context.Context, token string, p *platform.DeployProgress) error {
	var out struct {
		ProjectToken struct {
			ProjectID     string `json:"projectId"`
			EnvironmentID string `json:"environmentId"`
		} `json:"projectToken"`
	}
	if err := c.gql(ctx, token, "read project token", docProjectToken, nil, &out, true); err != nil {
		return err
	}
	p.ProjectID, p.EnvironmentID = out.ProjectToken.ProjectID, out.ProjectToken.EnvironmentID
	return nil
}

// createProject asks projectCreate in the spec's workspace, unless an
// earlier ask whose answer was lost made the project: then that one.
func (c *Client) createProject(ctx context.Context, token string, spec platform.DeploySpec, p *platform.DeployProgress) error {
	if spec.TeamID == "" {
		return &platform.Error{Platform: ID, Op: "create project", Reason: platform.ReasonInvalid,
			Message: "Railway needs a workspace to create the project in: connect Railway again so its workspaces are recorded, or name one in workspaceId"}
	}
	if asked := p.Get(extraProjectAsked); asked != "" {
		if err := c.findLostProject(ctx, token, spec, asked, p); err != nil || p.ProjectID != "" {
			return err
		}
	}
	// Railway project names repeat; the description says who made it.
	input := map[string]any{"name": spec.ProjectName, "workspaceId": spec.TeamID,
		"description": "Deployed by Switchboard"}
	p.Set(extraProjectAsked, c.now().UTC().Format(time.RFC3339))
	var out struct {
		ProjectCreate struct {
			ID           string       `json:"id"`
			Environments edges[named] `json:"environments"`
		} `json:"projectCreate"`
	}
	if err := c.gql(ctx, token, "create project", docProjectCreate, map[string]any{"input": input}, &out, false); err != nil {
		if platform.ReasonOf(err) != platform.ReasonTransient {
			p.Set(extraProjectAsked, "") // refused: nothing was made
		}
		return err
	}
	p.ProjectID = out.ProjectCreate.ID
	p.EnvironmentID = pickEnvironment(out.ProjectCreate.Environments)
	p.Set(extraProjectMade, "true")
	p.Set(extraProjectAsked, "")
	return nil
}

// lostAnswerSkew is how much earlier than the ask a project's createdAt
// may be (clocks differ).
const lostAnswerSkew = time.Minute

// findLostProject looks, after a projectCreate whose answer was lost, for
// the project it made: the newest of the workspace's projects with the
// spec's name created since the ask.
func (c *Client) findLostProject(ctx context.Context, token string, spec platform.DeploySpec, asked string, p *platform.DeployProgress) error {
	since, err := time.Parse(time.RFC3339, asked)
	if err != nil {
		return nil
	}
	var out struct {
		Projects edges[struct {
			ID        string `json:"id"`
			Name      string `json:"name"`
			CreatedAt string `json:"createdAt"`
		}] `json:"projects"`
	}
	if err := c.gql(ctx, token, "find the project", docProjects, map[string]any{"workspaceId": spec.TeamID}, &out, true); err != nil {
		return err
	}
	for _, e := range out.Projects.Edges {
		at, err := time.Parse(time.RFC3339Nano, e.Node.CreatedAt)
		if e.Node.Name == spec.ProjectName && err == nil && !at.Before(since.Add(-lostAnswerSkew)) {
			p.ProjectID = e.Node.ID
			p.Set(extraProjectMade, "true")
			p.Set(extraProjectAsked, "")
			return nil
		}
	}
	return nil
}

// findService is the id of the project's first service that matches.
func (c *Client) findService(ctx context.Context, token, projectID string, match func(named) bool) (string, error) {
	svcs, err := c.services(ctx, token, projectID)
	if err != nil {
		return "", err
	}
	for _, s := range svcs {
		if match(s) {
			return s.ID, nil
		}
	}
	return "", nil
}

func (c *Client) services(ctx context.Context, token, projectID string) ([]named, error) {
	var out struct {
		Project struct {
			Services edges[named] `json:"services"`
		} `json:"project"`
	}
	if err := c.gql(ctx, token, "read project services", docProjectServices, map[string]any{"id": projectID}, &out, true); err != nil {
		return nil, err
	}
	list := make([]named, 0, len(out.Project.Services.Edges))
	for _, e := range out.Project.Services.Edges {
		list = append(list, e.Node)
	}
	return list, nil
}

// createService asks serviceCreate with the spec's source and variables.
func (c *Client) createService(ctx context.Context, token string, spec platform.DeploySpec, p *platform.DeployProgress) error {
	input := map[string]any{"projectId": p.ProjectID, "environmentId": p.EnvironmentID, "name": spec.ProjectName}
	if src := sourceOf(spec); src != nil {
		input["source"] = src
		if spec.Branch != "" {
			input["branch"] = spec.Branch
		}
	}
	if len(spec.Env) > 0 {
		input["variables"] = spec.Env
	}
	p.Set(extraServiceAsked, "true")
	var out struct {
		ServiceCreate named `json:"serviceCreate"`
	}
	if err := c.gql(ctx, token, "create service", docServiceCreate, map[string]any{"input": input}, &out, false); err != nil {
		return err
	}
	p.ServiceID = out.ServiceCreate.ID
	p.Set(extraServiceAsked, "")
	p.Set(extraSourceSet, "true")
	return nil
}

func sourceOf(spec platform.DeploySpec) map[string]any {
	switch {
	case spec.Repo != "":
		return map[string]any{"repo": repoSlug(spec.Repo)}
	case spec.Image != "":
		return map[string]any{"image": spec.Image}
	}
	return nil
}

// connectSource points a service made earlier at this deployment's
// repository or image (serviceConnect; railway-schema.json "Connect a
// service to a source"). Files need none: the upload carries them.
func (c *Client) connectSource(ctx context.Context, token string, spec platform.DeploySpec, p *platform.DeployProgress) error {
	input := sourceOf(spec)
	if input != nil {
		if spec.Branch != "" {
			input["branch"] = spec.Branch
		}
		if err := c.gql(ctx, token, "connect the service's source", docServiceConnect,
			map[string]any{"id": p.ServiceID, "input": input}, nil, true); err != nil {
			return err
		}
	}
	p.Set(extraSourceSet, "true")
	return nil
}

// repoSlug turns https://github.com/owner/name(.git) into owner/name, the
// form Railway's service source takes; anything else is passed as given.
func repoSlug(repo string) string {
	s := strings.TrimSuffix(strings.TrimSuffix(repo, "/"), ".git")
	for _, prefix := range []string{"https://github.com/", "http://github.com/", "github.com/", "git@github.com:"} {
		if rest, ok := strings.CutPrefix(s, prefix); ok {
			return rest
		}
	}
	return repo
}

// SetEnv upserts the variables on the service with skipDeploys, so that
// setting them starts no build. With a database it adds
// DATABASE_PUBLIC_URL, a reference to the Postgres service's public URL:
// DATABASE_URL's private host exists only at runtime, and a build that
// must reach the database uses this one (PLATFORMS.md Railway, "Database
// URL": "Private networking is only available at runtime, not during the
// build phase").
func (c *Client) SetEnv(ctx context.Context, token string, spec platform.DeploySpec, p *platform.DeployProgress) error {
	vars := map[string]string{}
	for k, v := range spec.Env {
		vars[k] = v
	}
	if db := p.Get(extraDatabaseName); db != "" {
		if _, set := vars["DATABASE_PUBLIC_URL"]; !set {
			vars["DATABASE_PUBLIC_URL"] = Reference(db, "DATABASE_PUBLIC_URL")
		}
	}
	if len(vars) == 0 {
		return nil
	}
	if p.ServiceID == "" || p.EnvironmentID == "" {
		return platform.MissingStep(ID, "set variables", "the service")
	}
	input := map[string]any{"projectId": p.ProjectID, "environmentId": p.EnvironmentID, "serviceId": p.ServiceID,
		"variables": vars, "skipDeploys": true}
	return c.gql(ctx, token, "set variables", docVariablesUpsert, map[string]any{"input": input}, nil, true)
}

// Reference is a Railway reference variable to another service's
// variable, which Railway resolves when it deploys:
// ${{Postgres.DATABASE_URL}} (PLATFORMS.md Railway, "Database URL").
func Reference(service, variable string) string {
	return "${{" + service + "." + variable + "}}"
}

// ProvisionDatabase gives the project a Postgres service: the one it has
// already (a project reused from an earlier deployment), else Railway's
// Postgres template (templateDeployV2 with the template's serialized
// config and the workspace), waiting for its workflow. It returns no
// secret but the reference ${{<service>.DATABASE_URL}}, which Railway
// resolves at deploy time to the private URL the application uses at
// runtime; SetEnv adds DATABASE_PUBLIC_URL for the build.
func (c *Client) ProvisionDatabase(ctx context.Context, token string, spec platform.DeploySpec, p *platform.DeployProgress) (string, error) {
	if spec.Database == "" {
		return "", nil
	}
	if p.ProjectID == "" || p.EnvironmentID == "" {
		return "", platform.MissingStep(ID, "provision the database", "the project")
	}
	if p.DatabaseID == "" && p.Get(extraWorkflow) == "" && p.Get(extraProjectMade) == "" {
		// A project made before, or a project token's: it may have its
		// Postgres already.
		if err := c.findDatabase(ctx, token, p); err != nil {
			return "", err
		}
	}
	if p.DatabaseID == "" {
		if p.Get(extraWorkflow) == "" {
			if err := c.deployTemplate(ctx, token, spec, p); err != nil {
				return "", err
			}
		}
		if err := c.waitForDatabase(ctx, token, p); err != nil {
			return "", err
		}
	}
	if p.Get(extraDatabaseName) == "" {
		if err := c.findDatabase(ctx, token, p); err != nil {
			return "", err
		}
	}
	if p.Get(extraDatabaseName) == "" {
		return "", &platform.Error{Platform: ID, Op: "provision the database", Reason: platform.ReasonTransient,
			Message: "the Postgres service has not appeared in the project yet"}
	}
	return Reference(p.Get(extraDatabaseName), "DATABASE_URL"), nil
}

// findDatabase records the project's Postgres service (the template names
// it Postgres), or that p.DatabaseID names, when there is one.
func (c *Client) findDatabase(ctx context.Context, token string, p *platform.DeployProgress) error {
	svcs, err := c.services(ctx, token, p.ProjectID)
	if err != nil {
		return err
	}
	for _, s := range svcs {
		if (p.DatabaseID != "" && s.ID == p.DatabaseID) ||
			(p.DatabaseID == "" && s.ID != p.ServiceID && strings.HasPrefix(strings.ToLower(s.Name), "postgres")) {
			p.DatabaseID = s.ID
			p.Set(extraDatabaseName, s.Name)
			return nil
		}
	}
	return nil
}

// deployTemplate asks for Railway's Postgres template in the project.
func (c *Client) deployTemplate(ctx context.Context, token string, spec platform.DeploySpec, p *platform.DeployProgress) error {
	var tpl struct {
		Template struct {
			ID               string          `json:"id"`
			SerializedConfig json.RawMessage `json:"serializedConfig"`
		} `json:"template"`
	}
	if err := c.gql(ctx, token, "read Postgres template", docTemplate, map[string]any{"code": PostgresTemplate}, &tpl, true); err != nil {
		return err
	}
	input := map[string]any{"templateId": tpl.Template.ID, "serializedConfig": tpl.Template.SerializedConfig,
		"projectId": p.ProjectID, "environmentId": p.EnvironmentID}
	if spec.TeamID != "" {
		input["workspaceId"] = spec.TeamID // PLATFORMS.md Railway, "Workspaces": TemplateDeployV2Input.workspaceId
	}
	var out struct {
		TemplateDeployV2 struct {
			WorkflowID *string `json:"workflowId"`
		} `json:"templateDeployV2"`
	}
	if err := c.gql(ctx, token, "deploy Postgres template", docTemplateDeploy, map[string]any{"input": input}, &out, false); err != nil {
		return err
	}
	wf := "none"
	if out.TemplateDeployV2.WorkflowID != nil && *out.TemplateDeployV2.WorkflowID != "" {
		wf = *out.TemplateDeployV2.WorkflowID
	}
	p.Set(extraWorkflow, wf)
	p.Set(extraWorkflowAt, c.now().UTC().Format(time.RFC3339))
	return nil
}

// waitForDatabase polls the template's workflow until it completes, then
// finds the Postgres service among the project's services. NotFound keeps
// polling, as Running does, while the workflow is young: right after
// templateDeployV2 it is read-after-write lag, not the end (PLATFORMS.md
// Railway, "workflowStatus"; railwayapp/cli src/controllers/workflow.rs).
// Only a workflow older than the polling bound that Railway no longer
// knows is taken as finished long ago.
func (c *Client) waitForDatabase(ctx context.Context, token string, p *platform.DeployProgress) error {
	deadline := c.now().Add(c.pollFor)
	asked, err := time.Parse(time.RFC3339, p.Get(extraWorkflowAt))
	if err != nil {
		asked = c.now()
	}
	for wf := p.Get(extraWorkflow); wf != "none"; {
		var out struct {
			WorkflowStatus struct {
				Status string  `json:"status"`
				Error  *string `json:"error"`
			} `json:"workflowStatus"`
		}
		if err := c.gql(ctx, token, "read template workflow", docWorkflowStatus, map[string]any{"workflowId": wf}, &out, true); err != nil {
			return err
		}
		switch out.WorkflowStatus.Status {
		case "Complete":
			wf = "none"
			continue
		case "Error":
			msg := "the Postgres template failed"
			if out.WorkflowStatus.Error != nil && *out.WorkflowStatus.Error != "" {
				msg = *out.WorkflowStatus.Error
			}
			p.Set(extraWorkflow, "") // a retry deploys the template again
			return &platform.Error{Platform: ID, Op: "deploy Postgres template", Reason: platform.ReasonInvalid, Message: msg}
		case "NotFound":
			if c.now().Sub(asked) > c.pollFor {
				wf = "none" // finished long ago: look for the service
				continue
			}
		}
		if c.now().After(deadline) {
			return &platform.Error{Platform: ID, Op: "deploy Postgres template", Reason: platform.ReasonTransient,
				Message: "the Postgres template is still being deployed"}
		}
		if err := c.sleep(ctx, c.pollEvery); err != nil {
			return err
		}
	}
	if err := c.findDatabase(ctx, token, p); err != nil {
		return err
	}
	if p.DatabaseID == "" {
		return &platform.Error{Platform: ID, Op: "deploy Postgres template", Reason: platform.ReasonTransient,
			Message: "the Postgres service has not appeared in the project yet"}
	}
	return nil
}

// Upload sends the files as a tar.gz to the CLI's undocumented
// POST /project/{id}/environment/{envId}/up?serviceId=, which also starts
// the deployment (its id is recorded in p). Only WithUndocumentedUpload.
func (c *Client) Upload(ctx context.Context, token string, spec platform.DeploySpec, p *platform.DeployProgress) error {
	if len(spec.Files) == 0 || p.DeploymentID != "" {
		return nil
	}
	if !c.upload {
		return &platform.Error{Platform: ID, Op: "upload files", Reason: platform.ReasonUnsupported,
			Message: "Railway documents no file upload; give a repository or an image"}
	}
	if p.ProjectID == "" || p.EnvironmentID == "" || p.ServiceID == "" {
		return platform.MissingStep(ID, "upload files", "the service")
	}
	archive, err := tarball(spec.Files)
	if err != nil {
		return &platform.Error{Platform: ID, Op: "upload files", Reason: platform.ReasonInvalid, Message: "the files could not be archived", Err: err}
	}
	var out struct {
		DeploymentID     string `json:"deploymentId"`
		DeploymentDomain string `json:"deploymentDomain"`
	}
	h := http.Header{}
	h.Set("Content-Type", "application/gzip")
	_, err = c.call.Do(ctx, platform.Request{Op: "upload files", Method: http.MethodPost,
		Path:  c.origin + "/project/" + url.PathEscape(p.ProjectID) + "/environment/" + url.PathEscape(p.EnvironmentID) + "/up",
		Query: url.Values{"serviceId": {p.ServiceID}}, Token: token, Header: h, Raw: archive, Out: &out})
	if err != nil {
		return err
	}
	p.DeploymentID = out.DeploymentID
	if p.URL == "" && out.DeploymentDomain != "" {
		p.URL = "https://" + out.DeploymentDomain
	}
	return nil
}

func tarball(files []platform.ProjectFile) ([]byte, error) {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Name: f.Path, Mode: 0o644, Size: int64(len(f.Data)), Typeflag: tar.TypeReg}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.Data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// StartDeployment asks serviceInstanceDeployV2, unless p records a
// deployment (an upload starts one).
func (c *Client) StartDeployment(ctx context.Context, token string, _ platform.DeploySpec, p *platform.DeployProgress) error {
	if p.DeploymentID != "" {
		return nil
	}
	if p.ServiceID == "" || p.EnvironmentID == "" {
		return platform.MissingStep(ID, "start the deployment", "the service")
	}
	var out struct {
		ID string `json:"serviceInstanceDeployV2"`
	}
	if err := c.gql(ctx, token, "start deployment", docDeploy, map[string]any{
		"serviceId": p.ServiceID, "environmentId": p.EnvironmentID}, &out, false); err != nil {
		return err
	}
	p.DeploymentID = out.ID
	return nil
}

// StatusOf maps Railway's DeploymentStatus onto a DeployStatus.
func StatusOf(s string) platform.DeployStatus {
	switch s {
	case "QUEUED", "WAITING", "NEEDS_APPROVAL":
		return platform.DeployQueued
	case "INITIALIZING", "BUILDING", "DEPLOYING":
		return platform.DeployBuilding
	case "SUCCESS", "SLEEPING": // a sleeping service deployed fine and wakes on a request
		return platform.DeployReady
	case "FAILED", "CRASHED":
		return platform.DeployError
	case "REMOVED", "REMOVING", "SKIPPED":
		return platform.DeployCanceled
	}
	return platform.DeployBuilding
}

// Status asks deployment(id){ status staticUrl url }; for a failed
// deployment the message is the last error line of its build log.
func (c *Client) Status(ctx context.Context, token string, p platform.DeployProgress) (platform.DeployState, error) {
	if p.DeploymentID == "" {
		return platform.DeployState{}, platform.MissingStep(ID, "read the deployment", "a deployment")
	}
	var out struct {
		Deployment struct {
			Status    string  `json:"status"`
			StaticURL *string `json:"staticUrl"`
			URL       *string `json:"url"`
		} `json:"deployment"`
	}
	if err := c.gql(ctx, token, "read deployment", docDeployment, map[string]any{"id": p.DeploymentID}, &out, true); err != nil {
		return platform.DeployState{}, err
	}
	d := out.Deployment
	st := platform.DeployState{Status: StatusOf(d.Status), PlatformState: d.Status, URL: p.URL}
	switch {
	case d.StaticURL != nil && *d.StaticURL != "":
		st.URL = withScheme(*d.StaticURL)
	case d.URL != nil && *d.URL != "":
		st.URL = withScheme(*d.URL)
	}
	if st.Status == platform.DeployError {
		st.Message = "the deployment " + strings.ToLower(d.Status)
		if logs, err := c.buildLogs(ctx, token, p.DeploymentID, ""); err == nil {
			for i := len(logs) - 1; i >= 0; i-- {
				if logs[i].Severity == "error" && logs[i].Message != "" {
					st.Message = logs[i].Message
					break
				}
			}
		}
	}
	return st, nil
}

func withScheme(u string) string {
	if strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://") {
		return u
	}
	return "https://" + u
}

type logLine struct {
	Timestamp string  `json:"timestamp"`
	Message   string  `json:"message"`
	Severity  *string `json:"severity"`
}

type rawLog struct {
	Timestamp, Message, Severity string
}

func (c *Client) buildLogs(ctx context.Context, token, deploymentID, startDate string) ([]rawLog, error) {
	vars := map[string]any{"deploymentId": deploymentID, "limit": c.logLimit}
	if startDate != "" {
		vars["startDate"] = startDate
	}
	var out struct {
		BuildLogs []logLine `json:"buildLogs"`
	}
	if err := c.gql(ctx, token, "read build logs", docBuildLogs, vars, &out, true); err != nil {
		return nil, err
	}
	logs := make([]rawLog, len(out.BuildLogs))
	for i, l := range out.BuildLogs {
		logs[i] = rawLog{Timestamp: l.Timestamp, Message: l.Message}
		if l.Severity != nil {
			logs[i].Severity = *l.Severity
		}
	}
	return logs, nil
}

// Logs asks buildLogs(deploymentId, limit, startDate). The cursor is
// "<timestamp>|<n>": the last line's timestamp and how many lines with
// that timestamp were returned; the next call starts at that timestamp
// and skips those n.
func (c *Client) Logs(ctx context.Context, token string, p platform.DeployProgress, after string) ([]platform.LogLine, string, error) {
	if p.DeploymentID == "" {
		return nil, after, platform.MissingStep(ID, "read build logs", "a deployment")
	}
	var since string
	skip := 0
	if after != "" {
		ts, n, ok := strings.Cut(after, "|")
		k, err := strconv.Atoi(n)
		if !ok || err != nil {
			return nil, after, &platform.Error{Platform: ID, Op: "read build logs", Reason: platform.ReasonInvalid, Message: "the log cursor is not one this client gave"}
		}
		since, skip = ts, k
	}
	logs, err := c.buildLogs(ctx, token, p.DeploymentID, since)
	if err != nil {
		return nil, after, err
	}
	sort.SliceStable(logs, func(i, j int) bool { return logs[i].Timestamp < logs[j].Timestamp })
	var lines []platform.LogLine
	cursor, lastTS, sameTS := after, since, skip
	for _, l := range logs {
		if since != "" && l.Timestamp < since {
			continue
		}
		if l.Timestamp == since && skip > 0 {
			skip--
			continue
		}
		if l.Timestamp == lastTS {
			sameTS++
		} else {
			lastTS, sameTS = l.Timestamp, 1
		}
		cursor = lastTS + "|" + strconv.Itoa(sameTS)
		at, _ := time.Parse(time.RFC3339Nano, l.Timestamp)
		typ := platform.LogStdout
		switch l.Severity {
		case "error", "err":
			typ = platform.LogStderr
		case "", "info":
		default:
			typ = platform.LogInfo
		}
		lines = append(lines, platform.LogLine{At: at.UTC(), Type: typ, Text: l.Message, Cursor: cursor})
	}
	return lines, cursor, nil
}

// Cancel asks deploymentCancel(id).
func (c *Client) Cancel(ctx context.Context, token string, p platform.DeployProgress) error {
	if p.DeploymentID == "" {
		return platform.MissingStep(ID, "cancel the deployment", "a deployment")
	}
	return c.gql(ctx, token, "cancel deployment", docDeploymentCancel, map[string]any{"id": p.DeploymentID}, nil, true)
}

// Rollback asks deploymentRollback(id) for the deployment to go back to.
func (c *Client) Rollback(ctx context.Context, token string, _ platform.DeployProgress, toDeploymentID string) error {
	if toDeploymentID == "" {
		return platform.MissingStep(ID, "roll back", "the deployment to go back to")
	}
	return c.gql(ctx, token, "roll back", docDeploymentRollbak, map[string]any{"id": toDeploymentID}, nil, true)
}

// refine reads GraphQL errors ({"errors":[{"message","extensions"}]}),
// which Railway sends with HTTP 200, and the upload endpoint's {message}.
func refine(e *platform.Error, body []byte) {
	var b struct {
		Errors []struct {
			Message    string `json:"message"`
			Extensions struct {
				Code string `json:"code"`
			} `json:"extensions"`
		} `json:"errors"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &b) != nil {
		return
	}
	if len(b.Errors) == 0 {
		if e.Status >= 300 && b.Message != "" {
			e.Message = b.Message
		}
		return
	}
	msgs := make([]string, 0, len(b.Errors))
	for _, er := range b.Errors {
		msgs = append(msgs, er.Message)
	}
	e.Message = strings.Join(msgs, "; ")
	e.Code = b.Errors[0].Extensions.Code
	lower := strings.ToLower(e.Message)
	code := strings.ToUpper(e.Code)
	switch {
	case e.Status == http.StatusTooManyRequests || strings.Contains(lower, "rate limit") || code == "RATE_LIMITED":
		e.Reason = platform.ReasonRateLimited
	case strings.Contains(lower, "not authorized") || strings.Contains(lower, "unauthenticated") ||
		strings.Contains(lower, "unauthorized") || code == "UNAUTHENTICATED" || e.Status == http.StatusUnauthorized:
		e.Reason = platform.ReasonExpiredToken
	case e.Status >= 500:
		e.Reason = platform.ReasonTransient
	case strings.Contains(lower, "not found"):
		e.Reason = platform.ReasonNotFound
	case code == "INTERNAL_SERVER_ERROR" || strings.Contains(lower, "problem processing request"):
		e.Reason = platform.ReasonTransient
	default:
		e.Reason = platform.ReasonInvalid
	}
}
