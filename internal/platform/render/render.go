// Package render deploys projects to Render through its REST API
// (https://api.render.com/v1) with the user's API key: a web service from a
// Git repository or a registry image, its environment variables, deploys,
// their status and build logs, Postgres, rollback and cancel.
//
// Render takes no file upload, so Validate refuses a spec with files.
// Render has no machine-readable API description here: the tests hold every
// request to the endpoints shared/specs/PLATFORMS.md lists.
//
// Render answers 429 with Ratelimit-* headers and no Retry-After; the
// client turns Ratelimit-Reset into a Retry-After with jitter, so the
// shared caller waits it out (or hands it to the worker when it is long).
package render

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
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
	extraOwner    = "ownerId"
	extraEnvKeys  = "render.envKeys"  // the variable names the service was created with
	extraRedeploy = "render.redeploy" // "1": variables changed after the first deploy started
	extraSince    = "render.since"    // when the deploy was asked for (RFC 3339): where its logs start
)

// Client is a platform.Deployer for Render.
type Client struct {
	call      *platform.Caller
	plan      string
	dbPlan    string
	region    string
	pollEvery time.Duration
	pollFor   time.Duration
	sleep     func(context.Context, time.Duration) error
	now       func() time.Time
}

var _ platform.Deployer = (*Client)(nil)

// Option changes a Client.
type Option func(*Client)

// WithPlans sets the web service's and the database's instance types
// ("free" for both by default, which costs the user nothing).
func WithPlans(service, database string) Option {
	return func(c *Client) {
		if service != "" {
			c.plan = service
		}
		if database != "" {
			c.dbPlan = database
		}
	}
}

// WithRegion sets the region of new services and databases ("oregon").
func WithRegion(region string) Option { return func(c *Client) { c.region = region } }

// WithPolling sets how often and how long ProvisionDatabase waits for the
// database to become available (5 s and 10 min by default).
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

// New builds a client; apiURL "" is https://api.render.com/v1.
func New(httpClient *http.Client, apiURL string, opts ...Option) *Client {
	if apiURL == "" {
		apiURL = platform.DefaultAPIURL(platform.Render)
	}
	hc := &http.Client{}
	if httpClient != nil {
		*hc = *httpClient
	}
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	hc.Transport = rateLimitTransport{base: base}
	c := &Client{plan: "free", dbPlan: "free", region: "oregon", pollEvery: 5 * time.Second, pollFor: 10 * time.Minute,
		sleep: sleep, now: time.Now}
	c.call = &platform.Caller{Platform: platform.Render, HTTP: hc, BaseURL: strings.TrimRight(apiURL, "/"), Refine: refine}
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

// rateLimitTransport gives a 429 without Retry-After one computed from
// Render's Ratelimit-Reset (seconds until the window resets; an epoch
// second is read as such), plus up to a quarter more, at least one second,
// of jitter so that many workers do not come back at once.
type rateLimitTransport struct{ base http.RoundTripper }

func (t rateLimitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "" {
		return resp, err
	}
	reset, perr := strconv.ParseInt(strings.TrimSpace(resp.Header.Get("Ratelimit-Reset")), 10, 64)
	if perr != nil || reset < 0 {
		return resp, nil // no hint: the caller backs off exponentially, with jitter
	}
	if reset > 1_000_000_000 { // an epoch second
		reset = max(0, reset-time.Now().Unix())
	}
	jitter := rand.Int64N(max(1, reset/4) + 1) //nolint:gosec // jitter, not a secret
	resp.Header.Set("Retry-After", strconv.FormatInt(max(1, reset+jitter), 10))
	return resp, nil
}

// ValidateProjectName: Render publishes no rule for service names (they
// are free text; the onrender.com subdomain is derived from them).
// Switchboard asks for 1 to 100 characters without leading or trailing
// spaces or control characters; an assumption, kept conservative.
func ValidateProjectName(name string) error {
	n := len([]rune(name))
	bad := strings.TrimSpace(name) != name || n < 1 || n > 100
	for _, r := range name {
		if unicode.IsControl(r) {
			bad = true
		}
	}
	if bad {
		return &platform.Error{Platform: platform.Render, Op: "validate service name", Reason: platform.ReasonInvalid,
			Message: "a Render service name is 1 to 100 characters, without leading or trailing spaces or control characters"}
	}
	return nil
}

// Validate checks a spec without calling Render.
func (c *Client) Validate(spec platform.DeploySpec) error {
	if len(spec.Files) > 0 {
		return &platform.Error{Platform: platform.Render, Op: "validate deployment", Reason: platform.ReasonUnsupported,
			Message: "Render takes no file upload: deploy from a Git repository (source.repo) or a registry image (image)"}
	}
	if err := platform.CheckDeploySpec(platform.Render, spec); err != nil {
		return err
	}
	return ValidateProjectName(spec.ProjectName)
}

type owner struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
	Type  string `json:"type"`
}

