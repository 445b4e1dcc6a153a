// Package vercel deploys generated projects to Vercel through its REST API
// (https://api.vercel.com): files by SHA-1 digest, then a deployment.
//
// The calls and their order follow shared/specs/PLATFORMS.md and Vercel's
// published OpenAPI description (shared/specs/vercel-openapi.json); the
// tests check every request against that description, plus the rollback
// operation the vendored description lacks (from @vercel/sdk).
//
// Decisions written down here:
//
//   - A deployment is ready once Vercel has assigned its aliases
//     (aliasAssigned), not when its build is READY; the URL reported is the
//     production alias (alias[0]), never the per-deployment url, which
//     Vercel Authentication protects. An aliasError fails it.
//   - Rollback: a deployment that has served production goes back through
//     Vercel's instant rollback; promote is only for one that never did
//     (see Rollback for how that is decided).
//   - Projects: a 409 on create adopts only a project Switchboard made for
//     this tenant (DeploySpec.OwnedProjectID, from Switchboard's own record) or
//     the one this very deployment asked for when the answer was lost.
//     Any other project of that name is the user's: a conflict.
//   - Environment variables: every value is a secret (sensitive, write-only)
//     except the ones whose name marks them as published to browsers by a
//     framework convention (NEXT_PUBLIC_, VITE_, ...); see envType.
//   - Git repositories deploy through gitSource (GitHub and Bitbucket by
//     URL; GitLab needs a numeric project id a URL does not carry).
//   - Files: the deployment is asked for first, with the list of files by
//     digest; Vercel answers which ones it lacks (missing_files) and only
//     those are uploaded. Vercel keeps files per account or team, so a
//     redeploy sends only what changed. The worker's Upload step does
//     nothing; StartDeployment does all of it (see StartDeployment).
package vercel

import (
	"cmp"
	"context"
	"crypto/sha1" //nolint:gosec // Vercel names files by their SHA-1 digest; not used for security
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/internal/platform"
)

// MaxFiles is the most files one Vercel deployment may have (PLATFORMS.md).
const MaxFiles = 15000

// DefaultUploadConcurrency is how many files are uploaded at once: Vercel
// asks to keep it near 10 (PLATFORMS.md Vercel, "keep upload concurrency
// near 10").
const DefaultUploadConcurrency = 10

// MaxUploadConcurrency is the most uploads at once this client accepts: the
// official client's own bound (vercel/vercel packages/client/src/upload.ts,
// new Sema(50)).
const MaxUploadConcurrency = 50

// createRounds bounds the deployment creates of one StartDeployment: the
// first names the files, the second follows the upload of what Vercel
// reported missing; a third covers a file Vercel dropped in between.
const createRounds = 3

// Progress keys this client records in DeployProgress.Extra.
const (
	extraTeamID = "teamId" // the team the project lives in; every later call names it
	// extraCreateAsked is when (Unix ms) this deployment asked Vercel to
	// create its project and got no answer (a timeout, a 5xx): the request
	// may have created it. A 409 on the retry adopts the project of that
	// name only when Vercel says it was created from then on.
	extraCreateAsked = "vercel.createUnansweredAt"
)

// createSkew is how far Vercel's clock may be behind ours when a project
// created by a lost request is recognised by its createdAt.
const createSkew = time.Minute

// Client is a platform.Deployer for Vercel.
type Client struct {
	call        *platform.Caller
	concurrency int
	now         func() time.Time
}

var (
	_ platform.Deployer = (*Client)(nil)
	_ platform.Chooser  = (*Client)(nil)
)

// Option changes a Client.
type Option func(*Client)

// WithUploadConcurrency bounds how many files are uploaded at once
// (DefaultUploadConcurrency when n < 1).
func WithUploadConcurrency(n int) Option {
	return func(c *Client) {
		if n > 0 {
			c.concurrency = n
		}
	}
}

// ParseUploadConcurrency reads an upload concurrency setting: "" is
// DefaultUploadConcurrency; anything but a whole number from 1 to
// MaxUploadConcurrency is an error.
func ParseUploadConcurrency(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return DefaultUploadConcurrency, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxUploadConcurrency {
		return 0, fmt.Errorf("vercel: upload concurrency %q is not a whole number from 1 to %d", s, MaxUploadConcurrency)
	}
	return n, nil
}

