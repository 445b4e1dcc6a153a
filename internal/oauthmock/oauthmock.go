// Package oauthmock runs Switchboard's OAuth 2.0 authorization server for
// end-to-end tests and make dev: infra/oauth-mock/server.mjs, the npm package
// oauth2-mock-server (pinned by infra/oauth-mock/package-lock.json) wrapped
// with per-client behaviour, refresh token bookkeeping, revocation, failure
// injection and stats. Start installs the node dependencies with npm ci when
// they are missing or older than the lock, starts node on loopback and waits
// for its ready line; the typed methods of Server drive the /__control/
// endpoints.
package oauthmock

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/switchboard-dev/switchboard/internal/dynamolocal"
	"github.com/switchboard-dev/switchboard/internal/npmci"
)

// Dir is where the server and its package files live, from the repository root.
const Dir = "infra/oauth-mock"

// Options tune Start. The zero value is fine.
type Options struct {
	RepoRoot string        // where infra/ lives; found from the working directory when empty
	Port     int           // 0 lets the server pick a free port
	Log      io.Writer     // node's stderr, npm's output and one line per request; nil keeps them for errors only
	Wait     time.Duration // how long to wait for the ready line; 30s when zero
}

// Server is a running authorization server.
type Server struct {
	URL string // http://127.0.0.1:PORT, also the issuer

	cmd    *exec.Cmd
	done   chan struct{}
	err    error // how node ended; read after done is closed
	stderr *tailBuffer
	http   *http.Client
	stop   sync.Once
}

// Start installs the node dependencies if needed, starts the server and
// waits until it prints its URL. The process dies with its parent
// (Pdeathsig), so a killed test binary leaves no node behind.
func Start(ctx context.Context, opt Options) (*Server, error) {
	root := opt.RepoRoot
	if root == "" {
		var err error
		if root, err = dynamolocal.FindRepoRoot(); err != nil {
			return nil, fmt.Errorf("oauthmock: %w", err)
		}
	}
	dir := filepath.Join(root, Dir)
	if err := npmci.Ensure(ctx, dir, "oauth2-mock-server", opt.Log); err != nil {
		return nil, err
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("oauthmock: node (20.19 or later) is needed to run the OAuth mock: %w", err)
	}
	if opt.Port < 0 || opt.Port > 65535 {
		return nil, fmt.Errorf("oauthmock: port %d out of range", opt.Port)
	}
	args := []string{filepath.Join(dir, "server.mjs"), "--port", strconv.Itoa(opt.Port)}
	if opt.Log != nil {
		args = append(args, "--log-requests")
	}
	cmd := exec.Command(node, args...)
	cmd.Dir = dir
	stderr := &tailBuffer{max: 16 << 10}
	if opt.Log != nil {
		cmd.Stderr = io.MultiWriter(stderr, opt.Log)
	} else {
		cmd.Stderr = stderr
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("oauthmock: %w", err)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("oauthmock: starting node: %w", err)
	}
	s := &Server{
		cmd:    cmd,
		done:   make(chan struct{}),
		stderr: stderr,
		http:   &http.Client{Timeout: 30 * time.Second},
	}

	ready := make(chan string, 1)
	go func() {
		r := bufio.NewReader(stdout)
		line, err := r.ReadString('\n')
		if err == nil {
			ready <- line
		}
		_, _ = io.Copy(io.Discard, r) // keep the pipe drained
		// Wait after the pipe is drained, as os/exec asks.
		s.err = cmd.Wait()
		close(s.done)
	}()

	wait := opt.Wait
	if wait == 0 {
		wait = 30 * time.Second
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case line := <-ready:
		var hello struct {
			URL string `json:"url"`
		}
		if err := json.Unmarshal([]byte(line), &hello); err != nil || !strings.HasPrefix(hello.URL, "http://127.0.0.1:") {
			s.Stop()
			return nil, fmt.Errorf("oauthmock: unexpected ready line %q from server.mjs%s", strings.TrimSpace(line), s.stderrTail())
		}
		s.URL = hello.URL
		return s, nil
	case <-s.done:
		return nil, fmt.Errorf("oauthmock: server.mjs exited before it was ready (%v)%s", s.err, s.stderrTail())
	case <-ctx.Done():
		s.Stop()
		return nil, fmt.Errorf("oauthmock: waiting for server.mjs: %w", ctx.Err())
	case <-timer.C:
		s.Stop()
		return nil, fmt.Errorf("oauthmock: server.mjs printed no ready line within %s%s", wait, s.stderrTail())
	}
}