func (c *Client) owners(ctx context.Context, token string) ([]owner, error) {
	var out []struct {
		Owner owner `json:"owner"`
	}
	if _, err := c.call.Do(ctx, platform.Request{Op: "list owners", Method: http.MethodGet, Path: "/owners",
		Query: url.Values{"limit": {"20"}}, Token: token, Out: &out, Idempotent: true}); err != nil {
		return nil, err
	}
	owners := make([]owner, 0, len(out))
	for _, o := range out {
		owners = append(owners, o.Owner)
	}
	return owners, nil
}

// ownerID is the given owner, else the user's own (the first of type
// user, else the first).
func (c *Client) ownerID(ctx context.Context, token, given string) (string, error) {
	if given != "" {
		return given, nil
	}
	owners, err := c.owners(ctx, token)
	if err != nil {
		return "", err
	}
	for _, o := range owners {
		if o.Type == "user" {
			return o.ID, nil
		}
	}
	if len(owners) == 0 {
		return "", &platform.Error{Platform: platform.Render, Op: "list owners", Reason: platform.ReasonPermission,
			Message: "the API key can act for no workspace"}
	}
	return owners[0].ID, nil
}

// Whoami reads GET /users and GET /owners; Account.ID is the owner id
// services are created under (also Extra["ownerId"]).
func (c *Client) Whoami(ctx context.Context, token string) (platform.Account, error) {
	var user struct {
		Name  string `json:"name"`
		Email string `json:"email"`
	}
	if _, err := c.call.Do(ctx, platform.Request{Op: "read user", Method: http.MethodGet, Path: "/users",
		Token: token, Out: &user, Idempotent: true}); err != nil {
		return platform.Account{}, err
	}
	id, err := c.ownerID(ctx, token, "")
	if err != nil {
		return platform.Account{}, err
	}
	name := user.Name
	if name == "" {
		name = user.Email
	}
	acc := platform.Account{ID: id, Name: name, Extra: map[string]string{"ownerId": id}}
	if user.Email != "" {
		acc.Extra["email"] = user.Email
	}
	return acc, nil
}

func (c *Client) serviceExists(ctx context.Context, token, ownerID, name string) (bool, error) {
	var out []struct {
		Service struct {
			Name string `json:"name"`
		} `json:"service"`
	}
	if _, err := c.call.Do(ctx, platform.Request{Op: "list services", Method: http.MethodGet, Path: "/services",
		Query: url.Values{"name": {name}, "ownerId": {ownerID}, "limit": {"20"}}, Token: token, Out: &out, Idempotent: true}); err != nil {
		return false, err
	}
	for _, s := range out {
		if s.Service.Name == name {
			return true, nil
		}
	}
	return false, nil
}

