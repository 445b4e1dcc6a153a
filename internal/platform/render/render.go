// Package render deploys projects to Render through its REST API
// (https://api.render.com/v1) with the user's API key: a static site or a
// web service from a Git repository, or a web service from a registry
// image, its environment variables, deploys, their status and build logs,
// Postgres, rollback and cancel. A project name that already names a
// service of the workspace deploys that service again.
//
// Render takes no file upload, so Validate refuses a spec with files. The
// tests hold every request to Render's public API description
// (shared/specs/render-public-api.json).
//
// Render answers 429 with RateLimit-* headers and Retry-After: the shared
// caller honours Retry-After; when it is missing the client computes one
// from RateLimit-Reset with jitter (PLATFORMS.md, Render, limits).
package render

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
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
	// extraCreating is "1" from just before POST /services until its
	// answer is read: a retry that finds the service by name adopts it
	// (and the deploy its create started) instead of creating a second.
	extraCreating = "render.creating"
	// extraReused is "1" when the service existed before this deployment:
	// its variables are set one at a time, so the ones the user added stay.
	extraReused = "render.reused"
)

// Service types and runtimes this client creates.
// Evidence: render-public-api.json serviceType and serviceRuntime enums.
const (
	typeStatic = "static_site"
	typeWeb    = "web_service"
	// RuntimeStatic is Switchboard's word for "no runtime": a static site.
	RuntimeStatic = "static"
)

// nativeRuntimes build and start with the service's own commands.
// Evidence: render-public-api.json serviceRuntime (docker and image build
// from a Dockerfile or run an image instead); nativeEnvironmentDetailsPOST
// requires buildCommand and startCommand.
var nativeRuntimes = []string{"elixir", "go", "node", "python", "ruby", "rust"}

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
		apiURL = DefaultAPIURL
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
		sleep: platform.Sleep, now: time.Now}
	c.call = &platform.Caller{Platform: ID, HTTP: hc, BaseURL: strings.TrimRight(apiURL, "/"), Refine: refine}
	for _, o := range opts {
		o(c)
	}
	return c
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
// spaces or control characters; an assumption, kept conservative. A comma
// is refused because the service is found by name, and Render's name
// filter splits its value at commas (render-public-api.json nameParam:
// style form, explode false).
func ValidateProjectName(name string) error {
	n := len([]rune(name))
	bad := strings.TrimSpace(name) != name || n < 1 || n > 100
	for _, r := range name {
		if badNameRune(r) {
			bad = true
		}
	}
	if bad {
		return &platform.Error{Platform: ID, Op: "validate service name", Reason: platform.ReasonInvalid,
			Message: "a Render service name is 1 to 100 characters, without leading or trailing spaces, commas or control characters"}
	}
	return nil
}

func badNameRune(r rune) bool { return unicode.IsControl(r) || r == ',' }

// Validate checks a spec without calling Render.
func (c *Client) Validate(spec platform.DeploySpec) error {
	if len(spec.Files) > 0 {
		return &platform.Error{Platform: ID, Op: "validate deployment", Reason: platform.ReasonUnsupported,
			Message: "Render takes no file upload: deploy from a Git repository (source.repo) or a registry image (image)"}
	}
	if err := platform.CheckDeploySpec(ID, spec); err != nil {
		return err
	}
	if err := ValidateProjectName(spec.ProjectName); err != nil {
		return err
	}
	_, _, err := c.serviceKind(spec)
	return err
}