// Stop ends the server and waits for it. It is safe to call more than once.
func (s *Server) Stop() {
	if s == nil || s.cmd == nil || s.cmd.Process == nil {
		return
	}
	s.stop.Do(func() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	})
}

func (s *Server) stderrTail() string {
	t := strings.TrimSpace(s.stderr.String())
	if t == "" {
		return ""
	}
	return "; node said:\n" + t
}

// The endpoints, as the library serves them.

func (s *Server) AuthorizeURL() string { return s.URL + "/authorize" }
func (s *Server) TokenURL() string     { return s.URL + "/token" }
func (s *Server) RevokeURL() string    { return s.URL + "/revoke" }
func (s *Server) UserinfoURL() string  { return s.URL + "/userinfo" }
func (s *Server) JWKSURL() string      { return s.URL + "/jwks" }

// Issuer is the iss of the tokens and of the discovery document.
func (s *Server) Issuer() string { return s.URL }

// AuthStyle is how a client must authenticate at the token endpoint.
type AuthStyle string

const (
	AuthAny   AuthStyle = "any"   // HTTP Basic, client_secret in the body, or none
	AuthBasic AuthStyle = "basic" // HTTP Basic only (Zoom, Railway, Restream)
	AuthBody  AuthStyle = "body"  // client_id and client_secret in the form body only
)

// ClientConfig is how the server treats one client. Nil fields take the
// server's defaults; Bool makes the pointers.
type ClientConfig struct {
	// RotateRefresh (default true): every refresh answers a new refresh
	// token and the old one dies. False: the answer repeats the same one.
	RotateRefresh *bool `json:"rotateRefresh,omitempty"`
	// RefreshOnRefresh (default true). False is Google: the refresh answer
	// carries no refresh_token and the old one stays valid.
	RefreshOnRefresh *bool `json:"refreshOnRefresh,omitempty"`
	// IssueRefresh (default true). False: no refresh tokens at all (Meta,
	// Vercel).
	IssueRefresh *bool `json:"issueRefresh,omitempty"`
	// AccessTTL is the access token's lifetime, whole seconds; 3600s when zero.
	AccessTTL time.Duration `json:"-"`
	// ClientSecret, when set, must authenticate every token request.
	ClientSecret string `json:"clientSecret,omitempty"`
	// AuthStyle (AuthAny when empty): a mismatch answers 401 invalid_client.
	AuthStyle AuthStyle `json:"authStyle,omitempty"`
	// Extra fields go into every token answer (Vercel's installation_id,
	// team_id, user_id).
	Extra map[string]any `json:"extra,omitempty"`
	// LongLivedExchange accepts Facebook's grant_type=fb_exchange_token (GET
	// or POST) and answers a 60-day bearer token; it also lets the token
	// endpoint take Facebook's GET code exchange without grant_type.
	LongLivedExchange bool `json:"longLivedExchange,omitempty"`
	// RevokeGrant: revoking any token ends the whole grant, so every token
	// issued to the client dies (the mock has one user). Google's revoke
	// does this: "Revokes all of the scopes that the user granted to the
	// app" (developers.google.com/identity/oauth2/web/reference/js-reference).
	RevokeGrant bool `json:"revokeGrant,omitempty"`
	// DeclineLoginHint, when set, makes an authorize request whose
	// login_hint equals it declined: the redirect carries
	// error=access_denied and no code, as a user's "Cancel" does.
	DeclineLoginHint string `json:"declineLoginHint,omitempty"`
	// WithholdLoginHint, when set, makes an authorize request whose
	// login_hint equals it approved without WithheldScopes: the token
	// answer's scope lists only what was granted, as when a user unticks
	// scopes on Google's granular consent screen.
	WithholdLoginHint string   `json:"withholdLoginHint,omitempty"`
	WithheldScopes    []string `json:"withheldScopes,omitempty"`
	// ResponseIss sends RFC 9207's iss with every authorization response:
	// IssuerOfServer for the server's own issuer, any other value as it is
	// (a wrong issuer, for tests); empty sends none.
	ResponseIss string `json:"responseIss,omitempty"`
}