// CheckName lists the owner's services of that name (GET
// /services?name=&ownerId=); when one exists, name-2, name-3, ... are tried
// (10 look-ups at most). teamID is the owner id ("" for the user's own).
func (c *Client) CheckName(ctx context.Context, token, teamID, name string) (bool, string, error) {
	ownerID, err := c.ownerID(ctx, token, teamID)
	if err != nil {
		return false, "", err
	}
	base := name
	if ValidateProjectName(name) != nil {
		base = strings.TrimSpace(strings.Map(func(r rune) rune {
			if unicode.IsControl(r) {
				return -1
			}
			return r
		}, name))
		if r := []rune(base); len(r) > 90 {
			base = strings.TrimSpace(string(r[:90]))
		}
		if base == "" {
			base = "service"
		}
	}
	for i := 1; i <= 10; i++ {
		candidate := base
		if i > 1 {
			candidate = fmt.Sprintf("%s-%d", base, i)
		}
		taken, err := c.serviceExists(ctx, token, ownerID, candidate)
		if err != nil {
			return false, "", err
		}
		if !taken {
			if candidate == name {
				return true, "", nil
			}
			return false, candidate, nil
		}
	}
	return false, "", nil
}

func sortedKeys(env map[string]string) []string {
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func envVars(env map[string]string) []map[string]string {
	out := make([]map[string]string, 0, len(env))
	for _, k := range sortedKeys(env) {
		out = append(out, map[string]string{"key": k, "value": env[k]})
	}
	return out
}

// EnsureProject creates the web service (POST /services) unless p records
// it, with the spec's variables and autoDeploy off. Render starts the
// service's first deploy at once and answers its deployId: it is recorded
// as p.DeploymentID, so StartDeployment asks for no other unless the
// variables change before it (SetEnv). A retry whose first answer was lost
// creates a second service: Render has no idempotency key for this call.
func (c *Client) EnsureProject(ctx context.Context, token string, spec platform.DeploySpec, p *platform.DeployProgress) error {
	ownerID := p.Get(extraOwner)
	if ownerID == "" {
		id, err := c.ownerID(ctx, token, spec.TeamID)
		if err != nil {
			return err
		}
		ownerID = id
		p.Set(extraOwner, ownerID)
	}
	if p.ServiceID != "" {
		return nil
	}
	details := map[string]any{"plan": c.plan, "region": c.region}
	body := map[string]any{"type": "web_service", "name": spec.ProjectName, "ownerId": ownerID, "autoDeploy": "no"}
	if spec.Image != "" {
		body["image"] = map[string]any{"ownerId": ownerID, "imagePath": spec.Image}
		details["runtime"] = "image"
	} else {
		body["repo"] = spec.Repo
		if spec.Branch != "" {
			body["branch"] = spec.Branch
		}
		runtime := spec.Runtime
		if runtime == "" {
			runtime = "node"
		}
		details["runtime"] = runtime
		if runtime != "docker" {
			build, start := spec.BuildCommand, spec.StartCommand
			if build == "" {
				build = "npm install && npm run build --if-present"
			}
			if start == "" {
				start = "npm start"
			}
			details["envSpecificDetails"] = map[string]any{"buildCommand": build, "startCommand": start}
		}
	}
	if len(spec.Env) > 0 {
		body["envVars"] = envVars(spec.Env)
	}
	body["serviceDetails"] = details
	var out struct {
		Service struct {
			ID             string `json:"id"`
			ServiceDetails struct {
				URL string `json:"url"`
			} `json:"serviceDetails"`
		} `json:"service"`
		DeployID string `json:"deployId"`
	}
	asked := c.now().UTC()
	if _, err := c.call.Do(ctx, platform.Request{Op: "create service", Method: http.MethodPost, Path: "/services",
		Token: token, JSON: body, Out: &out}); err != nil {
		return err
	}
	p.ServiceID = out.Service.ID
	p.URL = out.Service.ServiceDetails.URL
	p.Set(extraEnvKeys, strings.Join(sortedKeys(spec.Env), ","))
	if out.DeployID != "" {
		p.DeploymentID = out.DeployID
		p.Set(extraSince, asked.Format(time.RFC3339Nano))
	}
	return nil
}

// SetEnv replaces the service's variables (PUT /services/{id}/env-vars)
// unless the service was created with exactly these names. When its first
// deploy had already started without them, StartDeployment deploys again.
func (c *Client) SetEnv(ctx context.Context, token string, spec platform.DeploySpec, p *platform.DeployProgress) error {
	if p.ServiceID == "" {
		return missingStep("set environment variables", "the service")
	}
	keys := strings.Join(sortedKeys(spec.Env), ",")
	if keys == p.Get(extraEnvKeys) {
		return nil
	}
	if _, err := c.call.Do(ctx, platform.Request{Op: "set environment variables", Method: http.MethodPut,
		Path: "/services/" + url.PathEscape(p.ServiceID) + "/env-vars", Token: token, JSON: envVars(spec.Env), Idempotent: true}); err != nil {
		return err
	}
	p.Set(extraEnvKeys, keys)
	if p.DeploymentID != "" {
		p.Set(extraRedeploy, "1")
	}
	return nil
}

// ProvisionDatabase creates a Postgres instance (POST /postgres) unless p
// records one, waits until GET /postgres/{id} says available (bounded),
// and returns its internal connection string from
// GET /postgres/{id}/connection-info: the service runs in the same region
// and reaches it on Render's private network.
func (c *Client) ProvisionDatabase(ctx context.Context, token string, spec platform.DeploySpec, p *platform.DeployProgress) (string, error) {
	if spec.Database == "" {
		return "", nil
	}
	if p.DatabaseID == "" {
		ownerID, err := c.ownerID(ctx, token, p.Get(extraOwner))
		if err != nil {
			return "", err
		}
		var out struct {
			ID string `json:"id"`
		}
		body := map[string]any{"name": spec.ProjectName + "-db", "ownerId": ownerID, "plan": c.dbPlan, "version": "16", "region": c.region}
		if _, err := c.call.Do(ctx, platform.Request{Op: "create database", Method: http.MethodPost, Path: "/postgres",
			Token: token, JSON: body, Out: &out}); err != nil {
			return "", err
		}
		p.DatabaseID = out.ID
	}
	deadline := c.now().Add(c.pollFor)
	for {
		var db struct {
			Status string `json:"status"`
		}
		if _, err := c.call.Do(ctx, platform.Request{Op: "read database", Method: http.MethodGet,
			Path: "/postgres/" + url.PathEscape(p.DatabaseID), Token: token, Out: &db, Idempotent: true}); err != nil {
			return "", err
		}
		if db.Status == "available" {
			break
		}
		switch db.Status {
		case "creating", "recovery_in_progress", "updating_instance", "config_change_in_progress", "":
		default:
			return "", &platform.Error{Platform: platform.Render, Op: "read database", Reason: platform.ReasonInvalid,
				Message: "the database is " + db.Status}
		}
		if c.now().After(deadline) {
			return "", &platform.Error{Platform: platform.Render, Op: "read database", Reason: platform.ReasonTransient,
				Message: "the database is still being created"}
		}
		if err := c.sleep(ctx, c.pollEvery); err != nil {
			return "", err
		}
	}
	var info struct {
		Internal string `json:"internalConnectionString"`
	}
	if _, err := c.call.Do(ctx, platform.Request{Op: "read database connection", Method: http.MethodGet,
		Path: "/postgres/" + url.PathEscape(p.DatabaseID) + "/connection-info", Token: token, Out: &info, Idempotent: true}); err != nil {
		return "", err
	}
	if info.Internal == "" {
		return "", &platform.Error{Platform: platform.Render, Op: "read database connection", Reason: platform.ReasonTransient,
			Message: "the database has no connection string yet"}
	}
	return info.Internal, nil
}

// Upload does nothing: Render takes no files (Validate refuses them).
func (c *Client) Upload(_ context.Context, _ string, spec platform.DeploySpec, _ *platform.DeployProgress) error {
	if len(spec.Files) > 0 {
		return c.Validate(spec)
	}
	return nil
}

// StartDeployment asks POST /services/{id}/deploys unless the service's
// first deploy (from EnsureProject) is recorded and the variables have not
// changed since.
func (c *Client) StartDeployment(ctx context.Context, token string, _ platform.DeploySpec, p *platform.DeployProgress) error {
	if p.DeploymentID != "" && p.Get(extraRedeploy) != "1" {
		return nil
	}
	if p.ServiceID == "" {
		return missingStep("start the deployment", "the service")
	}
	var out struct {
		ID string `json:"id"`
	}
	asked := c.now().UTC()
	if _, err := c.call.Do(ctx, platform.Request{Op: "start deployment", Method: http.MethodPost,
		Path: "/services/" + url.PathEscape(p.ServiceID) + "/deploys", Token: token,
		JSON: map[string]any{"clearCache": "do_not_clear"}, Out: &out}); err != nil {
		return err
	}
	p.DeploymentID = out.ID
	p.Set(extraRedeploy, "")
	p.Set(extraSince, asked.Format(time.RFC3339Nano))
	return nil
}

// StatusOf maps a Render deploy status onto a DeployStatus.
func StatusOf(s string) platform.DeployStatus {
	switch s {
	case "created", "queued":
		return platform.DeployQueued
	case "build_in_progress", "update_in_progress", "pre_deploy_in_progress":
		return platform.DeployBuilding
	case "live", "deactivated": // deactivated: it was live, and a later deploy replaced it
		return platform.DeployReady
	case "build_failed", "update_failed", "pre_deploy_failed":
		return platform.DeployError
	case "canceled":
		return platform.DeployCanceled
	}
	return platform.DeployBuilding
}

// Status reads GET /services/{id}/deploys/{deployId}; a failed deploy's
// message is the last error line of its build log.
func (c *Client) Status(ctx context.Context, token string, p platform.DeployProgress) (platform.DeployState, error) {
	if p.ServiceID == "" || p.DeploymentID == "" {
		return platform.DeployState{}, missingStep("read the deploy", "a deploy")
	}
	var d struct {
		Status string `json:"status"`
	}
	if _, err := c.call.Do(ctx, platform.Request{Op: "read deploy", Method: http.MethodGet,
		Path:  "/services/" + url.PathEscape(p.ServiceID) + "/deploys/" + url.PathEscape(p.DeploymentID),
		Token: token, Out: &d, Idempotent: true}); err != nil {
		return platform.DeployState{}, err
	}
	st := platform.DeployState{Status: StatusOf(d.Status), PlatformState: d.Status, URL: p.URL}
	if st.Status == platform.DeployError {
		st.Message = "the deploy ended " + strings.ReplaceAll(d.Status, "_", " ")
		if lines, _, err := c.Logs(ctx, token, p, ""); err == nil {
			for i := len(lines) - 1; i >= 0; i-- {
				if lines[i].Type == platform.LogStderr {
					st.Message = lines[i].Text
					break
				}
			}
		}
	}
	return st, nil
}

type logsPage struct {
	HasMore       bool   `json:"hasMore"`
	NextStartTime string `json:"nextStartTime"`
	Logs          []struct {
		ID        string `json:"id"`
		Message   string `json:"message"`
		Timestamp string `json:"timestamp"`
		Labels    []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"labels"`
	} `json:"logs"`
}

// Logs reads the service's build logs (GET /logs?ownerId=&resource=&
// type=build, forward) from when the deploy was asked for. The cursor is
// "<startTime>|<id>": the time to ask from and the id of the last line
// already returned at that time (empty after a page with hasMore, whose
// nextStartTime Render gives).
func (c *Client) Logs(ctx context.Context, token string, p platform.DeployProgress, after string) ([]platform.LogLine, string, error) {
	if p.ServiceID == "" {
		return nil, after, missingStep("read build logs", "the service")
	}
	ownerID, err := c.ownerID(ctx, token, p.Get(extraOwner))
	if err != nil {
		return nil, after, err
	}
	start, lastID, _ := strings.Cut(after, "|")
	if start == "" {
		start = p.Get(extraSince)
	}
	q := url.Values{"ownerId": {ownerID}, "resource": {p.ServiceID}, "type": {"build"}, "direction": {"forward"}, "limit": {"100"}}
	if start != "" {
		q.Set("startTime", start)
	}
	var page logsPage
	if _, err := c.call.Do(ctx, platform.Request{Op: "read build logs", Method: http.MethodGet, Path: "/logs",
		Query: q, Token: token, Out: &page, Idempotent: true}); err != nil {
		return nil, after, err
	}
	skipping := false
	if lastID != "" {
		for _, l := range page.Logs {
			if l.ID == lastID {
				skipping = true
			}
		}
	}
	var lines []platform.LogLine
	cursor := after
	for _, l := range page.Logs {
		if skipping {
			if l.ID == lastID {
				skipping = false
			}
			continue
		}
		typ := platform.LogStdout
		for _, lb := range l.Labels {
			if lb.Name == "level" && (lb.Value == "error" || lb.Value == "fatal") {
				typ = platform.LogStderr
			}
		}
		cursor = l.Timestamp + "|" + l.ID
		at, _ := time.Parse(time.RFC3339Nano, l.Timestamp)
		lines = append(lines, platform.LogLine{At: at.UTC(), Type: typ, Text: l.Message, Cursor: cursor})
	}
	if page.HasMore && page.NextStartTime != "" {
		cursor = page.NextStartTime + "|"
		if len(lines) > 0 {
			lines[len(lines)-1].Cursor = cursor
		}
	}
	return lines, cursor, nil
}

// Cancel asks POST /services/{id}/deploys/{deployId}/cancel.
func (c *Client) Cancel(ctx context.Context, token string, p platform.DeployProgress) error {
	if p.ServiceID == "" || p.DeploymentID == "" {
		return missingStep("cancel the deploy", "a deploy")
	}
	_, err := c.call.Do(ctx, platform.Request{Op: "cancel deploy", Method: http.MethodPost,
		Path:  "/services/" + url.PathEscape(p.ServiceID) + "/deploys/" + url.PathEscape(p.DeploymentID) + "/cancel",
		Token: token, Idempotent: true})
	return err
}

// Rollback asks POST /services/{id}/rollback {deployId}: Render deploys
// that earlier deploy's build again.
func (c *Client) Rollback(ctx context.Context, token string, p platform.DeployProgress, toDeploymentID string) error {
	if p.ServiceID == "" || toDeploymentID == "" {
		return missingStep("roll back", "the service and the deploy to go back to")
	}
	_, err := c.call.Do(ctx, platform.Request{Op: "roll back", Method: http.MethodPost,
		Path: "/services/" + url.PathEscape(p.ServiceID) + "/rollback", Token: token,
		JSON: map[string]any{"deployId": toDeploymentID}})
	return err
}

func missingStep(op, what string) error {
	return &platform.Error{Platform: platform.Render, Op: op, Reason: platform.ReasonInvalid,
		Message: what + " is not known yet: an earlier step has not run"}
}

// refine reads Render's {id?, message}.
func refine(e *platform.Error, body []byte) {
	if e.Status < 300 {
		return
	}
	var b struct {
		ID      string `json:"id"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &b) != nil {
		return
	}
	if b.Message != "" {
		e.Message = b.Message
	}
	e.Code = b.ID
}
