// Package railway deploys projects to Railway through its public GraphQL
// API (https://backboard.railway.com/graphql/v2): a project, a service from
// a Git repository or a registry image, its variables, a deployment, its
// status and build logs, Postgres from Railway's template, rollback and
// cancel.
//
// Every request carries a query string (?source=switchboard unless the
// configured URL has one): Railway's edge limits requests without one to
// 10 per second. Every GraphQL document here is checked by the tests
// against Railway's published schema (shared/specs/railway-schema.json).
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
	extraWorkflow = "railway.databaseWorkflow" // the template deployment that creates Postgres
)

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
}

var _ platform.Deployer = (*Client)(nil)

// Option changes a Client.
type Option func(*Client)

// WithUndocumentedUpload lets the client upload files through the CLI's
// undocumented endpoint. Railway may change or close it without notice.
func WithUndocumentedUpload(on bool) Option { return func(c *Client) { c.upload = on } }

// WithPolling sets how often and how long the client waits for the
// Postgres template to finish (2 s and 3 min by default).
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

// WithoutPublicDomain leaves the service without a generated
// *.up.railway.app domain (one is created by default).
func WithoutPublicDomain() Option { return func(c *Client) { c.serviceURL = false } }

// New builds a client; apiURL "" is Railway's GraphQL endpoint. A URL
// without a query string gets ?source=switchboard.
func New(httpClient *http.Client, apiURL string, opts ...Option) *Client {
	if apiURL == "" {
		apiURL = platform.DefaultAPIURL(platform.Railway)
	}
	if !strings.Contains(apiURL, "?") {
		apiURL += "?source=switchboard"
	}
	c := &Client{pollEvery: 2 * time.Second, pollFor: 3 * time.Minute, logLimit: 500, sleep: sleep, serviceURL: true}
	if u, err := url.Parse(apiURL); err == nil {
		c.origin = u.Scheme + "://" + u.Host
	}
	c.call = &platform.Caller{Platform: platform.Railway, HTTP: httpClient, BaseURL: apiURL, Refine: refine}
	for _, o := range opts {
		o(c)
	}
	return c
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// The GraphQL documents this client sends, each checked against Railway's
// schema by the tests (Documents lists them).
const (
	docMe                = `query Me { me { id email name } }`
	docProjectCreate     = `mutation ProjectCreate($input: ProjectCreateInput!) { projectCreate(input: $input) { id name environments { edges { node { id name } } } } }`
	docProjectEnvs       = `query ProjectEnvironments($id: String!) { project(id: $id) { id environments { edges { node { id name } } } } }`
	docProjectServices   = `query ProjectServices($id: String!) { project(id: $id) { id services { edges { node { id name } } } } }`
	docServiceCreate     = `mutation ServiceCreate($input: ServiceCreateInput!) { serviceCreate(input: $input) { id name } }`
	docDomainCreate      = `mutation ServiceDomainCreate($input: ServiceDomainCreateInput!) { serviceDomainCreate(input: $input) { id domain } }`
	docVariablesUpsert   = `mutation VariableCollectionUpsert($input: VariableCollectionUpsertInput!) { variableCollectionUpsert(input: $input) }`
	docTemplate          = `query Template($code: String!) { template(code: $code) { id code serializedConfig } }`
	docTemplateDeploy    = `mutation TemplateDeployV2($input: TemplateDeployV2Input!) { templateDeployV2(input: $input) { projectId workflowId } }`
	docWorkflowStatus    = `query WorkflowStatus($workflowId: String!) { workflowStatus(workflowId: $workflowId) { status error } }`
	docVariables         = `query Variables($projectId: String!, $environmentId: String!, $serviceId: String) { variables(projectId: $projectId, environmentId: $environmentId, serviceId: $serviceId) }`
	docDeploy            = `mutation ServiceInstanceDeployV2($serviceId: String!, $environmentId: String!) { serviceInstanceDeployV2(serviceId: $serviceId, environmentId: $environmentId) }`
	docDeployment        = `query Deployment($id: String!) { deployment(id: $id) { id status staticUrl url } }`
	docBuildLogs         = `query BuildLogs($deploymentId: String!, $limit: Int, $startDate: DateTime) { buildLogs(deploymentId: $deploymentId, limit: $limit, startDate: $startDate) { timestamp message severity } }`
	docDeploymentRollbak = `mutation DeploymentRollback($id: String!) { deploymentRollback(id: $id) }`
	docDeploymentCancel  = `mutation DeploymentCancel($id: String!) { deploymentCancel(id: $id) }`
)

// Documents is every GraphQL document the client can send, for contract
// checks.
func Documents() []string {
	return []string{docMe, docProjectCreate, docProjectEnvs, docProjectServices, docServiceCreate, docDomainCreate,
		docVariablesUpsert, docTemplate, docTemplateDeploy, docWorkflowStatus, docVariables, docDeploy, docDeployment,
		docBuildLogs, docDeploymentRollbak, docDeploymentCancel}
}

// gql sends one document; out receives data.
func (c *Client) gql(ctx context.Context, token, op, doc string, vars map[string]any, out any, idempotent bool) error {
	var resp struct {
		Data json.RawMessage `json:"data"`
	}
	body := map[string]any{"query": doc}
	if len(vars) > 0 {
		body["variables"] = vars
	}
	if _, err := c.call.Do(ctx, platform.Request{Op: op, Method: http.MethodPost, Token: token, JSON: body,
		Out: &resp, Idempotent: idempotent}); err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	if len(resp.Data) == 0 || string(resp.Data) == "null" {
		return &platform.Error{Platform: platform.Railway, Op: op, Status: http.StatusOK, Reason: platform.ReasonTransient, Message: "the answer carried no data"}
	}
	if err := json.Unmarshal(resp.Data, out); err != nil {
		return &platform.Error{Platform: platform.Railway, Op: op, Status: http.StatusOK, Reason: platform.ReasonTransient,
			Message: "the answer was not the data expected", Err: err}
	}
	return nil
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
		return &platform.Error{Platform: platform.Railway, Op: "validate project name", Reason: platform.ReasonInvalid,
			Message: "a Railway project name is 1 to 100 characters, without leading or trailing spaces or control characters"}
	}
	return nil
}