// serviceKind is the service type a spec makes and its serviceDetails for
// POST /services. A repository without a runtime is a static site, built
// with its build command (if any) into its publish path (Render's default
// "public" when none); a runtime makes a web service, which Render runs
// with the spec's own build and start commands: none is ever guessed.
// Evidence: render-public-api.json servicePOST, staticSiteDetailsPOST
// ("publishPath ... Defaults to \"public\""), webServiceDetailsPOST
// (requires runtime), envSpecificDetailsPOST.
func (c *Client) serviceKind(spec platform.DeploySpec) (string, map[string]any, error) {
	bad := func(msg string) error {
		return &platform.Error{Platform: ID, Op: "validate deployment", Reason: platform.ReasonInvalid, Message: msg}
	}
	web := map[string]any{"plan": c.plan, "region": c.region}
	if spec.Image != "" {
		if (spec.Runtime != "" && spec.Runtime != "image") || spec.BuildCommand != "" || spec.StartCommand != "" || spec.PublishPath != "" {
			return "", nil, bad("an image runs as it was built: give no runtime, build or start command, or publish path with it")
		}
		web["runtime"] = "image"
		return typeWeb, web, nil
	}
	switch rt := spec.Runtime; {
	case rt == "" || rt == RuntimeStatic:
		if spec.StartCommand != "" {
			return "", nil, bad("a start command runs a web service: name its runtime (" + strings.Join(nativeRuntimes, ", ") +
				" or docker); a repository without one is deployed as a static site")
		}
		details := map[string]any{}
		if spec.BuildCommand != "" {
			details["buildCommand"] = spec.BuildCommand
		}
		if spec.PublishPath != "" {
			details["publishPath"] = spec.PublishPath
		}
		return typeStatic, details, nil
	case spec.PublishPath != "":
		return "", nil, bad("a publish path belongs to a static site; a web service with a runtime serves what its start command runs")
	case rt == "docker":
		// Evidence: dockerDetailsPOST has dockerCommand, no build command.
		if spec.BuildCommand != "" {
			return "", nil, bad("a docker web service builds from its Dockerfile: give no build command")
		}
		web["runtime"] = rt
		if spec.StartCommand != "" {
			web["envSpecificDetails"] = map[string]any{"dockerCommand": spec.StartCommand}
		}
		return typeWeb, web, nil
	case slices.Contains(nativeRuntimes, rt):
		if spec.BuildCommand == "" || spec.StartCommand == "" {
			return "", nil, bad("a Render " + rt + " web service needs both its build command and its start command " +
				"(Render requires them and Switchboard does not guess them); it must listen on 0.0.0.0:$PORT")
		}
		web["runtime"] = rt
		web["envSpecificDetails"] = map[string]any{"buildCommand": spec.BuildCommand, "startCommand": spec.StartCommand}
		return typeWeb, web, nil
	}
	return "", nil, bad(fmt.Sprintf("runtime %q is not one Render offers: %s, docker, or %s for a static site",
		spec.Runtime, strings.Join(nativeRuntimes, ", "), RuntimeStatic))
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
	// 100 is the most Render gives per page (render-public-api.json limitParam).
	if _, err := c.call.Do(ctx, platform.Request{Op: "list owners", Method: http.MethodGet, Path: "/owners",
		Query: url.Values{"limit": {"100"}}, Token: token, Out: &out, Idempotent: true}); err != nil {
		return nil, err
	}
	owners := make([]owner, 0, len(out))
	for _, o := range out {
		owners = append(owners, o.Owner)
	}
	return owners, nil
}

// ownerID is the workspace services are made in: the given one, which
// must be one the API key can act for, else the key's only one. A key of
// several workspaces with none given is refused plainly: Render would put
// the service in whichever the request names, and guessing could bill the
// wrong team.
func (c *Client) ownerID(ctx context.Context, token, given string) (string, error) {
	owners, err := c.owners(ctx, token)
	if err != nil {
		return "", err
	}
	if len(owners) == 0 {
		return "", errNoWorkspace()
	}
	names := make([]string, 0, len(owners))
	for _, o := range owners {
		if given != "" && o.ID == given {
			return o.ID, nil
		}
		names = append(names, fmt.Sprintf("%s (%s)", o.Name, o.ID))
	}
	switch {
	case given != "":
		return "", &platform.Error{Platform: ID, Op: "choose workspace", Reason: platform.ReasonNotFound,
			Message: fmt.Sprintf("the API key cannot act for Render workspace %q; it can for %s", given, strings.Join(names, ", "))}
	case len(owners) > 1:
		return "", &platform.Error{Platform: ID, Op: "choose workspace", Reason: platform.ReasonInvalid,
			Message: "the API key can act for several Render workspaces (" + strings.Join(names, ", ") + "): name one with workspaceId"}
	}
	return owners[0].ID, nil
}