// New builds a client; apiURL "" is https://api.vercel.com.
func New(httpClient *http.Client, apiURL string, opts ...Option) *Client {
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	c := &Client{concurrency: DefaultUploadConcurrency, now: time.Now}
	c.call = &platform.Caller{
		Platform: ID,
		HTTP:     httpClient,
		BaseURL:  strings.TrimRight(apiURL, "/"),
		Refine:   c.refine,
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// validName is Vercel's project name rule, as its API states it when it
// refuses a name: "Project names can be up to 100 characters long and must
// be lowercase. They can include letters, digits, and the following
// characters: '.', '_', '-'. However, they cannot contain the sequence
// '---'." It is checked by hand: the regexp ^[a-z0-9._-]{1,100}$, compiled
// at init, cost every function's cold start over 1,000 allocations.
func validName(name string) bool {
	if len(name) == 0 || len(name) > 100 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// ValidateProjectName checks a name against Vercel's project name rule.
func ValidateProjectName(name string) error {
	if !validName(name) || strings.Contains(name, "---") {
		return &platform.Error{Platform: ID, Op: "validate project name", Reason: platform.ReasonInvalid,
			Message: "a Vercel project name is up to 100 lowercase letters, digits, '.', '_' and '-', without '---'"}
	}
	return nil
}

// CleanName turns any name into one Vercel accepts ("My Site!" ->
// "my-site"); "" when nothing usable is left.
func CleanName(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(strings.TrimSpace(name)) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '_':
			b.WriteRune(r)
			dash = false
		default:
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
				dash = true
			}
		}
	}
	s := strings.Trim(b.String(), "-")
	for strings.Contains(s, "--") {
		s = strings.ReplaceAll(s, "--", "-")
	}
	if len(s) > 90 { // room for a "-NN" suffix
		s = strings.Trim(s[:90], "-")
	}
	return s
}

// Validate checks a spec without calling Vercel.
func (c *Client) Validate(spec platform.DeploySpec) error {
	if err := platform.CheckDeploySpec(ID, spec); err != nil {
		return err
	}
	if err := ValidateProjectName(spec.ProjectName); err != nil {
		return err
	}
	unsupported := func(msg string) error {
		return &platform.Error{Platform: ID, Op: "validate deployment", Reason: platform.ReasonUnsupported, Message: msg}
	}
	if spec.Repo != "" {
		if _, err := gitSourceOf(spec); err != nil {
			return err
		}
	}
	switch {
	case spec.Image != "":
		return unsupported("Vercel does not run container images; give the project's files")
	case spec.Database != "":
		return unsupported("Vercel offers databases through Marketplace integrations, which its public API does not provision with a deployment")
	case len(spec.Files) > MaxFiles:
		return &platform.Error{Platform: ID, Op: "validate deployment", Reason: platform.ReasonInvalid,
			Message: fmt.Sprintf("Vercel takes at most %d files per deployment", MaxFiles)}
	}
	return nil
}

func teamQuery(teamID string) url.Values {
	q := url.Values{}
	if teamID != "" {
		q.Set("teamId", teamID)
	}
	return q
}

// Whoami reads GET /v2/user.
func (c *Client) Whoami(ctx context.Context, token string) (platform.Account, error) {
	var out struct {
		User struct {
			ID            string `json:"id"`
			UID           string `json:"uid"`
			Email         string `json:"email"`
			Name          string `json:"name"`
			Username      string `json:"username"`
			DefaultTeamID string `json:"defaultTeamId"`
		} `json:"user"`
	}
	_, err := c.call.Do(ctx, platform.Request{Op: "read user", Method: http.MethodGet, Path: "/v2/user",
		Token: token, Out: &out, Idempotent: true})
	if err != nil {
		return platform.Account{}, err
	}
	u := out.User
	id := u.ID
	if id == "" {
		id = u.UID
	}
	name := u.Name
	if name == "" {
		name = u.Username
	}
	acc := platform.Account{ID: id, Name: name, Extra: map[string]string{}}
	for k, v := range map[string]string{"email": u.Email, "username": u.Username, "defaultTeamId": u.DefaultTeamID} {
		if v != "" {
			acc.Extra[k] = v
		}
	}
	return acc, nil
}

// teamsPage is how many teams one GET /v2/teams asks for, and maxTeamPages
// bounds the pages read for one list. Unverified: Vercel's OpenAPI
// description gives `limit` no maximum and the CLI asks for 20
// (vercel/vercel packages/cli/src/util/teams/get-teams.ts); whether Vercel
// caps a larger limit is not documented, and the client reads every page
// either way (it follows pagination.next until a page brings nothing new).
const (
	teamsPage    = 100
	maxTeamPages = 10
)