// Validate checks a spec without calling Railway.
func (c *Client) Validate(spec platform.DeploySpec) error {
	if err := platform.CheckDeploySpec(platform.Railway, spec); err != nil {
		return err
	}
	if err := ValidateProjectName(spec.ProjectName); err != nil {
		return err
	}
	if len(spec.Files) > 0 && !c.upload {
		return &platform.Error{Platform: platform.Railway, Op: "validate deployment", Reason: platform.ReasonUnsupported,
			Message: "Railway documents no file upload; give a repository or an image"}
	}
	return nil
}

// Whoami asks `query { me { id email name } }`.
func (c *Client) Whoami(ctx context.Context, token string) (platform.Account, error) {
	var out struct {
		Me struct {
			ID    string  `json:"id"`
			Email string  `json:"email"`
			Name  *string `json:"name"`
		} `json:"me"`
	}
	if err := c.gql(ctx, token, "read user", docMe, nil, &out, true); err != nil {
		return platform.Account{}, err
	}
	name := out.Me.Email
	if out.Me.Name != nil && *out.Me.Name != "" {
		name = *out.Me.Name
	}
	acc := platform.Account{ID: out.Me.ID, Name: name}
	if out.Me.Email != "" {
		acc.Extra = map[string]string{"email": out.Me.Email}
	}
	return acc, nil
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

// EnsureProject creates the project (projectCreate, whose answer names its
// default environment), the service (serviceCreate with the repository or
// image as its source and the spec's variables, so a build that Railway
// starts on its own sees them) and a generated domain, skipping each that p
// records. A service with a source may start building at once; the
// deployment this client follows is the one StartDeployment asks for.
func (c *Client) EnsureProject(ctx context.Context, token string, spec platform.DeploySpec, p *platform.DeployProgress) error {
	if p.ProjectID == "" {
		input := map[string]any{"name": spec.ProjectName}
		if spec.TeamID != "" {
			input["workspaceId"] = spec.TeamID
		}
		var out struct {
			ProjectCreate struct {
				ID           string       `json:"id"`
				Environments edges[named] `json:"environments"`
			} `json:"projectCreate"`
		}
		if err := c.gql(ctx, token, "create project", docProjectCreate, map[string]any{"input": input}, &out, false); err != nil {
			return err
		}
		p.ProjectID = out.ProjectCreate.ID
		p.EnvironmentID = pickEnvironment(out.ProjectCreate.Environments)
	}
	if p.EnvironmentID == "" {
		var out struct {
			Project struct {
				Environments edges[named] `json:"environments"`
			} `json:"project"`
		}
		if err := c.gql(ctx, token, "read project environments", docProjectEnvs, map[string]any{"id": p.ProjectID}, &out, true); err != nil {
			return err
		}
		if p.EnvironmentID = pickEnvironment(out.Project.Environments); p.EnvironmentID == "" {
			return &platform.Error{Platform: platform.Railway, Op: "read project environments", Reason: platform.ReasonInvalid,
				Message: "the project has no environment"}
		}
	}
	if p.ServiceID == "" {
		input := map[string]any{"projectId": p.ProjectID, "environmentId": p.EnvironmentID, "name": spec.ProjectName}
		switch {
		case spec.Repo != "":
			input["source"] = map[string]any{"repo": repoSlug(spec.Repo)}
			if spec.Branch != "" {
				input["branch"] = spec.Branch
			}
		case spec.Image != "":
			input["source"] = map[string]any{"image": spec.Image}
		}
		if len(spec.Env) > 0 {
			input["variables"] = spec.Env
		}
		var out struct {
			ServiceCreate named `json:"serviceCreate"`
		}
		if err := c.gql(ctx, token, "create service", docServiceCreate, map[string]any{"input": input}, &out, false); err != nil {
			return err
		}
		p.ServiceID = out.ServiceCreate.ID
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
// setting them starts no build.
func (c *Client) SetEnv(ctx context.Context, token string, spec platform.DeploySpec, p *platform.DeployProgress) error {
	if len(spec.Env) == 0 {
		return nil
	}
	if p.ServiceID == "" || p.EnvironmentID == "" {
		return missingStep("set variables", "the service")
	}
	input := map[string]any{"projectId": p.ProjectID, "environmentId": p.EnvironmentID, "serviceId": p.ServiceID,
		"variables": spec.Env, "skipDeploys": true}
	return c.gql(ctx, token, "set variables", docVariablesUpsert, map[string]any{"input": input}, nil, true)
}

// ProvisionDatabase deploys Railway's Postgres template into the project
// (templateDeployV2 with the template's serialized config), waits for its
// workflow, finds the new service and reads its DATABASE_URL.
func (c *Client) ProvisionDatabase(ctx context.Context, token string, spec platform.DeploySpec, p *platform.DeployProgress) (string, error) {
	if spec.Database == "" {
		return "", nil
	}
	if p.ProjectID == "" || p.EnvironmentID == "" {
		return "", missingStep("provision the database", "the project")
	}
	if p.DatabaseID == "" {
		if p.Get(extraWorkflow) == "" {
			var tpl struct {
				Template struct {
					ID               string          `json:"id"`
					SerializedConfig json.RawMessage `json:"serializedConfig"`
				} `json:"template"`
			}
			if err := c.gql(ctx, token, "read Postgres template", docTemplate, map[string]any{"code": PostgresTemplate}, &tpl, true); err != nil {
				return "", err
			}
			input := map[string]any{"templateId": tpl.Template.ID, "serializedConfig": tpl.Template.SerializedConfig,
				"projectId": p.ProjectID, "environmentId": p.EnvironmentID}
			if spec.TeamID != "" {
				input["workspaceId"] = spec.TeamID
			}
			var out struct {
				TemplateDeployV2 struct {
					WorkflowID *string `json:"workflowId"`
				} `json:"templateDeployV2"`
			}
			if err := c.gql(ctx, token, "deploy Postgres template", docTemplateDeploy, map[string]any{"input": input}, &out, false); err != nil {
				return "", err
			}
			wf := "none"
			if out.TemplateDeployV2.WorkflowID != nil && *out.TemplateDeployV2.WorkflowID != "" {
				wf = *out.TemplateDeployV2.WorkflowID
			}
			p.Set(extraWorkflow, wf)
		}
		id, err := c.waitForDatabase(ctx, token, p)
		if err != nil {
			return "", err
		}
		p.DatabaseID = id
	}
	var vars struct {
		Variables map[string]string `json:"variables"`
	}
	if err := c.gql(ctx, token, "read database variables", docVariables, map[string]any{
		"projectId": p.ProjectID, "environmentId": p.EnvironmentID, "serviceId": p.DatabaseID}, &vars, true); err != nil {
		return "", err
	}
	conn := vars.Variables["DATABASE_URL"]
	if conn == "" {
		return "", &platform.Error{Platform: platform.Railway, Op: "read database variables", Reason: platform.ReasonTransient,
			Message: "the Postgres service has no DATABASE_URL yet"}
	}
	return conn, nil
}

// waitForDatabase polls the template's workflow until it completes, then
// finds the Postgres service among the project's services.
func (c *Client) waitForDatabase(ctx context.Context, token string, p *platform.DeployProgress) (string, error) {
	deadline := time.Now().Add(c.pollFor)
	for wf := p.Get(extraWorkflow); wf != "none"; {
		var out struct {
			WorkflowStatus struct {
				Status string  `json:"status"`
				Error  *string `json:"error"`
			} `json:"workflowStatus"`
		}
		if err := c.gql(ctx, token, "read template workflow", docWorkflowStatus, map[string]any{"workflowId": wf}, &out, true); err != nil {
			return "", err
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
			return "", &platform.Error{Platform: platform.Railway, Op: "deploy Postgres template", Reason: platform.ReasonInvalid, Message: msg}
		case "NotFound":
			wf = "none" // finished long ago: look for the service
			continue
		}
		if time.Now().After(deadline) {
			return "", &platform.Error{Platform: platform.Railway, Op: "deploy Postgres template", Reason: platform.ReasonTransient,
				Message: "the Postgres template is still being deployed"}
		}
		if err := c.sleep(ctx, c.pollEvery); err != nil {
			return "", err
		}
	}
	var out struct {
		Project struct {
			Services edges[named] `json:"services"`
		} `json:"project"`
	}
	if err := c.gql(ctx, token, "read project services", docProjectServices, map[string]any{"id": p.ProjectID}, &out, true); err != nil {
		return "", err
	}
	for _, e := range out.Project.Services.Edges {
		if e.Node.ID != p.ServiceID && strings.HasPrefix(strings.ToLower(e.Node.Name), "postgres") {
			return e.Node.ID, nil
		}
	}
	return "", &platform.Error{Platform: platform.Railway, Op: "deploy Postgres template", Reason: platform.ReasonTransient,
		Message: "the Postgres service has not appeared in the project yet"}
}

// Upload sends the files as a tar.gz to the CLI's undocumented
// POST /project/{id}/environment/{envId}/up?serviceId=, which also starts
// the deployment (its id is recorded in p). Only WithUndocumentedUpload.
func (c *Client) Upload(ctx context.Context, token string, spec platform.DeploySpec, p *platform.DeployProgress) error {
	if len(spec.Files) == 0 || p.DeploymentID != "" {
		return nil
	}
	if !c.upload {
		return &platform.Error{Platform: platform.Railway, Op: "upload files", Reason: platform.ReasonUnsupported,
			Message: "Railway documents no file upload; give a repository or an image"}
	}
	if p.ProjectID == "" || p.EnvironmentID == "" || p.ServiceID == "" {
		return missingStep("upload files", "the service")
	}
	archive, err := tarball(spec.Files)
	if err != nil {
		return &platform.Error{Platform: platform.Railway, Op: "upload files", Reason: platform.ReasonInvalid, Message: "the files could not be archived", Err: err}
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
		return missingStep("start the deployment", "the service")
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
		return platform.DeployState{}, missingStep("read the deployment", "a deployment")
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
		return nil, after, missingStep("read build logs", "a deployment")
	}
	var since string
	skip := 0
	if after != "" {
		ts, n, ok := strings.Cut(after, "|")
		k, err := strconv.Atoi(n)
		if !ok || err != nil {
			return nil, after, &platform.Error{Platform: platform.Railway, Op: "read build logs", Reason: platform.ReasonInvalid, Message: "the log cursor is not one this client gave"}
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
		return missingStep("cancel the deployment", "a deployment")
	}
	return c.gql(ctx, token, "cancel deployment", docDeploymentCancel, map[string]any{"id": p.DeploymentID}, nil, true)
}

// Rollback asks deploymentRollback(id) for the deployment to go back to.
func (c *Client) Rollback(ctx context.Context, token string, _ platform.DeployProgress, toDeploymentID string) error {
	if toDeploymentID == "" {
		return missingStep("roll back", "the deployment to go back to")
	}
	return c.gql(ctx, token, "roll back", docDeploymentRollbak, map[string]any{"id": toDeploymentID}, nil, true)
}

func missingStep(op, what string) error {
	return &platform.Error{Platform: platform.Railway, Op: op, Reason: platform.ReasonInvalid,
		Message: what + " is not known yet: an earlier step has not run"}
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