func errNoWorkspace() error {
	return &platform.Error{Platform: ID, Op: "list owners", Reason: platform.ReasonPermission,
		Message: "the API key can act for no workspace"}
}

// knownOwner is the workspace a deployment recorded, else ownerID's.
func (c *Client) knownOwner(ctx context.Context, token string, p platform.DeployProgress) (string, error) {
	if id := p.Get(extraOwner); id != "" {
		return id, nil
	}
	return c.ownerID(ctx, token, "")
}

// Whoami reads GET /users and GET /owners; Account.ID names the account:
// the key's only workspace, else the user's own (also Extra["ownerId"];
// Extra["workspaces"] counts them). It does not choose where services go:
// with several workspaces a deployment must name one (ownerID).
func (c *Client) Whoami(ctx context.Context, token string) (platform.Account, error) {
	var user struct {
		Name  string `json:"name"`
		Email string `json:"email"`
	}
	if _, err := c.call.Do(ctx, platform.Request{Op: "read user", Method: http.MethodGet, Path: "/users",
		Token: token, Out: &user, Idempotent: true}); err != nil {
		return platform.Account{}, err
	}
	owners, err := c.owners(ctx, token)
	if err != nil {
		return platform.Account{}, err
	}
	if len(owners) == 0 {
		return platform.Account{}, errNoWorkspace()
	}
	id := owners[0].ID
	for _, o := range owners {
		if o.Type == "user" {
			id = o.ID
			break
		}
	}
	name := user.Name
	if name == "" {
		name = user.Email
	}
	acc := platform.Account{ID: id, Name: name, Extra: map[string]string{"ownerId": id, "workspaces": strconv.Itoa(len(owners))}}
	if user.Email != "" {
		acc.Extra["email"] = user.Email
	}
	return acc, nil
}

// service is what the client reads of a Render service.
type service struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	Type           string `json:"type"`
	ServiceDetails struct {
		URL string `json:"url"`
	} `json:"serviceDetails"`
}

// findService is the owner's service named exactly name, or nil.
// Evidence: render-public-api.json GET /services `name` and `ownerId`
// filters; service names are unique within a workspace (PLATFORMS.md,
// Render; render-oss/cli pkg/client/types_gen.go).
func (c *Client) findService(ctx context.Context, token, ownerID, name string) (*service, error) {
	var out []struct {
		Service service `json:"service"`
	}
	if _, err := c.call.Do(ctx, platform.Request{Op: "list services", Method: http.MethodGet, Path: "/services",
		Query: url.Values{"name": {name}, "ownerId": {ownerID}, "limit": {"20"}}, Token: token, Out: &out, Idempotent: true}); err != nil {
		return nil, err
	}
	for _, s := range out {
		if s.Service.Name == name {
			return &s.Service, nil
		}
	}
	return nil, nil
}

func (c *Client) serviceExists(ctx context.Context, token, ownerID, name string) (bool, error) {
	s, err := c.findService(ctx, token, ownerID, name)
	return s != nil, err
}