// Choices lists where the token can deploy, for the connect page: the
// teams of GET /v2/teams (getTeams: "all the Teams the authenticated User is
// a member of"), and first, for an account Vercel has not moved to teams,
// its personal account, with the empty id: calls then name no teamId. An
// account moved to teams (user.version "northstar") has no personal scope
// of its own; its Hobby team is one of its teams (vercel/vercel
// packages/cli/src/commands/teams/switch.ts offers the personal account
// only when user.version is not "northstar").
func (c *Client) Choices(ctx context.Context, token string) ([]platform.Workspace, error) {
	var me struct {
		User struct {
			Name, Username, Email, Version string
		} `json:"user"`
	}
	if _, err := c.call.Do(ctx, platform.Request{Op: "read user", Method: http.MethodGet, Path: "/v2/user",
		Token: token, Out: &me, Idempotent: true}); err != nil {
		return nil, err
	}
	var out []platform.Workspace
	if me.User.Version != "northstar" {
		name := cmp.Or(me.User.Name, me.User.Username, me.User.Email)
		out = append(out, platform.Workspace{ID: "", Name: name + " (personal account)"})
	}
	seen := map[string]bool{}
	// Pages go back in time: the answer's pagination.next "must be used to
	// request the next page", as until ("only include Teams created until
	// then"), both in Vercel's OpenAPI description (getTeams, Pagination).
	var until int64
	for range maxTeamPages {
		q := url.Values{"limit": {strconv.Itoa(teamsPage)}}
		if until > 0 {
			q.Set("until", strconv.FormatInt(until, 10))
		}
		var page struct {
			Teams []struct {
				ID, Slug, Name string
			} `json:"teams"`
			Pagination struct {
				Next *int64 `json:"next"`
			} `json:"pagination"`
		}
		if _, err := c.call.Do(ctx, platform.Request{Op: "list teams", Method: http.MethodGet, Path: "/v2/teams",
			Query: q, Token: token, Out: &page, Idempotent: true}); err != nil {
			return nil, err
		}
		fresh := 0
		for _, t := range page.Teams {
			if t.ID == "" || seen[t.ID] {
				continue
			}
			seen[t.ID] = true
			fresh++
			out = append(out, platform.Workspace{ID: t.ID, Name: cmp.Or(t.Name, t.Slug, t.ID)})
		}
		if fresh == 0 || page.Pagination.Next == nil || *page.Pagination.Next <= 0 {
			break
		}
		until = *page.Pagination.Next
	}
	return out, nil
}

// CheckName: a name is free when GET /v9/projects/{name} answers 404;
// otherwise name-2, name-3, ... are tried (at most 10 look-ups in all). A
// name Vercel's rule refuses is not available; its cleaned-up form is
// suggested.
func (c *Client) CheckName(ctx context.Context, token, teamID, name string) (bool, string, error) {
	free := func(candidate string) (bool, error) {
		_, found, err := c.readProject(ctx, token, teamID, candidate)
		return !found && err == nil, err
	}
	base := name
	if ValidateProjectName(name) == nil {
		ok, err := free(name)
		if err != nil || ok {
			return ok, "", err
		}
	} else {
		if base = CleanName(name); base == "" {
			base = "project"
		}
		ok, err := free(base)
		if err != nil || ok {
			return false, map[bool]string{true: base}[ok], err
		}
	}
	if len(base) > 90 {
		base = strings.TrimRight(base[:90], "-")
	}
	base = strings.TrimRight(base, "-")
	for i := 2; i <= 10; i++ {
		candidate := fmt.Sprintf("%s-%d", base, i)
		ok, err := free(candidate)
		if err != nil {
			return false, "", err
		}
		if ok {
			return false, candidate, nil
		}
	}
	return false, "", nil
}

// project is the part of a project answer this client reads.
type project struct {
	ID        string `json:"id"`
	CreatedAt int64  `json:"createdAt"` // Unix ms
}

// readProject reads GET /v9/projects/{idOrName}; found is false on 404.
func (c *Client) readProject(ctx context.Context, token, teamID, idOrName string) (project, bool, error) {
	var out project
	_, err := c.call.Do(ctx, platform.Request{Op: "read project", Method: http.MethodGet,
		Path: "/v9/projects/" + url.PathEscape(idOrName), Query: teamQuery(teamID), Token: token, Out: &out, Idempotent: true})
	if platform.ReasonOf(err) == platform.ReasonNotFound {
		return project{}, false, nil
	}
	if err != nil {
		return project{}, false, err
	}
	return out, true, nil
}