// IssuerOfServer, as ClientConfig.ResponseIss, sends the server's own
// issuer identifier.
const IssuerOfServer = "issuer"

// Bool returns a pointer to v, for ClientConfig's optional booleans.
func Bool(v bool) *bool { return &v }

// MarshalJSON sends AccessTTL as whole seconds.
func (c ClientConfig) MarshalJSON() ([]byte, error) {
	type plain ClientConfig
	var ttl *int64
	if c.AccessTTL != 0 {
		if c.AccessTTL < time.Second || c.AccessTTL%time.Second != 0 {
			return nil, fmt.Errorf("oauthmock: AccessTTL %s is not a whole number of seconds", c.AccessTTL)
		}
		n := int64(c.AccessTTL / time.Second)
		ttl = &n
	}
	return json.Marshal(struct {
		plain
		AccessTTL *int64 `json:"accessTTL,omitempty"`
	}{plain(c), ttl})
}

// Failure makes the next Count token requests that match Grant (and
// ClientID when set) fail with Status and Error.
type Failure struct {
	Grant       string        `json:"grant"`              // "authorization_code", "refresh_token", "fb_exchange_token", ... or "*"
	ClientID    string        `json:"clientId,omitempty"` // only this client's requests when set
	Status      int           `json:"status"`             // 400..599
	Error       string        `json:"error,omitempty"`    // defaults by status: invalid_grant, server_error, temporarily_unavailable
	Description string        `json:"description,omitempty"`
	Count       int           `json:"count,omitempty"` // 1 when zero
	RetryAfter  time.Duration `json:"-"`               // whole seconds, sent as Retry-After
}

// MarshalJSON sends RetryAfter as whole seconds.
func (f Failure) MarshalJSON() ([]byte, error) {
	type plain Failure
	var ra *int64
	if f.RetryAfter != 0 {
		if f.RetryAfter < 0 || f.RetryAfter%time.Second != 0 {
			return nil, fmt.Errorf("oauthmock: RetryAfter %s is not a whole number of seconds", f.RetryAfter)
		}
		n := int64(f.RetryAfter / time.Second)
		ra = &n
	}
	if f.Grant == "" {
		f.Grant = "*"
	}
	return json.Marshal(struct {
		plain
		RetryAfter *int64 `json:"retryAfter,omitempty"`
	}{plain(f), ra})
}

// Stats is what the server saw since it started or was last reset.
type Stats struct {
	TokenRequests     TokenRequests      `json:"tokenRequests"`
	PKCE              PKCEStats          `json:"pkce"`
	ClientAuth        ClientAuthStats    `json:"clientAuth"`
	Revocations       []Revocation       `json:"revocations"`
	Refreshes         []Refresh          `json:"refreshes"`
	AuthorizeRequests []AuthorizeRequest `json:"authorizeRequests"`
}

// TokenRequests counts token requests by grant_type, failed ones included.
type TokenRequests struct {
	AuthorizationCode int `json:"authorization_code"`
	RefreshToken      int `json:"refresh_token"`
	FBExchangeToken   int `json:"fb_exchange_token"`
	ClientCredentials int `json:"client_credentials"`
	Password          int `json:"password"`
}

// PKCEStats counts code exchanges whose authorize request had a challenge.
type PKCEStats struct {
	Verified        int `json:"verified"`        // the verifier matched
	MissingVerifier int `json:"missingVerifier"` // no verifier: refused
}

