package e2e_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/infra/sandbox"
	"github.com/switchboard-dev/switchboard/internal/dynamotest"
	"github.com/switchboard-dev/switchboard/internal/oauthmock"
)

// page is a browser without JavaScript on the connect page: it keeps the
// page's form token and posts its forms as a browser does (Origin, form
// encoding), following no redirect by itself.
type page struct {
	s    *stack
	link string
	csrf string
	body string
	code int
	hdr  http.Header
}

var noFollow = &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// newLink asks for a connect link as tenant's app.
func (s *stack) newLink(tenant string, body map[string]any) string {
	s.t.Helper()
	var out struct{ URL, ExpiresAt string }
	if r := s.call("POST", "/connect-sessions", tenant, body, &out); r.StatusCode != http.StatusCreated || out.URL == "" {
		s.t.Fatalf("POST /connect-sessions: %d %s", r.StatusCode, bodyOf(r))
	}
	return out.URL
}

func (p *page) open(u string) {
	p.s.t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Accept", "text/html")
	p.do(req)
}

func (p *page) do(req *http.Request) {
	p.s.t.Helper()
	resp, err := noFollow.Do(req)
	if err != nil {
		p.s.t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	p.body, p.code, p.hdr = string(raw), resp.StatusCode, resp.Header
	if i := strings.Index(p.body, `name="csrf" value="`); i >= 0 {
		rest := p.body[i+len(`name="csrf" value="`):]
		p.csrf = rest[:strings.Index(rest, `"`)]
	}
}

// post sends one of the page's forms; origin "" sends the page's own.
func (p *page) post(form url.Values, origin string) {
	p.s.t.Helper()
	if origin == "" {
		u, _ := url.Parse(p.link)
		origin = u.Scheme + "://" + u.Host
	}
	req, _ := http.NewRequest("POST", p.link, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	p.do(req)
}

// follow goes where a 303 or 302 leads, through the OAuth provider and the
// callback, until a page answers.
func (p *page) follow() {
	p.s.t.Helper()
	for i := 0; i < 10 && (p.code == http.StatusSeeOther || p.code == http.StatusFound); i++ {
		p.open(p.hdr.Get("Location"))
	}
}

func (p *page) must(code int, texts ...string) {
	p.s.t.Helper()
	if p.code != code {
		p.s.t.Fatalf("status %d, want %d: %s", p.code, code, p.body)
	}
	for _, s := range texts {
		if !strings.Contains(p.body, s) {
			p.s.t.Fatalf("the page does not say %q: %s", s, p.body)
		}
	}
}

func TestConnectPageConnectsAKeyAndAnOAuthPlatformAsTheLinksTenantOnly(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	p := &page{s: s, link: s.newLink("church-a", map[string]any{"platforms": []string{"render", "youtube"}})}
	p.open(p.link)
	p.must(200, "<h2 id=\"p-render\">Render</h2>", "Not connected", "Account Settings, API Keys", "Connect YouTube")
	csp := p.hdr.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "style-src 'sha256-", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self' " + s.sb.OAuth.URL} {
		if !strings.Contains(csp, want) {
			t.Fatalf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	if strings.Contains(p.body, "<script") || p.hdr.Get("Referrer-Policy") != "same-origin" {
		t.Fatalf("a script, or referrer policy %q", p.hdr.Get("Referrer-Policy"))
	}
	// A bad key: refused in words, nothing stored.
	p.post(url.Values{"csrf": {p.csrf}, "do": {"key"}, "platform": {"render"}, "cred.apiKey": {sandbox.InvalidKeyPrefix + "x"}}, "")
	p.must(422, "Render refused the credentials", `role="alert"`)
	if r := s.call("GET", "/connections/render", "church-a", nil, nil); r.StatusCode != 404 {
		t.Fatalf("a refused key was stored: %d", r.StatusCode)
	}
	// A good key: connected, said so.
	p.post(url.Values{"csrf": {p.csrf}, "do": {"key"}, "platform": {"render"}, "cred.apiKey": {"rnd_good"}}, "")
	p.follow()
	p.must(200, "Render is connected.", "Connected as")
	// OAuth through the sandbox's provider, back to the page.
	p.post(url.Values{"csrf": {p.csrf}, "do": {"oauth"}, "platform": {"youtube"}}, "")
	if p.code != http.StatusSeeOther || !strings.HasPrefix(p.hdr.Get("Location"), s.sb.OAuth.URL) {
		t.Fatalf("connect YouTube: %d to %q", p.code, p.hdr.Get("Location"))
	}
	// The flow under way goes back to the page, whose token opens it: no
	// item holds the token readable (the OAuth state keeps the link sealed).
	token := p.link[strings.LastIndex(p.link, "/")+1:]
	for _, it := range dynamotest.Items(t, dynamotest.Client(os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")), s.table) {
		if raw, _ := json.Marshal(it); strings.Contains(string(raw), token) {
			t.Fatalf("an item holds the connect link's token: %s", raw)
		}
	}
	p.follow()
	p.must(200, "YouTube is connected.", "Reconnect YouTube", "Disconnect YouTube")
	var c connectionBody
	if r := s.call("GET", "/connections/youtube", "church-a", nil, &c); r.StatusCode != 200 || c.Status != "connected" {
		t.Fatalf("youtube: %d %+v", r.StatusCode, c)
	}
	// Another tenant's link never shows church-a's connections.
	other := &page{s: s, link: s.newLink("church-b", map[string]any{})}
	other.open(other.link)
	other.must(200, "<h2 id=\"p-render\">Render</h2>")
	if strings.Contains(other.body, "Connected as") || strings.Contains(other.body, "Disconnect") {
		t.Fatalf("church-b's page shows a connection: %s", other.body)
	}
	// Disconnect from the page, then Done: the link is closed for good.
	p.post(url.Values{"csrf": {p.csrf}, "do": {"disconnect"}, "platform": {"render"}}, "")
	p.follow()
	p.must(200, "Render is disconnected.")
	p.post(url.Values{"csrf": {p.csrf}, "do": {"done"}}, "")
	p.must(200, "All done", "You can close this window")
	p.open(p.link)
	p.must(http.StatusGone, "already used")
}

func TestConnectPageRefusesForeignFormsAndUnknownOrOfferedElsewherePlatforms(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	p := &page{s: s, link: s.newLink("church-a", map[string]any{"platforms": []string{"render"}})}
	p.open(p.link)
	good := p.csrf
	for name, c := range map[string]struct {
		form   url.Values
		origin string
		code   int
	}{
		"no form token":          {url.Values{"do": {"key"}, "platform": {"render"}, "cred.apiKey": {"rnd_x"}}, "", 403},
		"a wrong token":          {url.Values{"csrf": {"x" + good}, "do": {"key"}, "platform": {"render"}, "cred.apiKey": {"rnd_x"}}, "", 403},
		"another origin":         {url.Values{"csrf": {good}, "do": {"key"}, "platform": {"render"}, "cred.apiKey": {"rnd_x"}}, "https://evil.example", 403},
		"a null origin":          {url.Values{"csrf": {good}, "do": {"key"}, "platform": {"render"}, "cred.apiKey": {"rnd_x"}}, "null", 403},
		"a platform not offered": {url.Values{"csrf": {good}, "do": {"key"}, "platform": {"vercel"}, "cred.token": {"x"}}, "", 404},
	} {
		p.post(c.form, c.origin)
		if p.code != c.code || !strings.Contains(p.body, "<h1>") {
			t.Errorf("%s: %d, want %d: %s", name, p.code, c.code, p.body)
		}
	}
	for _, pl := range []string{"render", "vercel"} {
		if r := s.call("GET", "/connections/"+pl, "church-a", nil, nil); r.StatusCode != 404 {
			t.Fatalf("a refused form connected %s: %d", pl, r.StatusCode)
		}
	}
	// A link that was never made, and a bad create.
	p.open(s.gw.URL + "/connect/nope")
	p.must(404, "not valid")
	if r := s.call("POST", "/connect-sessions", "church-a", map[string]any{"platforms": []string{"myspace"}}, nil); r.StatusCode != 400 {
		t.Fatalf("unknown platform: %d", r.StatusCode)
	}
	if r := s.call("POST", "/connect-sessions", "church-a", map[string]any{"expiresInSeconds": 7200}, nil); r.StatusCode != 400 {
		t.Fatalf("two hours: %d", r.StatusCode)
	}
}

func TestConnectPageChoosesTheFacebookPageAndDeclinedOrUntickedConsentsAreSaid(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	p := &page{s: s, link: s.newLink("church-a", map[string]any{"platforms": []string{"facebook", "youtube"}})}
	p.open(p.link)
	// Declined at the provider: said in words, nothing connected.
	p.post(url.Values{"csrf": {p.csrf}, "do": {"oauth"}, "platform": {"youtube"}}, "")
	p.hdr.Set("Location", p.hdr.Get("Location")+"&login_hint="+sandbox.DeclineLoginHint)
	p.follow()
	p.must(200, "You did not allow the app to use YouTube")
	// Scopes unticked: stored in error naming them, the page offers to reconnect.
	p.post(url.Values{"csrf": {p.csrf}, "do": {"oauth"}, "platform": {"youtube"}}, "")
	p.hdr.Set("Location", p.hdr.Get("Location")+"&login_hint="+sandbox.WithholdLoginHint)
	p.follow()
	p.must(200, "without all the permissions", "Needs attention", "https://www.googleapis.com/auth/youtube", "Reconnect YouTube")
	var c connectionBody
	if r := s.call("GET", "/connections/youtube", "church-a", nil, &c); r.StatusCode != 200 || c.Status != "error" || c.LastError == nil || c.LastError.Code != "missing_scopes" {
		t.Fatalf("youtube after unticked scopes: %d %+v %+v", r.StatusCode, c, c.LastError)
	}
	// Facebook: connect, then choose the Page.
	p.post(url.Values{"csrf": {p.csrf}, "do": {"oauth"}, "platform": {"facebook"}}, "")
	p.follow()
	p.must(200, "Facebook is connected.", "Choose the Page to use", "Grace Church")
	p.post(url.Values{"csrf": {p.csrf}, "do": {"choose"}, "platform": {"facebook"}, "choice": {"999"}}, "")
	p.must(400, "is not a Page this account can use")
	p.post(url.Values{"csrf": {p.csrf}, "do": {"choose"}, "platform": {"facebook"}, "choice": {sandbox.FacebookPage}}, "")
	p.follow()
	p.must(200, "Facebook will use what you chose.", `value="`+sandbox.FacebookPage+`" checked`)
	var fb struct{ DefaultWorkspaceID string }
	if r := s.call("GET", "/connections/facebook", "church-a", nil, &fb); r.StatusCode != 200 || fb.DefaultWorkspaceID != sandbox.FacebookPage {
		t.Fatalf("facebook's default: %d %+v", r.StatusCode, fb)
	}
}

func TestOAuthCallbackForAPersonIsAPageAndAReloadSaysConnected(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	var start struct{ AuthorizeURL string }
	if r := s.call("POST", "/connections/zoom/oauth", "church-a", nil, &start); r.StatusCode != 200 {
		t.Fatalf("start: %d %s", r.StatusCode, bodyOf(r))
	}
	p := &page{s: s}
	p.open(start.AuthorizeURL)
	callback := p.hdr.Get("Location")
	if !strings.Contains(callback, "iss=") {
		t.Fatalf("the provider sent no iss: %s", callback)
	}
	p.follow()
	p.must(200, "<h1>Zoom is connected</h1>", "You can close this window")
	if !strings.HasPrefix(p.hdr.Get("Content-Type"), "text/html") || !strings.Contains(p.hdr.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Fatalf("headers %v", p.hdr)
	}
	p.open(callback) // the reload
	p.must(200, "<h1>Zoom is connected</h1>", "connected already")
	// An API client keeps JSON: the reload answers the connection.
	var c connectionBody
	if r := s.call("GET", strings.TrimPrefix(callback, s.gw.URL), "", nil, &c); r.StatusCode != 200 || c.Status != "connected" || c.Platform != "zoom" {
		t.Fatalf("reload as JSON: %d %+v", r.StatusCode, c)
	}
	// Declined without returnTo: a page that says so.
	if r := s.call("POST", "/connections/railway/oauth", "church-a", nil, &start); r.StatusCode != 200 {
		t.Fatal(r.StatusCode)
	}
	p.open(start.AuthorizeURL + "&login_hint=" + sandbox.DeclineLoginHint)
	p.follow()
	p.must(422, "Railway was not connected", "You can close this window")
}

func TestOAuthCallbackRefusesAWrongIssuerAndReportsMissingScopes(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	ctx := context.Background()
	cfg := oauthmock.ClientConfig{ClientSecret: sandbox.ClientSecret("railway"), AuthStyle: oauthmock.AuthBasic, ResponseIss: "https://evil.example",
		WithholdLoginHint: sandbox.WithholdLoginHint, WithheldScopes: []string{"workspace:member"}}
	if err := s.sb.OAuth.ConfigureClients(ctx, map[string]oauthmock.ClientConfig{sandbox.ClientID("railway"): cfg}); err != nil {
		t.Fatal(err)
	}
	var start struct{ AuthorizeURL string }
	if r := s.call("POST", "/connections/railway/oauth", "church-a", nil, &start); r.StatusCode != 200 {
		t.Fatal(r.StatusCode)
	}
	r, err := http.Get(start.AuthorizeURL)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != 422 || !strings.Contains(string(raw), `"code":"issuer_mismatch"`) {
		t.Fatalf("a wrong iss: %d %s", r.StatusCode, raw)
	}
	if st, _ := s.sb.OAuth.ClientStats(ctx, sandbox.ClientID("railway")); st.TokenRequests.AuthorizationCode != 0 {
		t.Fatalf("the code was exchanged: %+v", st.TokenRequests)
	}
	if r := s.call("GET", "/connections/railway", "church-a", nil, nil); r.StatusCode != 404 {
		t.Fatalf("a refused response connected railway: %d", r.StatusCode)
	}
	// The right issuer, without workspace:member: stored in error naming it.
	cfg.ResponseIss = oauthmock.IssuerOfServer
	if err := s.sb.OAuth.ConfigureClients(ctx, map[string]oauthmock.ClientConfig{sandbox.ClientID("railway"): cfg}); err != nil {
		t.Fatal(err)
	}
	if r := s.call("POST", "/connections/railway/oauth", "church-a", nil, &start); r.StatusCode != 200 {
		t.Fatal(r.StatusCode)
	}
	if r, err = http.Get(start.AuthorizeURL + "&login_hint=" + sandbox.WithholdLoginHint); err != nil {
		t.Fatal(err)
	}
	raw, _ = io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != 422 || !strings.Contains(string(raw), `"code":"missing_scopes"`) || !strings.Contains(string(raw), `"missingScopes":["workspace:member"]`) {
		t.Fatalf("missing scopes: %d %s", r.StatusCode, raw)
	}
	var c connectionBody
	if r := s.call("GET", "/connections/railway", "church-a", nil, &c); r.StatusCode != 200 || c.Status != "error" || c.LastError == nil ||
		c.LastError.Code != "missing_scopes" || !strings.Contains(c.LastError.Message, "workspace:member") {
		t.Fatalf("railway: %d %+v %+v", r.StatusCode, c, c.LastError)
	}
	// A refresh cannot mend it: it stays in error.
	if r := s.call("POST", "/connections/railway/refresh", "church-a", nil, &c); c.Status != "error" {
		t.Fatalf("refresh: %d %+v", r.StatusCode, c)
	}
}