// EnsureProject makes sure the deployment has a project Switchboard made,
// unless p.ProjectID is set:
//
//   - spec.OwnedProjectID, a project Switchboard created under this name for the
//     tenant earlier, is reused while Vercel still has it;
//   - otherwise the project is created (POST /v11/projects). A 409 (the
//     name is taken in the scope: PLATFORMS.md "409 = name taken: do not
//     silently adopt a project the user made") adopts the project of that
//     name only when it is spec.OwnedProjectID, or when this deployment's
//     earlier create went unanswered and Vercel says the project was
//     created since (the answer was lost; the worker saves the progress
//     before it retries). Any other project of that name is the user's
//     own: a ReasonConflict that tells the user to pick another name. (A
//     worker that died during an unanswered create saved no mark: its
//     retry answers the conflict rather than guess.)
func (c *Client) EnsureProject(ctx context.Context, token string, spec platform.DeploySpec, p *platform.DeployProgress) error {
	p.Set(extraTeamID, spec.TeamID)
	if p.ProjectID != "" {
		return nil
	}
	if spec.OwnedProjectID != "" {
		prj, found, err := c.readProject(ctx, token, spec.TeamID, spec.OwnedProjectID)
		if err != nil {
			return err
		}
		if found {
			p.ProjectID = prj.ID
			return nil
		}
		// Deleted in Vercel since (or another account): make it anew.
	}
	body := map[string]any{"name": spec.ProjectName}
	if spec.Framework != "" {
		body["framework"] = spec.Framework
	}
	sent := c.now()
	var out project
	_, err := c.call.Do(ctx, platform.Request{Op: "create project", Method: http.MethodPost, Path: "/v11/projects",
		Query: teamQuery(spec.TeamID), Token: token, JSON: body, Out: &out})
	if pe, ok := platform.AsError(err); ok && pe.Reason == platform.ReasonTransient && p.Get(extraCreateAsked) == "" {
		p.Set(extraCreateAsked, strconv.FormatInt(sent.UnixMilli(), 10))
	}
	if platform.ReasonOf(err) == platform.ReasonConflict {
		prj, found, gerr := c.readProject(ctx, token, spec.TeamID, spec.ProjectName)
		if gerr != nil {
			return gerr
		}
		if !found {
			return err
		}
		ours := prj.ID == spec.OwnedProjectID
		if asked, perr := strconv.ParseInt(p.Get(extraCreateAsked), 10, 64); perr == nil && prj.CreatedAt >= asked-createSkew.Milliseconds() {
			ours = true
		}
		if !ours {
			scope := "your Vercel account"
			if spec.TeamID != "" {
				scope = "the Vercel team"
			}
			return &platform.Error{Platform: ID, Op: "create project", Reason: platform.ReasonConflict, Status: http.StatusConflict,
				Code: "project_name_taken", Err: err,
				Message: fmt.Sprintf("a project named %q already exists in %s and Switchboard did not create it; choose another project name (GET /projects/vercel/availability suggests one) or remove that project in Vercel", spec.ProjectName, scope)}
		}
		out = prj
	} else if err != nil {
		return err
	}
	if out.ID == "" {
		return &platform.Error{Platform: ID, Op: "create project", Reason: platform.ReasonTransient, Message: "the answer named no project id"}
	}
	p.ProjectID = out.ID
	p.Set(extraCreateAsked, "")
	return nil
}

// ProvisionDatabase: Vercel provisions no database through this API
// (Validate refuses a spec asking for one).
func (c *Client) ProvisionDatabase(_ context.Context, _ string, spec platform.DeploySpec, _ *platform.DeployProgress) (string, error) {
	if spec.Database == "" {
		return "", nil
	}
	return "", &platform.Error{Platform: ID, Op: "provision database", Reason: platform.ReasonUnsupported,
		Message: "Vercel offers databases through Marketplace integrations, which its public API does not provision with a deployment"}
}

// publicPrefixes are the variable name prefixes frameworks inline into
// the code they send to browsers (Next.js NEXT_PUBLIC_, Vite VITE_,
// Create React App REACT_APP_, Nuxt NUXT_PUBLIC_, Gatsby GATSBY_,
// SvelteKit and Astro PUBLIC_, Expo EXPO_PUBLIC_): their values are
// published by design.
var publicPrefixes = []string{"NEXT_PUBLIC_", "VITE_", "REACT_APP_", "NUXT_PUBLIC_", "GATSBY_", "PUBLIC_", "EXPO_PUBLIC_"}

// envType is how a variable is kept at Vercel. Every value a deployment
// gives is a secret (Switchboard seals them all and never returns them), so
// it is "sensitive": write-only, unreadable in Vercel's dashboard and API
// once set. The one exception is a variable whose name a framework
// publishes to every browser: it cannot be secret, and keeping it
// "encrypted" leaves it readable to the project's members. DATABASE_URL has
// no public prefix, so it is sensitive like every other secret.
func envType(key string) string {
	for _, p := range publicPrefixes {
		if strings.HasPrefix(key, p) {
			return "encrypted"
		}
	}
	return "sensitive"
}

// envTargets are the environments a variable is set for: Vercel creates
// sensitive variables only for preview and production
// (vercel.com/docs/environment-variables/sensitive-environment-variables),
// and every deployment Switchboard makes is a production one.
var envTargets = []string{"production", "preview"}

// SetEnv upserts the variables (POST /v10/projects/{id}/env?upsert=true)
// before the first build, each of the type envType gives, for production
// and preview.
func (c *Client) SetEnv(ctx context.Context, token string, spec platform.DeploySpec, p *platform.DeployProgress) error {
	if len(spec.Env) == 0 {
		return nil
	}
	if p.ProjectID == "" {
		return platform.MissingStep(ID, "set environment variables", "the project")
	}
	keys := make([]string, 0, len(spec.Env))
	for k := range spec.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	type envVar struct {
		Key    string   `json:"key"`
		Value  string   `json:"value"`
		Type   string   `json:"type"`
		Target []string `json:"target"`
	}
	vars := make([]envVar, 0, len(keys))
	for _, k := range keys {
		vars = append(vars, envVar{Key: k, Value: spec.Env[k], Type: envType(k), Target: envTargets})
	}
	q := teamQuery(p.Get(extraTeamID))
	q.Set("upsert", "true")
	_, err := c.call.Do(ctx, platform.Request{Op: "set environment variables", Method: http.MethodPost,
		Path: "/v10/projects/" + url.PathEscape(p.ProjectID) + "/env", Query: q, Token: token, JSON: vars, Idempotent: true})
	return err
}