// ClientAuthStats counts token requests by how the client authenticated.
type ClientAuthStats struct {
	Basic int `json:"basic"`
	Body  int `json:"body"`
	None  int `json:"none"` // client_id only (a public client)
}

// Revocation is one request to the revocation endpoint.
type Revocation struct {
	Token         string `json:"token"`
	TokenTypeHint string `json:"tokenTypeHint"`
	ClientID      string `json:"clientId"`
	Via           string `json:"via"`       // "form", "json" or "query"
	TokenKind     string `json:"tokenKind"` // "refresh_token", "access_token" or "unknown"
}

// Refresh is one refresh_token grant that reached the refresh token check.
type Refresh struct {
	ClientID     string    `json:"clientId"`
	RefreshToken string    `json:"refreshToken"`
	At           time.Time `json:"at"`
	OK           bool      `json:"ok"` // false: answered invalid_grant
}

// AuthorizeRequest is one GET /authorize.
type AuthorizeRequest struct {
	ClientID            string            `json:"clientId"`
	RedirectURI         string            `json:"redirectUri"`
	Scope               string            `json:"scope"`
	State               string            `json:"state"`
	CodeChallengeMethod string            `json:"codeChallengeMethod"`
	HasCodeChallenge    bool              `json:"hasCodeChallenge"`
	Params              map[string]string `json:"params"`
}

// ConfigureClients sets the behaviour of the named clients, each replacing
// that client's earlier configuration; other clients keep theirs. Clients
// never configured get the defaults.
func (s *Server) ConfigureClients(ctx context.Context, clients map[string]ClientConfig) error {
	return s.control(ctx, http.MethodPost, "/__control/clients", clients, nil)
}

// Fail queues a failure for the next matching token requests.
func (s *Server) Fail(ctx context.Context, f Failure) error {
	return s.control(ctx, http.MethodPost, "/__control/fail", f, nil)
}

// KillRefresh kills one refresh token, as a user revoking the app would; it
// is an error when the server never issued it.
func (s *Server) KillRefresh(ctx context.Context, token string) error {
	return s.control(ctx, http.MethodPost, "/__control/kill-refresh", map[string]string{"token": token}, nil)
}

// Delay holds every token answer for d (0 ends it), rounded down to the
// millisecond.
func (s *Server) Delay(ctx context.Context, d time.Duration) error {
	return s.DelayClient(ctx, "", d)
}

// DelayClient holds one client's token answers for d (0 ends it).
func (s *Server) DelayClient(ctx context.Context, clientID string, d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("oauthmock: negative delay %s", d)
	}
	body := map[string]any{"ms": d.Milliseconds()}
	if clientID != "" {
		body["clientId"] = clientID
	}
	return s.control(ctx, http.MethodPost, "/__control/delay", body, nil)
}

// Reset forgets stats, queued failures, delays and client configuration.
// Codes and tokens already issued stay as they are.
func (s *Server) Reset(ctx context.Context) error {
	return s.control(ctx, http.MethodPost, "/__control/reset", struct{}{}, nil)
}

// Stats reads what the server saw, for every client.
func (s *Server) Stats(ctx context.Context) (Stats, error) {
	var st Stats
	err := s.control(ctx, http.MethodGet, "/__control/stats", nil, &st)
	return st, err
}

// ClientStats reads what the server saw of one client only, so tests that
// share a server and use their own client ids do not see each other.
func (s *Server) ClientStats(ctx context.Context, clientID string) (Stats, error) {
	var st Stats
	err := s.control(ctx, http.MethodGet, "/__control/stats?client="+url.QueryEscape(clientID), nil, &st)
	return st, err
}

func (s *Server) control(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("oauthmock: %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.URL+path, body)
	if err != nil {
		return fmt.Errorf("oauthmock: %w", err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return fmt.Errorf("oauthmock: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("oauthmock: %s %s: reading the answer: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("oauthmock: %s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(data)))
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("oauthmock: %s %s: decoding the answer: %w", method, path, err)
		}
	}
	return nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if len(b.buf) > b.max {
		b.buf = append(b.buf[:0], b.buf[len(b.buf)-b.max:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
