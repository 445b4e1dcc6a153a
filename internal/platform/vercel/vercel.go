// Package vercel deploys generated projects to Vercel through its REST API
// (https://api.vercel.com): files by SHA-1 digest, then a deployment.
//
// The calls and their order follow shared/specs/PLATFORMS.md and Vercel's
// published OpenAPI description (shared/specs/vercel-openapi.json); the
// tests check every request against that description. Rollback uses the
// description's promote operation (POST /v10/projects/{projectId}/promote/
// {deploymentId}): the CLI's /v1/projects/{id}/rollback/{deploymentId} is
// not in the published description, and promoting an earlier production
// deployment is what a rollback does.
package vercel

import (
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
// asks to keep it near 10.
const DefaultUploadConcurrency = 10

// Progress keys this client records in DeployProgress.Extra.
const (
	extraTeamID   = "teamId"          // the team the project lives in; every later call names it
	extraUploaded = "vercel.uploaded" // "1" once every file was uploaded
)

// Client is a platform.Deployer for Vercel.
type Client struct {
	call        *platform.Caller
	concurrency int
	now         func() time.Time
}

var _ platform.Deployer = (*Client)(nil)

// Option changes a Client.
type Option func(*Client)

// WithUploadConcurrency bounds how many files are uploaded at once.
func WithUploadConcurrency(n int) Option {
	return func(c *Client) {
		if n > 0 {
			c.concurrency = n
		}
	}
}

// New builds a client; apiURL "" is https://api.vercel.com.
func New(httpClient *http.Client, apiURL string, opts ...Option) *Client {
	if apiURL == "" {
		apiURL = platform.DefaultAPIURL(platform.Vercel)
	}
	c := &Client{concurrency: DefaultUploadConcurrency, now: time.Now}
	c.call = &platform.Caller{
		Platform: platform.Vercel,
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
		return &platform.Error{Platform: platform.Vercel, Op: "validate project name", Reason: platform.ReasonInvalid,
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
	if err := platform.CheckDeploySpec(platform.Vercel, spec); err != nil {
		return err
	}
	if err := ValidateProjectName(spec.ProjectName); err != nil {
		return err
	}
	unsupported := func(msg string) error {
		return &platform.Error{Platform: platform.Vercel, Op: "validate deployment", Reason: platform.ReasonUnsupported, Message: msg}
	}
	switch {
	case spec.Repo != "":
		return unsupported("Vercel deploys a Git repository only through its Git integration, connected in Vercel's dashboard; give the project's files")
	case spec.Image != "":
		return unsupported("Vercel does not run container images; give the project's files")
	case spec.Database != "":
		return unsupported("Vercel offers databases through Marketplace integrations, which its public API does not provision with a deployment")
	case len(spec.Files) > MaxFiles:
		return &platform.Error{Platform: platform.Vercel, Op: "validate deployment", Reason: platform.ReasonInvalid,
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

// projectExists asks GET /v9/projects/{name}: 404 means the name is free.
func (c *Client) projectID(ctx context.Context, token, teamID, name string) (id string, found bool, err error) {
	var out struct {
		ID string `json:"id"`
	}
	_, err = c.call.Do(ctx, platform.Request{Op: "read project", Method: http.MethodGet,
		Path: "/v9/projects/" + url.PathEscape(name), Query: teamQuery(teamID), Token: token, Out: &out, Idempotent: true})
	if platform.ReasonOf(err) == platform.ReasonNotFound {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return out.ID, true, nil
}

// CheckName: a name is free when GET /v9/projects/{name} answers 404;
// otherwise name-2, name-3, ... are tried (at most 10 look-ups in all). A
// name Vercel's rule refuses is not available; its cleaned-up form is
// suggested.
func (c *Client) CheckName(ctx context.Context, token, teamID, name string) (bool, string, error) {
	free := func(candidate string) (bool, error) {
		_, found, err := c.projectID(ctx, token, teamID, candidate)
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

// EnsureProject creates the project (POST /v11/projects) unless
// p.ProjectID is set. A project of the same name that exists already in
// the scope (a retry whose first answer was lost, or a redeploy) is
// adopted: the deployment goes to it.
func (c *Client) EnsureProject(ctx context.Context, token string, spec platform.DeploySpec, p *platform.DeployProgress) error {
	p.Set(extraTeamID, spec.TeamID)
	if p.ProjectID != "" {
		return nil
	}
	body := map[string]any{"name": spec.ProjectName}
	if spec.Framework != "" {
		body["framework"] = spec.Framework
	}
	var out struct {
		ID string `json:"id"`
	}
	_, err := c.call.Do(ctx, platform.Request{Op: "create project", Method: http.MethodPost, Path: "/v11/projects",
		Query: teamQuery(spec.TeamID), Token: token, JSON: body, Out: &out})
	if platform.ReasonOf(err) == platform.ReasonConflict {
		id, found, gerr := c.projectID(ctx, token, spec.TeamID, spec.ProjectName)
		if gerr != nil {
			return gerr
		}
		if !found {
			return err
		}
		out.ID = id
	} else if err != nil {
		return err
	}
	if out.ID == "" {
		return &platform.Error{Platform: platform.Vercel, Op: "create project", Reason: platform.ReasonTransient, Message: "the answer named no project id"}
	}
	p.ProjectID = out.ID
	return nil
}

// ProvisionDatabase: Vercel provisions no database through this API
// (Validate refuses a spec asking for one).
func (c *Client) ProvisionDatabase(_ context.Context, _ string, spec platform.DeploySpec, _ *platform.DeployProgress) (string, error) {
	if spec.Database == "" {
		return "", nil
	}
	return "", &platform.Error{Platform: platform.Vercel, Op: "provision database", Reason: platform.ReasonUnsupported,
		Message: "Vercel offers databases through Marketplace integrations, which its public API does not provision with a deployment"}
}

// SetEnv upserts the variables (POST /v10/projects/{id}/env?upsert=true),
// encrypted, for every target, before the first build.
func (c *Client) SetEnv(ctx context.Context, token string, spec platform.DeploySpec, p *platform.DeployProgress) error {
	if len(spec.Env) == 0 {
		return nil
	}
	if p.ProjectID == "" {
		return missingStep("set environment variables", "the project")
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
		vars = append(vars, envVar{Key: k, Value: spec.Env[k], Type: "encrypted", Target: []string{"production", "preview", "development"}})
	}
	q := teamQuery(p.Get(extraTeamID))
	q.Set("upsert", "true")
	_, err := c.call.Do(ctx, platform.Request{Op: "set environment variables", Method: http.MethodPost,
		Path: "/v10/projects/" + url.PathEscape(p.ProjectID) + "/env", Query: q, Token: token, JSON: vars, Idempotent: true})
	return err
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

// Upload sends every distinct file (POST /v2/files, raw body, named by
// x-vercel-digest) with bounded concurrency. Vercel keeps files by digest,
// so uploading one again is harmless; a finished upload is recorded in p
// and not repeated.
func (c *Client) Upload(ctx context.Context, token string, spec platform.DeploySpec, p *platform.DeployProgress) error {
	if len(spec.Files) == 0 || p.Get(extraUploaded) == "1" {
		return nil
	}
	files := digest(spec.Files)
	if err := c.uploadDigests(ctx, token, p.Get(extraTeamID), files, nil); err != nil {
		return err
	}
	p.Set(extraUploaded, "1")
	return nil
}

// uploadDigests uploads the files whose digest is in only (all when nil),
// each distinct digest once, at most c.concurrency at a time.
func (c *Client) uploadDigests(ctx context.Context, token, teamID string, files []digested, only map[string]bool) error {
	byDigest := map[string][]byte{}
	var order []string
	for _, f := range files {
		if only != nil && !only[f.sha] {
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
		return firstErr
	}
	return ctx.Err()
}

// deployment is the part of a deployment answer this client reads.
type deployment struct {
	ID           string   `json:"id"`
	URL          string   `json:"url"`
	ReadyState   string   `json:"readyState"`
	Alias        []string `json:"alias"`
	ErrorCode    string   `json:"errorCode"`
	ErrorMessage string   `json:"errorMessage"`
}

// StartDeployment creates the production deployment (POST
// /v13/deployments) from the uploaded files, unless p.DeploymentID is set.
// When Vercel answers 400 missing_files, the files it lists are uploaded
// and the deployment is asked for once more.
func (c *Client) StartDeployment(ctx context.Context, token string, spec platform.DeploySpec, p *platform.DeployProgress) error {
	if p.DeploymentID != "" {
		return nil
	}
	if p.ProjectID == "" {
		return missingStep("start the deployment", "the project")
	}
	files := digest(spec.Files)
	type fileRef struct {
		File string `json:"file"`
		SHA  string `json:"sha"`
		Size int    `json:"size"`
	}
	refs := make([]fileRef, len(files))
	for i, f := range files {
		refs[i] = fileRef{File: f.path, SHA: f.sha, Size: len(f.data)}
	}
	body := map[string]any{"name": spec.ProjectName, "project": p.ProjectID, "target": "production", "files": refs}
	teamID := p.Get(extraTeamID)
	q := teamQuery(teamID)
	q.Set("skipAutoDetectionConfirmation", "1")
	var out deployment
	req := platform.Request{Op: "create deployment", Method: http.MethodPost, Path: "/v13/deployments",
		Query: q, Token: token, JSON: body, Out: &out}
	_, err := c.call.Do(ctx, req)
	var missing *MissingFilesError
	if errors.As(err, &missing) {
		only := map[string]bool{}
		for _, d := range missing.Digests {
			only[d] = true
		}
		if err := c.uploadDigests(ctx, token, teamID, files, only); err != nil {
			return err
		}
		_, err = c.call.Do(ctx, req)
	}
	if err != nil {
		return err
	}
	p.DeploymentID = out.ID
	if out.URL != "" {
		p.URL = "https://" + out.URL
	}
	p.Set(extraUploaded, "1")
	return nil
}

func (c *Client) getDeployment(ctx context.Context, token string, p platform.DeployProgress) (deployment, error) {
	var out deployment
	if p.DeploymentID == "" {
		return out, missingStep("read the deployment", "a deployment")
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

// Status reads GET /v13/deployments/{id}.
func (c *Client) Status(ctx context.Context, token string, p platform.DeployProgress) (platform.DeployState, error) {
	d, err := c.getDeployment(ctx, token, p)
	if err != nil {
		return platform.DeployState{}, err
	}
	st := platform.DeployState{Status: StatusOf(d.ReadyState), PlatformState: d.ReadyState, URL: p.URL}
	if d.URL != "" {
		st.URL = "https://" + d.URL
	}
	if st.Status == platform.DeployReady && len(d.Alias) > 0 {
		st.URL = "https://" + d.Alias[0]
	}
	if st.Status == platform.DeployError {
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
		return nil, after, missingStep("read build logs", "a deployment")
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
			return nil, after, &platform.Error{Platform: platform.Vercel, Op: "read build logs", Reason: platform.ReasonInvalid, Message: "the log cursor is not one this client gave"}
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
		return missingStep("cancel the deployment", "a deployment")
	}
	_, err := c.call.Do(ctx, platform.Request{Op: "cancel deployment", Method: http.MethodPatch,
		Path: "/v12/deployments/" + url.PathEscape(p.DeploymentID) + "/cancel", Query: teamQuery(p.Get(extraTeamID)),
		Token: token, Idempotent: true})
	return err
}

// Rollback promotes an earlier deployment of the project to production
// (POST /v10/projects/{projectId}/promote/{deploymentId}).
func (c *Client) Rollback(ctx context.Context, token string, p platform.DeployProgress, toDeploymentID string) error {
	if p.ProjectID == "" || toDeploymentID == "" {
		return missingStep("roll back", "the project and the deployment to go back to")
	}
	_, err := c.call.Do(ctx, platform.Request{Op: "roll back", Method: http.MethodPost,
		Path:  "/v10/projects/" + url.PathEscape(p.ProjectID) + "/promote/" + url.PathEscape(toDeploymentID),
		Query: teamQuery(p.Get(extraTeamID)), Token: token, Idempotent: true})
	return err
}

func missingStep(op, what string) error {
	return &platform.Error{Platform: platform.Vercel, Op: op, Reason: platform.ReasonInvalid,
		Message: what + " is not known yet: an earlier step has not run"}
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