// gitSourceOf is the gitSource of POST /v13/deployments for the spec's
// repository (vercel-openapi.json, createDeployment's gitSource):
// {type:"github", org, repo, ref} for github.com and {type:"bitbucket",
// owner, slug, ref} for bitbucket.org. GitLab's form names a numeric
// project id, which a repository URL does not carry; other hosts have no
// form. ref is required in every form, so a branch must be given. Vercel
// reaches the repository through the user's Git connection in Vercel.
func gitSourceOf(spec platform.DeploySpec) (map[string]any, error) {
	bad := func(reason platform.Reason, msg string) error {
		return &platform.Error{Platform: ID, Op: "validate deployment", Reason: reason, Message: msg}
	}
	u, err := url.Parse(spec.Repo)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, bad(platform.ReasonInvalid, "the repository must be an https URL such as https://github.com/owner/name")
	}
	parts := strings.Split(strings.Trim(strings.TrimSuffix(u.Path, ".git"), "/"), "/")
	if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		return nil, bad(platform.ReasonInvalid, "the repository URL must name an owner and a repository: https://github.com/owner/name")
	}
	if spec.Branch == "" {
		return nil, bad(platform.ReasonInvalid, "Vercel deploys a repository at a named ref: give the branch to deploy")
	}
	switch strings.ToLower(u.Host) {
	case "github.com", "www.github.com":
		return map[string]any{"type": "github", "org": parts[0], "repo": parts[1], "ref": spec.Branch}, nil
	case "bitbucket.org", "www.bitbucket.org":
		return map[string]any{"type": "bitbucket", "owner": parts[0], "slug": parts[1], "ref": spec.Branch}, nil
	case "gitlab.com", "www.gitlab.com":
		return nil, bad(platform.ReasonUnsupported, "Vercel's API deploys a GitLab repository by its numeric project id, which a repository URL does not carry; give the project's files or a GitHub or Bitbucket repository")
	}
	return nil, bad(platform.ReasonUnsupported, "Vercel deploys Git repositories from GitHub, GitLab and Bitbucket only")
}

// digested is a file with its SHA-1 digest.
type digested struct {
	path, sha string
	data      []byte
}

func digest(files []platform.ProjectFile) []digested {
	out := make([]digested, len(files))
	for i, f := range files {
		sum := sha1.Sum(f.Data) //nolint:gosec // Vercel's content address
		out[i] = digested{path: f.Path, sha: hex.EncodeToString(sum[:]), data: f.Data}
	}
	return out
}

// Upload does nothing: Vercel's files are sent by StartDeployment, which
// asks for the deployment first and uploads only the files Vercel reports
// missing. Uploading here would send every file, including the ones
// Vercel already has from an earlier deployment of the account or team.
func (c *Client) Upload(context.Context, string, platform.DeploySpec, *platform.DeployProgress) error {
	return nil
}

// uploadDigests uploads the files whose digest is in only, each distinct
// digest once, at most c.concurrency at a time (POST /v2/files, raw body,
// named by x-vercel-digest). It returns how many it sent.
func (c *Client) uploadDigests(ctx context.Context, token, teamID string, files []digested, only map[string]bool) (int, error) {
	byDigest := map[string][]byte{}
	var order []string
	for _, f := range files {
		if !only[f.sha] {
			continue
		}
		if _, ok := byDigest[f.sha]; !ok {
			byDigest[f.sha] = f.data
			order = append(order, f.sha)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		sem      = make(chan struct{}, c.concurrency)
	)
	for _, sha := range order {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func(sha string, data []byte) {
			defer wg.Done()
			defer func() { <-sem }()
			if data == nil {
				data = []byte{}
			}
			h := http.Header{}
			h.Set("Content-Type", "application/octet-stream")
			h.Set("x-vercel-digest", sha)
			_, err := c.call.Do(ctx, platform.Request{Op: "upload file", Method: http.MethodPost, Path: "/v2/files",
				Query: teamQuery(teamID), Token: token, Header: h, Raw: data, Idempotent: true})
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
					cancel()
				}
				mu.Unlock()
			}
		}(sha, byDigest[sha])
	}
	wg.Wait()
	if firstErr != nil {
		return 0, firstErr
	}
	return len(order), ctx.Err()
}