// CheckName lists the owner's services of that name (GET
// /services?name=&ownerId=); when one exists, name-2, name-3, ... are tried
// (10 look-ups at most). teamID is the owner id; "" is the key's only
// workspace, refused when the key has several (ownerID).
func (c *Client) CheckName(ctx context.Context, token, teamID, name string) (bool, string, error) {
	ownerID, err := c.ownerID(ctx, token, teamID)
	if err != nil {
		return false, "", err
	}
	base := name
	if ValidateProjectName(name) != nil {
		base = strings.TrimSpace(strings.Map(func(r rune) rune {
			if badNameRune(r) {
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

// EnsureProject finds the workspace's service of the project's name
// (GET /services?name=&ownerId=) or creates it (POST /services) unless p
// records it. Render refuses a second service of the same name in a
// workspace, so a later deployment of the project deploys the same
// service again: its source and build settings are brought to the spec
// (PATCH /services/{id}). A service found after a create whose answer was
// lost is the one that create made: it is adopted with the deploy the
// create started. A new service carries the spec's variables and
// autoDeploy off; Render starts its first deploy at once and answers its
// deployId, recorded as p.DeploymentID, so StartDeployment asks for no
// other unless the variables change before it (SetEnv).
func (c *Client) EnsureProject(ctx context.Context, token string, spec platform.DeploySpec, p *platform.DeployProgress) error {
	typ, details, err := c.serviceKind(spec)
	if err != nil {
		return err
	}
	ownerID := p.Get(extraOwner)
	if ownerID == "" {
		if ownerID, err = c.ownerID(ctx, token, spec.TeamID); err != nil {
			return err
		}
		p.Set(extraOwner, ownerID)
	}
	if p.ServiceID != "" {
		return nil
	}
	found, err := c.findService(ctx, token, ownerID, spec.ProjectName)
	if err != nil {
		return err
	}
	if found != nil {
		return c.reuse(ctx, token, spec, typ, details, found, p)
	}
	body := map[string]any{"type": typ, "name": spec.ProjectName, "ownerId": ownerID, "autoDeploy": "no", "serviceDetails": details}
	if spec.Image != "" {
		body["image"] = map[string]any{"ownerId": ownerID, "imagePath": spec.Image}
	} else {
		body["repo"] = spec.Repo
		if spec.Branch != "" {
			body["branch"] = spec.Branch
		}
	}
	if len(spec.Env) > 0 {
		body["envVars"] = envVars(spec.Env)
	}
	var out struct {
		Service  service `json:"service"`
		DeployID string  `json:"deployId"`
	}
	asked := c.now().UTC()
	p.Set(extraCreating, "1")
	p.Set(extraSince, asked.Format(time.RFC3339Nano))
	if _, err := c.call.Do(ctx, platform.Request{Op: "create service", Method: http.MethodPost, Path: "/services",
		Token: token, JSON: body, Out: &out}); err != nil {
		if pe, ok := platform.AsError(err); ok && pe.Status == http.StatusConflict {
			// Render refuses a second service of the name: one was made
			// meanwhile, not by this create. The next attempt finds it by
			// name and deploys it. Evidence: render-public-api.json POST
			// /services 409; PLATFORMS.md, Render (names unique per workspace).
			p.Set(extraCreating, "")
			pe.Reason = platform.ReasonTransient
		}
		return err
	}
	p.Set(extraCreating, "")
	p.ServiceID = out.Service.ID
	p.URL = out.Service.ServiceDetails.URL
	p.Set(extraEnvKeys, strings.Join(sortedKeys(spec.Env), ","))
	if out.DeployID != "" {
		p.DeploymentID = out.DeployID
	} else {
		p.Set(extraSince, "")
	}
	return nil
}

// reuse takes the workspace's existing service of the project's name:
// adopted when this deployment's own create made it, else updated to the
// spec for a new deploy.
func (c *Client) reuse(ctx context.Context, token string, spec platform.DeploySpec, typ string, details map[string]any,
	found *service, p *platform.DeployProgress) error {
	if found.Type != typ {
		return &platform.Error{Platform: ID, Op: "find service", Reason: platform.ReasonConflict,
			Message: fmt.Sprintf("the workspace has a Render %s named %q, and this deployment is a %s: Render cannot change a service's type; deploy under another name",
				strings.ReplaceAll(found.Type, "_", " "), spec.ProjectName, strings.ReplaceAll(typ, "_", " "))}
	}
	svcPath := "/services/" + url.PathEscape(found.ID)
	if p.Get(extraCreating) == "1" {
		// Evidence: render-public-api.json GET /services/{id}/deploys lists
		// the service's deploys, newest first.
		var deploys []struct {
			Deploy struct {
				ID string `json:"id"`
			} `json:"deploy"`
		}
		if _, err := c.call.Do(ctx, platform.Request{Op: "list deploys", Method: http.MethodGet, Path: svcPath + "/deploys",
			Query: url.Values{"limit": {"1"}}, Token: token, Out: &deploys, Idempotent: true}); err != nil {
			return err
		}
		p.Set(extraCreating, "")
		p.ServiceID, p.URL = found.ID, found.ServiceDetails.URL
		p.Set(extraEnvKeys, strings.Join(sortedKeys(spec.Env), ","))
		if len(deploys) > 0 {
			p.DeploymentID = deploys[0].Deploy.ID
		} else {
			p.Set(extraSince, "")
		}
		return nil
	}
	// Evidence: render-public-api.json servicePATCH; its serviceDetails
	// take the same build settings, without plan and region for an
	// existing service, which keeps its own.
	delete(details, "plan")
	delete(details, "region")
	// autoDeploy is left as the service has it: the user's choice on a
	// service Switchboard finds, "no" on one it created.
	patch := map[string]any{}
	if len(details) > 0 {
		patch["serviceDetails"] = details
	}
	if spec.Image != "" {
		patch["image"] = map[string]any{"ownerId": p.Get(extraOwner), "imagePath": spec.Image}
	} else {
		patch["repo"] = spec.Repo
		if spec.Branch != "" {
			patch["branch"] = spec.Branch
		}
	}
	var out service
	if _, err := c.call.Do(ctx, platform.Request{Op: "update service", Method: http.MethodPatch, Path: svcPath,
		Token: token, JSON: patch, Out: &out, Idempotent: true}); err != nil {
		return err
	}
	p.ServiceID, p.URL = found.ID, found.ServiceDetails.URL
	if out.ServiceDetails.URL != "" {
		p.URL = out.ServiceDetails.URL
	}
	p.Set(extraReused, "1")
	return nil
}

// SetEnv sets the spec's variables unless the service was created with
// exactly these names. On a service this deployment created, PUT
// /services/{id}/env-vars replaces them all; on one it found, each is set
// with PUT /services/{id}/env-vars/{key}, so the variables the user added
// there stay (the bulk PUT replaces all of them: PLATFORMS.md, Render).
// When the service's first deploy had already started without them,
// StartDeployment deploys again.
func (c *Client) SetEnv(ctx context.Context, token string, spec platform.DeploySpec, p *platform.DeployProgress) error {
	if p.ServiceID == "" {
		return platform.MissingStep(ID, "set environment variables", "the service")
	}
	keys := strings.Join(sortedKeys(spec.Env), ",")
	if keys == p.Get(extraEnvKeys) {
		return nil
	}
	if p.Get(extraReused) == "1" {
		for _, k := range sortedKeys(spec.Env) {
			if _, err := c.call.Do(ctx, platform.Request{Op: "set environment variable", Method: http.MethodPut,
				Path:  "/services/" + url.PathEscape(p.ServiceID) + "/env-vars/" + url.PathEscape(k),
				Token: token, JSON: map[string]string{"value": spec.Env[k]}, Idempotent: true}); err != nil {
				return err
			}
		}
		p.Set(extraEnvKeys, keys)
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
		ownerID, err := c.knownOwner(ctx, token, *p)
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
		ready, err := databaseReady(db.Status)
		if err != nil {
			return "", err
		}
		if ready {
			break
		}
		if c.now().After(deadline) {
			return "", &platform.Error{Platform: ID, Op: "read database", Reason: platform.ReasonTransient,
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
		return "", &platform.Error{Platform: ID, Op: "read database connection", Reason: platform.ReasonTransient,
			Message: "the database has no connection string yet"}
	}
	return info.Internal, nil
}

// databaseReady reads a Postgres status: ready to connect to, still on
// its way (wait), or failed. Evidence: render-public-api.json
// databaseStatus (11 values; there is no config_change_in_progress).
func databaseReady(status string) (bool, error) {
	switch status {
	case "available", "maintenance_scheduled": // up; maintenance is only planned
		return true, nil
	case "creating", "config_restart", "maintenance_in_progress", "recovery_in_progress", "updating_instance", "unknown":
		return false, nil
	case "suspended":
		return false, &platform.Error{Platform: ID, Op: "read database", Reason: platform.ReasonNotEligible,
			Message: "Render suspended the database (an unpaid or expired instance): resume it in Render before deploying"}
	case "unavailable", "recovery_failed":
		return false, &platform.Error{Platform: ID, Op: "read database", Reason: platform.ReasonInvalid,
			Message: "the database is " + strings.ReplaceAll(status, "_", " ") + " at Render"}
	}
	return false, &platform.Error{Platform: ID, Op: "read database", Reason: platform.ReasonInvalid,
		Message: fmt.Sprintf("the database's status %q is not one Render documents", status)}
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
		return platform.MissingStep(ID, "start the deployment", "the service")
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
		return platform.DeployState{}, platform.MissingStep(ID, "read the deploy", "a deploy")
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
		return nil, after, platform.MissingStep(ID, "read build logs", "the service")
	}
	ownerID, err := c.knownOwner(ctx, token, p)
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
		return platform.MissingStep(ID, "cancel the deploy", "a deploy")
	}
	_, err := c.call.Do(ctx, platform.Request{Op: "cancel deploy", Method: http.MethodPost,
		Path:  "/services/" + url.PathEscape(p.ServiceID) + "/deploys/" + url.PathEscape(p.DeploymentID) + "/cancel",
		Token: token, Idempotent: true})
	return err
}

// Rollback asks Render to deploy an earlier deploy's build again; it
// does not wait for it (StartRollback records the deploy to follow).
func (c *Client) Rollback(ctx context.Context, token string, p platform.DeployProgress, toDeploymentID string) error {
	return c.StartRollback(ctx, token, &p, toDeploymentID)
}

var _ platform.RollbackFollower = (*Client)(nil)

// StartRollback asks POST /services/{id}/rollback {deployId}. Render
// answers 201 with a new deploy that runs the earlier build again; it is
// recorded as p.DeploymentID, and Status follows it until it is live or
// fails like any deploy. Evidence: render-public-api.json
// /services/{serviceId}/rollback POST 201 -> deploy; render-oss/cli
// RollbackDeployResponse.JSON201 *Deploy.
func (c *Client) StartRollback(ctx context.Context, token string, p *platform.DeployProgress, toDeploymentID string) error {
	if p.ServiceID == "" || toDeploymentID == "" {
		return platform.MissingStep(ID, "roll back", "the service and the deploy to go back to")
	}
	var out struct {
		ID string `json:"id"`
	}
	asked := c.now().UTC()
	if _, err := c.call.Do(ctx, platform.Request{Op: "roll back", Method: http.MethodPost,
		Path: "/services/" + url.PathEscape(p.ServiceID) + "/rollback", Token: token,
		JSON: map[string]any{"deployId": toDeploymentID}, Out: &out}); err != nil {
		return err
	}
	if out.ID == "" {
		return &platform.Error{Platform: ID, Op: "roll back", Reason: platform.ReasonTransient,
			Message: "Render answered the rollback without its deploy"}
	}
	p.DeploymentID = out.ID
	p.Set(extraRedeploy, "")
	p.Set(extraSince, asked.Format(time.RFC3339Nano))
	return nil
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

// Choices lists the owners (workspaces) the API key can act for, for the
// connect page: the one chosen is where a deployment that names no
// workspaceId goes.
func (c *Client) Choices(ctx context.Context, token string) ([]platform.Workspace, error) {
	owners, err := c.owners(ctx, token)
	if err != nil {
		return nil, err
	}
	out := make([]platform.Workspace, len(owners))
	for i, o := range owners {
		out[i] = platform.Workspace{ID: o.ID, Name: o.Name}
	}
	return out, nil
}