// deployment is the part of a deployment answer this client reads
// (vercel-openapi.json, getDeployment).
type deployment struct {
	ID            string   `json:"id"`
	URL           string   `json:"url"`
	ReadyState    string   `json:"readyState"`
	ReadySubstate string   `json:"readySubstate"` // STAGED: never served production; PROMOTED: has
	Target        string   `json:"target"`        // "production", "staging" or null (preview)
	Alias         []string `json:"alias"`
	AliasAssigned bool     `json:"aliasAssigned"`
	AliasError    *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"aliasError"`
	ErrorCode    string `json:"errorCode"`
	ErrorMessage string `json:"errorMessage"`
}

// StartDeployment creates the production deployment (POST
// /v13/deployments) unless p.DeploymentID is set. A files deployment names
// its files by digest ({file, sha, size}); Vercel answers 400
// missing_files with error.missing, the digests it does not hold, and
// creates nothing (PLATFORMS.md Vercel; vercel/vercel packages/client/src/
// upload.ts does the same: deploy, upload error.missing, deploy again).
// Those files alone are uploaded and the deployment asked for again, at
// most createRounds times in all. Files Vercel has (any earlier upload of
// the account or team) are never sent.
//
// The worker's journal still holds: the deployment id is recorded only
// once Vercel created one, and a create answered missing_files made none,
// so a worker retried after a failed upload (or a crash) asks again and
// uploads only what Vercel still lacks, without a second deployment.
func (c *Client) StartDeployment(ctx context.Context, token string, spec platform.DeploySpec, p *platform.DeployProgress) error {
	if p.DeploymentID != "" {
		return nil
	}
	if p.ProjectID == "" {
		return platform.MissingStep(ID, "start the deployment", "the project")
	}
	body := map[string]any{"name": spec.ProjectName, "project": p.ProjectID, "target": "production"}
	var files []digested
	if spec.Repo != "" {
		// A Git deployment: Vercel clones the repository itself
		// (PLATFORMS.md "Git deployments"; vercel-openapi.json gitSource).
		src, err := gitSourceOf(spec)
		if err != nil {
			return err
		}
		body["gitSource"] = src
	} else {
		files = digest(spec.Files)
		type fileRef struct {
			File string `json:"file"`
			SHA  string `json:"sha"`
			Size int    `json:"size"`
		}
		refs := make([]fileRef, len(files))
		for i, f := range files {
			refs[i] = fileRef{File: f.path, SHA: f.sha, Size: len(f.data)}
		}
		body["files"] = refs
	}
	teamID := p.Get(extraTeamID)
	q := teamQuery(teamID)
	q.Set("skipAutoDetectionConfirmation", "1")
	var out deployment
	req := platform.Request{Op: "create deployment", Method: http.MethodPost, Path: "/v13/deployments",
		Query: q, Token: token, JSON: body, Out: &out}
	for round := 1; ; round++ {
		_, err := c.call.Do(ctx, req)
		var missing *MissingFilesError
		if !errors.As(err, &missing) {
			if err != nil {
				return err
			}
			break
		}
		if round == createRounds {
			return &platform.Error{Platform: ID, Op: "create deployment", Reason: platform.ReasonTransient, Err: err,
				Message: fmt.Sprintf("Vercel still reports %d files missing after they were uploaded", len(missing.Digests))}
		}
		only := make(map[string]bool, len(missing.Digests))
		for _, d := range missing.Digests {
			only[d] = true
		}
		sent, uerr := c.uploadDigests(ctx, token, teamID, files, only)
		if uerr != nil {
			return uerr
		}
		if sent == 0 {
			// Vercel asks for digests this deployment does not name.
			return err
		}
	}
	// The deployment's own url is not kept: Vercel Authentication
	// protects it (PLATFORMS.md "Public URL"); the production alias is
	// reported once assigned.
	p.DeploymentID = out.ID
	return nil
}

func (c *Client) getDeployment(ctx context.Context, token string, p platform.DeployProgress) (deployment, error) {
	var out deployment
	if p.DeploymentID == "" {
		return out, platform.MissingStep(ID, "read the deployment", "a deployment")
	}
	_, err := c.call.Do(ctx, platform.Request{Op: "read deployment", Method: http.MethodGet,
		Path: "/v13/deployments/" + url.PathEscape(p.DeploymentID), Query: teamQuery(p.Get(extraTeamID)),
		Token: token, Out: &out, Idempotent: true})
	return out, err
}

// StatusOf maps Vercel's readyState onto a DeployStatus.
func StatusOf(readyState string) platform.DeployStatus {
	switch readyState {
	case "QUEUED":
		return platform.DeployQueued
	case "INITIALIZING", "BUILDING":
		return platform.DeployBuilding
	case "READY":
		return platform.DeployReady
	case "ERROR":
		return platform.DeployError
	case "CANCELED":
		return platform.DeployCanceled
	}
	return platform.DeployBuilding
}

// Status reads GET /v13/deployments/{id}. A READY build is still
// building for Switchboard until Vercel has assigned its aliases
// (aliasAssigned, as vercel/vercel packages/client/src/check-deployment-
// status.ts waits for); an aliasError is a failure with Vercel's reason.
// The URL is the production alias, alias[0] (PLATFORMS.md "Public URL"),
// never the deployment's own url, which Vercel Authentication protects.
func (c *Client) Status(ctx context.Context, token string, p platform.DeployProgress) (platform.DeployState, error) {
	d, err := c.getDeployment(ctx, token, p)
	if err != nil {
		return platform.DeployState{}, err
	}
	st := platform.DeployState{Status: StatusOf(d.ReadyState), PlatformState: d.ReadyState}
	switch st.Status {
	case platform.DeployReady:
		switch {
		case d.AliasError != nil:
			st.Status = platform.DeployError
			st.Message = fmt.Sprintf("Vercel built the deployment but could not assign its domain: %s (%s)", d.AliasError.Message, d.AliasError.Code)
		case !d.AliasAssigned:
			st.Status = platform.DeployBuilding
			st.Message = "built; waiting for Vercel to assign the production domain"
		case len(d.Alias) > 0:
			st.URL = "https://" + d.Alias[0]
		default:
			st.Message = "Vercel assigned no public domain to the deployment"
		}
	case platform.DeployError:
		st.Message = d.ErrorMessage
		if st.Message == "" {
			st.Message = "the build failed"
		}
	}
	return st, nil
}

// event is one deployment event; Vercel answers it flat ({created, type,
// text, serial, id}) or with the fields under payload.
type event struct {
	Type    string  `json:"type"`
	Created float64 `json:"created"`
	ID      string  `json:"id"`
	Text    string  `json:"text"`
	Info    *struct {
		ReadyState string `json:"readyState"`
	} `json:"info"`
	Payload *struct {
		ID   string `json:"id"`
		Text string `json:"text"`
		Info *struct {
			ReadyState string `json:"readyState"`
		} `json:"info"`
	} `json:"payload"`
}

// Logs reads GET /v3/deployments/{id}/events?direction=forward&limit=-1.
// The cursor is "<created ms>:<event id>" of the last line returned; the
// next call asks since that instant and drops the events up to that id.
func (c *Client) Logs(ctx context.Context, token string, p platform.DeployProgress, after string) ([]platform.LogLine, string, error) {
	if p.DeploymentID == "" {
		return nil, after, platform.MissingStep(ID, "read build logs", "a deployment")
	}
	q := teamQuery(p.Get(extraTeamID))
	q.Set("direction", "forward")
	q.Set("limit", "-1")
	var sinceMS int64
	var lastID string
	if after != "" {
		ms, id, _ := strings.Cut(after, ":")
		n, err := strconv.ParseInt(ms, 10, 64)
		if err != nil {
			return nil, after, &platform.Error{Platform: ID, Op: "read build logs", Reason: platform.ReasonInvalid, Message: "the log cursor is not one this client gave"}
		}
		sinceMS, lastID = n, id
		q.Set("since", ms)
	}
	var events []event
	_, err := c.call.Do(ctx, platform.Request{Op: "read build logs", Method: http.MethodGet,
		Path: "/v3/deployments/" + url.PathEscape(p.DeploymentID) + "/events", Query: q, Token: token, Out: &events, Idempotent: true})
	if err != nil {
		return nil, after, err
	}
	// Events at the cursor's instant up to and including its id were
	// returned before.
	skipping := lastID != ""
	if skipping {
		seen := false
		for _, e := range events {
			if int64(e.Created) == sinceMS && eventID(e) == lastID {
				seen = true
				break
			}
		}
		skipping = seen
	}
	var lines []platform.LogLine
	cursor := after
	for _, e := range events {
		created := int64(e.Created)
		if after != "" && created < sinceMS {
			continue
		}
		if skipping {
			if created == sinceMS && eventID(e) == lastID {
				skipping = false
			}
			continue
		}
		cursor = strconv.FormatInt(created, 10) + ":" + eventID(e)
		text, typ := eventText(e)
		if typ == "" {
			continue
		}
		lines = append(lines, platform.LogLine{At: time.UnixMilli(created).UTC(), Type: typ, Text: text, Cursor: cursor})
	}
	return lines, cursor, nil
}

func eventID(e event) string {
	if e.ID == "" && e.Payload != nil {
		return e.Payload.ID
	}
	return e.ID
}

func eventText(e event) (string, platform.LogType) {
	text := e.Text
	state := ""
	if e.Info != nil {
		state = e.Info.ReadyState
	}
	if e.Payload != nil {
		if text == "" {
			text = e.Payload.Text
		}
		if state == "" && e.Payload.Info != nil {
			state = e.Payload.Info.ReadyState
		}
	}
	switch e.Type {
	case "stdout":
		return text, platform.LogStdout
	case "stderr":
		return text, platform.LogStderr
	case "command":
		return text, platform.LogCommand
	case "exit":
		return text, platform.LogExit
	case "fatal":
		return text, platform.LogFatal
	case "deployment-state":
		if text == "" {
			text = state
		}
		return text, platform.LogState
	case "delimiter":
		return "", ""
	}
	if text == "" {
		return "", ""
	}
	return text, platform.LogInfo
}

// Cancel asks PATCH /v12/deployments/{id}/cancel.
func (c *Client) Cancel(ctx context.Context, token string, p platform.DeployProgress) error {
	if p.DeploymentID == "" {
		return platform.MissingStep(ID, "cancel the deployment", "a deployment")
	}
	_, err := c.call.Do(ctx, platform.Request{Op: "cancel deployment", Method: http.MethodPatch,
		Path: "/v12/deployments/" + url.PathEscape(p.DeploymentID) + "/cancel", Query: teamQuery(p.Get(extraTeamID)),
		Token: token, Idempotent: true})
	return err
}

// Rollback makes toDeploymentID the project's production deployment again.
//
// Vercel has two calls for it (PLATFORMS.md "Rollback vs promote"): an
// instant rollback, POST /v1/projects/{projectId}/rollback/{deploymentId}
// (@vercel/sdk src/funcs/projectsRequestRollback.ts), for a deployment that
// has served production, and promote, POST /v10/projects/{projectId}/
// promote/{deploymentId}, for a production deployment that never has.
// Which one is decided from what Vercel reports of the deployment
// (GET /v13/deployments/{id}): readySubstate PROMOTED or ROLLING has served
// production (vercel-openapi.json: "Tracks whether or not deployment has
// seen production traffic"); STAGED has not. Without a readySubstate, a
// production deployment whose aliases were assigned served production.
// Switchboard's own record agrees: it only rolls back to a deployment it
// saw ready, and a Vercel deployment is ready for it only once its
// production aliases were assigned.
func (c *Client) Rollback(ctx context.Context, token string, p platform.DeployProgress, toDeploymentID string) error {
	if p.ProjectID == "" || toDeploymentID == "" {
		return platform.MissingStep(ID, "roll back", "the project and the deployment to go back to")
	}
	target := p
	target.DeploymentID = toDeploymentID
	d, err := c.getDeployment(ctx, token, target)
	if err != nil {
		return err
	}
	path := "/v10/projects/" + url.PathEscape(p.ProjectID) + "/promote/" + url.PathEscape(toDeploymentID)
	op := "promote"
	if servedProduction(d) {
		path = "/v1/projects/" + url.PathEscape(p.ProjectID) + "/rollback/" + url.PathEscape(toDeploymentID)
		op = "roll back"
	}
	_, err = c.call.Do(ctx, platform.Request{Op: op, Method: http.MethodPost, Path: path,
		Query: teamQuery(p.Get(extraTeamID)), Token: token, Idempotent: true})
	return err
}

// servedProduction reports whether Vercel says the deployment has served
// production traffic.
func servedProduction(d deployment) bool {
	switch d.ReadySubstate {
	case "PROMOTED", "ROLLING":
		return true
	case "STAGED":
		return false
	}
	return d.Target == "production" && d.AliasAssigned
}

// MissingFilesError is the digests Vercel lacks (400 missing_files); it is
// the Err of the *platform.Error.
type MissingFilesError struct{ Digests []string }

func (e *MissingFilesError) Error() string {
	return fmt.Sprintf("%d files are missing", len(e.Digests))
}

// refine reads {"error":{"code","message",...}}.
func (c *Client) refine(e *platform.Error, body []byte) {
	if e.Status < 300 {
		return
	}
	var b struct {
		Error *struct {
			Code         string   `json:"code"`
			Message      string   `json:"message"`
			Missing      []string `json:"missing"`
			InvalidToken bool     `json:"invalidToken"`
			Limit        *struct {
				Remaining int64 `json:"remaining"`
				Reset     int64 `json:"reset"`
				Total     int64 `json:"total"`
			} `json:"limit"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &b) != nil || b.Error == nil {
		return
	}
	e.Code, e.Message = b.Error.Code, b.Error.Message
	switch {
	case b.Error.InvalidToken || e.Status == http.StatusUnauthorized || b.Error.Code == "invalid_token" || b.Error.Code == "not_authorized":
		e.Reason = platform.ReasonExpiredToken
	case b.Error.Code == "rate_limited" || e.Status == http.StatusTooManyRequests:
		e.Reason = platform.ReasonRateLimited
		if e.RetryAfter == 0 && b.Error.Limit != nil && b.Error.Limit.Reset > 0 {
			if d := time.Unix(b.Error.Limit.Reset, 0).Sub(c.now()); d > 0 {
				e.RetryAfter = d
			} else {
				e.RetryAfter = time.Second
			}
		}
	case b.Error.Code == "forbidden":
		e.Reason = platform.ReasonPermission
	case b.Error.Code == "missing_files":
		e.Reason = platform.ReasonInvalid
		e.Err = &MissingFilesError{Digests: b.Error.Missing}
	case b.Error.Code == "not_found":
		e.Reason = platform.ReasonNotFound
	case e.Status == http.StatusPaymentRequired:
		e.Reason = platform.ReasonNotEligible
	}
}
