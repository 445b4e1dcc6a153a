package httpapi

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	_ "embed" // pageCSS
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/connection"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/registry"
)

// The hosted connect page: POST /connect-sessions makes a short-lived link
// for one tenant; GET /connect/{token} is the page a person opens; its
// forms POST back to the same path. Everything the page does, it does as
// the session's tenant and user: the token names the session, the page's
// input never names a tenant.
//
// Its defences:
//   - CSRF: every form carries a token derived from the link token
//     (HMAC-SHA256 keyed by it), and a POST whose Origin is not the API's
//     own is refused. No cookie is used: the page may be framed by the app
//     (frame-ancestors), where browsers withhold third-party cookies.
//   - Content-Security-Policy: no script at all, the one stylesheet by its
//     hash, no images or fonts, forms only to the page itself and the
//     offered platforms' authorization endpoints (a form's redirect is
//     held to form-action), framing only by the configured origins.
//   - Referrer-Policy same-origin: the link token in the URL never reaches
//     a platform or the app in a Referer.

// ConnectSessionService is what the connect page calls.
type ConnectSessionService interface {
	CreateSession(ctx context.Context, id connection.Identity, in connection.CreateSessionInput) (connection.CreatedSession, error)
	OpenSession(ctx context.Context, token string) (*connection.ConnectSession, error)
	CloseSession(ctx context.Context, cs *connection.ConnectSession) error
	List(ctx context.Context, tenant, cursor string, limit int) ([]*connection.Connection, string, error)
	ConnectWithKey(ctx context.Context, id connection.Identity, platform string, input map[string]string) (*connection.Connection, error)
	Disconnect(ctx context.Context, tenant, platform string) (connection.Revocation, error)
	StartOAuthForSession(ctx context.Context, cs *connection.ConnectSession, platform, back string) (connection.StartResult, error)
	ChoicesOf(ctx context.Context, tenant, platform string) (connection.Choices, error)
	Choose(ctx context.Context, tenant, platform, id string) (*connection.Connection, error)
	Configured(d platform.Descriptor) bool
	OAuthReady(p platform.ID) bool
	AuthorizeOrigin(p platform.ID) string
}

// ConnectConfig is what the connect page needs besides its service.
type ConnectConfig struct {
	// PublicBaseURL is the API's public base URL (PUBLIC_BASE_URL): links
	// are <PublicBaseURL>/connect/<token>. Empty: no links can be made.
	PublicBaseURL string
	// FrameAncestors are the origins that may frame the page
	// (CONNECT_FRAME_ANCESTORS); none: it cannot be framed.
	FrameAncestors []Origin
}

// Origin is a web origin, scheme://host[:port], as ParseOrigins checked it.
type Origin string

// ParseOrigins reads a comma-separated list of origins: https, or http on
// a loopback host; no path, query, fragment or wildcard.
func ParseOrigins(s string) ([]Origin, error) {
	var out []Origin
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		u, err := url.Parse(f)
		if err != nil || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || strings.Contains(f, "*") {
			return nil, fmt.Errorf("%q is not an origin (scheme://host[:port])", f)
		}
		loopback := u.Hostname() == "localhost" || u.Hostname() == "127.0.0.1" || u.Hostname() == "::1"
		if u.Scheme != "https" && !(u.Scheme == "http" && loopback) {
			return nil, fmt.Errorf("%q must use https (http only on a loopback host)", f)
		}
		out = append(out, Origin(u.Scheme+"://"+u.Host))
	}
	return out, nil
}

//go:embed pages/style.css
var pageCSS string

// pageStyleHash allows the one stylesheet, inlined, in the
// Content-Security-Policy.
var pageStyleHash = func() string {
	sum := sha256.Sum256([]byte(pageCSS))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}()

// connectRoutes are the hosted connect page's routes.
func (a *API) connectRoutes() []Route {
	ok := a.svc.ConnectSessions != nil
	return []Route{
		{Method: "POST", Path: "/connect-sessions", Operation: "createConnectSession", Function: FnConnections, Creates: true, handler: wired(ok, a.idempotent(a.createConnectSession))},
		{Method: "GET", Path: "/connect/{token}", Operation: "getConnectPage", Function: FnConnections, Public: true, handler: wired(ok, a.getConnectPage)},
		{Method: "POST", Path: "/connect/{token}", Operation: "postConnectPage", Function: FnConnections, Public: true, Form: true, MaxBody: 32 << 10, handler: wired(ok, a.postConnectPage)},
	}
}

func (a *API) createConnectSession(ctx context.Context, r *Request) (*Response, error) {
	var body struct {
		Platforms        []string `json:"platforms"`
		ReturnTo         string   `json:"returnTo"`
		ExpiresInSeconds *int     `json:"expiresInSeconds"`
	}
	if len(bytes.TrimSpace(r.Body)) > 0 {
		if err := r.Decode(&body); err != nil {
			return nil, err
		}
	}
	base := strings.TrimRight(a.cfg.Connect.PublicBaseURL, "/")
	if base == "" {
		return nil, apperr.E(apperr.NotImplemented, apperr.CodeNotImplemented, "connect links need the API's public base URL: set PUBLIC_BASE_URL")
	}
	in := connection.CreateSessionInput{Platforms: body.Platforms, ReturnTo: body.ReturnTo}
	if body.ExpiresInSeconds != nil {
		if *body.ExpiresInSeconds <= 0 {
			return nil, apperr.Errorf(apperr.Invalid, apperr.CodeInvalidConnectSession, "expiresInSeconds must be above zero")
		}
		in.TTL = time.Duration(*body.ExpiresInSeconds) * time.Second
	}
	res, err := a.svc.ConnectSessions.CreateSession(ctx, identityOf(r), in)
	if err != nil {
		return nil, err
	}
	link := a.pageURL(res.Token)
	return created(http.StatusCreated, link, map[string]string{"url": link, "expiresAt": stamp(res.ExpiresAt)}), nil
}

// pageURL is the connect page of a link token.
func (a *API) pageURL(token string) string {
	return strings.TrimRight(a.cfg.Connect.PublicBaseURL, "/") + "/connect/" + url.PathEscape(token)
}

// csrfFor is the form token of a link: bound to the session (only the
// link's holder can compute it) and useless anywhere else.
func csrfFor(token string) string {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("switchboard connect page form"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (a *API) getConnectPage(ctx context.Context, r *Request) (*Response, error) {
	token := r.Param("token")
	cs, err := a.svc.ConnectSessions.OpenSession(ctx, token)
	if err != nil {
		return a.sessionRefused(err)
	}
	return a.renderConnect(ctx, http.StatusOK, token, cs, resultOf(r.Query))
}

// sessionRefused is the page for a link that does not open.
func (a *API) sessionRefused(err error) (*Response, error) {
	e, ok := apperr.As(err)
	if !ok || (e.Kind != apperr.NotFound && e.Kind != apperr.Conflict) {
		return nil, err
	}
	status := http.StatusNotFound
	if e.Kind == apperr.Conflict {
		status = http.StatusGone
	}
	return a.messagePage(status, messageView{Title: "This link cannot be used", Heading: "This link cannot be used", Class: "bad", Role: "alert",
		Paragraphs: []string{e.Detail, "Go back to the app and open the connect page again. You can close this window."}})
}

func (a *API) postConnectPage(ctx context.Context, r *Request) (*Response, error) {
	token := r.Param("token")
	cs, err := a.svc.ConnectSessions.OpenSession(ctx, token)
	if err != nil {
		return a.sessionRefused(err)
	}
	if ct := strings.ToLower(strings.TrimSpace(strings.SplitN(r.HeaderValue("content-type"), ";", 2)[0])); ct != "application/x-www-form-urlencoded" {
		return nil, apperr.Errorf(apperr.BadMediaType, apperr.CodeUnsupportedMediaType, "the connect page takes its own forms (application/x-www-form-urlencoded)")
	}
	form, err := url.ParseQuery(string(r.Body))
	if err != nil {
		return nil, apperr.E(apperr.Invalid, apperr.CodeInvalidBody, "the form cannot be read")
	}
	if !hmac.Equal([]byte(form.Get("csrf")), []byte(csrfFor(token))) || !a.sameOrigin(r) {
		return a.messagePage(http.StatusForbidden, messageView{Title: "Request refused", Heading: "This request was refused", Class: "bad", Role: "alert",
			Paragraphs: []string{"The form did not come from this page, so nothing was changed.", "Open the connect page again from the app."}})
	}
	do := form.Get("do")
	if do == "done" {
		return a.closeSession(ctx, cs)
	}
	d, known := registry.Lookup(form.Get("platform"))
	if !known || !cs.Offers(d.ID) {
		return a.messagePage(http.StatusNotFound, messageView{Title: "Not offered", Heading: "This platform is not offered here", Class: "bad", Role: "alert",
			Paragraphs: []string{"This connect link does not offer that platform. Go back to the page and choose one it lists."}})
	}
	back := func(status string) *Response {
		q := url.Values{"platform": {string(d.ID)}, "status": {status}}
		return &Response{Status: http.StatusSeeOther, Header: map[string]string{"Location": a.pageURL(token) + "?" + q.Encode()}}
	}
	failed := func(err error) (*Response, error) {
		e, ok := apperr.As(err)
		if !ok || e.Kind == apperr.Internal {
			return nil, err
		}
		text := e.Detail
		if !strings.HasPrefix(text, d.Name+" ") { // "Render refused …" names it already
			text = d.Name + ": " + text
		}
		return a.renderConnect(ctx, statusOf(e.Kind), token, cs, &resultView{Class: "bad", Role: "alert", Text: text})
	}
	switch do {
	case "oauth":
		res, err := a.svc.ConnectSessions.StartOAuthForSession(ctx, cs, string(d.ID), a.pageURL(token))
		if err != nil {
			return failed(err)
		}
		return &Response{Status: http.StatusSeeOther, Header: map[string]string{"Location": res.AuthorizeURL}}, nil
	case "key":
		creds := map[string]string{}
		for k, v := range form {
			if name, ok := strings.CutPrefix(k, "cred."); ok && len(v) > 0 && strings.TrimSpace(v[0]) != "" {
				creds[name] = v[0]
			}
		}
		if _, err := a.svc.ConnectSessions.ConnectWithKey(ctx, cs.Identity(), string(d.ID), creds); err != nil {
			return failed(err)
		}
		return back("connected"), nil
	case "disconnect":
		if _, err := a.svc.ConnectSessions.Disconnect(ctx, cs.Tenant, string(d.ID)); err != nil {
			return failed(err)
		}
		return back("disconnected"), nil
	case "choose":
		if _, err := a.svc.ConnectSessions.Choose(ctx, cs.Tenant, string(d.ID), form.Get("choice")); err != nil {
			return failed(err)
		}
		return back("chosen"), nil
	}
	return nil, apperr.E(apperr.Invalid, apperr.CodeInvalidBody, "the form asks for nothing this page does")
}

// sameOrigin: a POST whose Origin (every browser sends one with a form
// POST; the page's Referrer-Policy keeps it from being "null") is not the
// API's own origin is refused.
func (a *API) sameOrigin(r *Request) bool {
	o := r.HeaderValue("origin")
	if o == "" {
		return r.HeaderValue("sec-fetch-site") == "" || r.HeaderValue("sec-fetch-site") == "same-origin"
	}
	u, err := url.Parse(a.cfg.Connect.PublicBaseURL)
	return err == nil && o == serializedOrigin(u)
}

// serializedOrigin is u's origin as a browser sends it in Origin (RFC
// 6454, section 6.1: scheme and host in lower case, the port only when it
// is not the scheme's default), so PUBLIC_BASE_URL written with capitals
// or with :443 still matches.
func serializedOrigin(u *url.URL) string {
	scheme, host, port := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname()), u.Port()
	if strings.Contains(host, ":") {
		host = "[" + host + "]" // an IPv6 literal keeps its brackets
	}
	if port != "" && !(scheme == "https" && port == "443") && !(scheme == "http" && port == "80") {
		host += ":" + port
	}
	return scheme + "://" + host
}

func (a *API) closeSession(ctx context.Context, cs *connection.ConnectSession) (*Response, error) {
	if err := a.svc.ConnectSessions.CloseSession(ctx, cs); err != nil {
		return a.sessionRefused(err)
	}
	if cs.ReturnTo != "" {
		return &Response{Status: http.StatusSeeOther, Header: map[string]string{"Location": cs.ReturnTo}}, nil
	}
	return a.messagePage(http.StatusOK, messageView{Title: "All done", Heading: "All done", Class: "ok", Role: "status",
		Paragraphs: []string{"Your accounts are set. This link is now closed. You can close this window."}})
}

// resultView is the outcome of the last action, said in words.
type resultView struct{ Class, Role, Text string }

// resultOf reads the outcome a redirect back to the page carries
// (platform, status, error: what the OAuth callback and the page's own
// forms send).
func resultOf(q url.Values) *resultView {
	d, ok := registry.Lookup(q.Get("platform"))
	if !ok {
		return nil
	}
	switch q.Get("status") {
	case "connected":
		return &resultView{"ok", "status", d.Name + " is connected."}
	case "disconnected":
		return &resultView{"info", "status", d.Name + " is disconnected. The app can no longer use it."}
	case "chosen":
		return &resultView{"ok", "status", d.Name + " will use what you chose."}
	case "error":
		return &resultView{"bad", "alert", failureText(d, q.Get("error"))}
	}
	return nil
}

// failureText says in words why connecting failed, by the callback's code.
func failureText(d platform.Descriptor, code string) string {
	switch apperr.Code(code) {
	case apperr.CodeAccessDenied:
		return "You did not allow the app to use " + d.Name + ", so nothing was connected. Connect it again when you are ready."
	case apperr.CodeMissingScopes:
		return d.Name + " was connected without all the permissions the app needs. Reconnect " + d.Name + " and allow everything it asks for."
	case apperr.CodeIssuerMismatch:
		return "The answer did not come from " + d.Name + "'s sign-in service, so it was refused and nothing was connected. Try again."
	case apperr.CodeStateExpired:
		return "Connecting " + d.Name + " took too long. Try again."
	}
	return "Connecting " + d.Name + " failed (" + code + "). Try again."
}

// connectView is the page.
type connectView struct {
	Title     string
	Action    string
	CSRF      string
	ReturnTo  string
	Result    *resultView
	Platforms []platformCard
}

type platformCard struct {
	ID, Name, Status, StatusClass, Allows, Problem string
	OAuth                                          bool
	OAuthLabel                                     string
	Connected, CanDisconnect                       bool
	Key                                            *keyForm
	Choices                                        *choiceForm
}

type keyForm struct {
	Help   string
	Fields []keyField
}

type keyField struct {
	Name, Label, InputID, HelpID string
	Secret, Multiline            bool
}

type choiceForm struct {
	Noun    string
	Options []choiceOption
}

type choiceOption struct {
	ID, Name, InputID string
	Chosen            bool
}

func (a *API) renderConnect(ctx context.Context, status int, token string, cs *connection.ConnectSession, result *resultView) (*Response, error) {
	v := connectView{Title: "Connect your accounts", Action: a.pageURL(token), CSRF: csrfFor(token), ReturnTo: cs.ReturnTo, Result: result}
	targets := []string{}
	if cs.ReturnTo != "" {
		if u, err := url.Parse(cs.ReturnTo); err == nil {
			targets = append(targets, u.Scheme+"://"+u.Host)
		}
	}
	conns, err := a.connectionsOf(ctx, cs.Tenant)
	if err != nil {
		return nil, err
	}
	for _, d := range registry.All() {
		if !cs.Offers(d.ID) {
			continue
		}
		card, err := a.card(ctx, cs, d, conns[d.ID])
		if err != nil {
			return nil, err
		}
		if o := a.svc.ConnectSessions.AuthorizeOrigin(d.ID); o != "" && card.OAuth {
			targets = append(targets, o)
		}
		v.Platforms = append(v.Platforms, card)
	}
	return a.htmlPage(status, renderConnectPage(v), true, targets)
}

// connectionsOf is the tenant's connections by platform: one list for the
// whole page, not a read per platform.
func (a *API) connectionsOf(ctx context.Context, tenant string) (map[platform.ID]*connection.Connection, error) {
	out := map[platform.ID]*connection.Connection{}
	for cursor := ""; ; {
		page, next, err := a.svc.ConnectSessions.List(ctx, tenant, cursor, 100)
		if err != nil {
			return nil, err
		}
		for _, c := range page {
			out[c.Platform] = c
		}
		if next == "" {
			return out, nil
		}
		cursor = next
	}
}

// card is one platform's part of the page for the session's tenant, whose
// connection to it is conn (nil: none).
func (a *API) card(ctx context.Context, cs *connection.ConnectSession, d platform.Descriptor, conn *connection.Connection) (platformCard, error) {
	c := platformCard{ID: string(d.ID), Name: d.Name, Allows: allows(d), Status: "Not connected", StatusClass: "none"}
	if !a.svc.ConnectSessions.Configured(d) {
		c.Status, c.Problem = "Not available", d.Name+" cannot be connected here yet: the app has not set it up."
		return c, nil
	}
	if conn != nil {
		c.StatusClass = string(conn.Status)
		switch conn.Status {
		case connection.StatusConnected:
			c.Connected, c.Status = true, "Connected"
			if conn.AccountName != "" {
				c.Status += " as " + conn.AccountName
			}
		case connection.StatusExpired:
			c.Status = "Expired: reconnect it"
		case connection.StatusError:
			c.Status = "Needs attention"
		case connection.StatusDisconnected:
			c.Status = "Disconnected"
		}
		if conn.LastError != nil && conn.Status != connection.StatusConnected && conn.Status != connection.StatusDisconnected {
			c.Problem = conn.LastError.Message
		}
		c.CanDisconnect = conn.Status != connection.StatusDisconnected
	}
	if a.svc.ConnectSessions.OAuthReady(d.ID) {
		c.OAuth, c.OAuthLabel = true, "Connect "+d.Name
		if conn != nil && conn.Status != connection.StatusDisconnected {
			c.OAuthLabel = "Reconnect " + d.Name
		}
	}
	reg, _ := registry.Registration(string(d.ID))
	if reg.Key != nil && (d.Accepts(platform.AuthAPIKey) || d.Accepts(platform.AuthNone)) {
		kf := &keyForm{Help: reg.Key.Help}
		for _, f := range reg.Key.Fields {
			label := reg.Key.Labels[f]
			if label == "" {
				label = f
			}
			kf.Fields = append(kf.Fields, keyField{Name: f, Label: label, InputID: "f-" + string(d.ID) + "-" + f, HelpID: "help-" + string(d.ID),
				Secret: secretField(f), Multiline: f == "privateKey"})
		}
		c.Key = kf
	}
	if c.Connected && reg.Choice != "" {
		ch, err := a.svc.ConnectSessions.ChoicesOf(ctx, cs.Tenant, string(d.ID))
		switch {
		case err == nil && len(ch.Options) > 1:
			cf := &choiceForm{Noun: ch.Noun}
			for i, o := range ch.Options {
				cf.Options = append(cf.Options, choiceOption{ID: o.ID, Name: o.Name, Chosen: o.ID == ch.Chosen,
					InputID: fmt.Sprintf("c-%s-%d", d.ID, i)})
			}
			c.Choices = cf
		case err != nil:
			if e, ok := apperr.As(err); ok && e.Kind != apperr.Internal {
				c.Problem = "The " + reg.Choice + "s to choose from could not be listed: " + e.Detail
			} else {
				return c, err
			}
		}
	}
	return c, nil
}

// secretField: a key field whose value is a secret, typed as a password.
func secretField(f string) bool {
	switch f {
	case "apiKey", "token", "privateKey":
		return true
	}
	return false
}

// allows says in one sentence what connecting a platform lets the app do.
func allows(d platform.Descriptor) string {
	switch d.Kind {
	case platform.KindLivestream:
		return "Connecting lets the app schedule livestreams on your " + d.Name + " account and start and end them on time."
	case platform.KindMeeting:
		return "Connecting lets the app create " + d.Name + " meetings for you."
	case platform.KindDeploy:
		return "Connecting lets the app deploy websites to your " + d.Name + " account."
	}
	return "Connecting lets the app use your " + d.Name + " account."
}

// messageView is a short page: a heading and what to do next.
type messageView struct {
	Title, Heading, Class, Role string
	Paragraphs                  []string
}

func (a *API) messagePage(status int, v messageView) (*Response, error) {
	return a.htmlPage(status, renderMessagePage(v), false, nil)
}

// htmlPage answers a rendered page with the headers every page carries;
// a page with forms (the connect page) may post to itself and formTargets.
func (a *API) htmlPage(status int, body []byte, forms bool, formTargets []string) (*Response, error) {
	formAction := "'none'"
	if forms {
		formAction = strings.Join(append([]string{"'self'"}, formTargets...), " ")
	}
	ancestors := "'none'"
	if len(a.cfg.Connect.FrameAncestors) > 0 {
		list := make([]string, len(a.cfg.Connect.FrameAncestors))
		for i, o := range a.cfg.Connect.FrameAncestors {
			list[i] = string(o)
		}
		ancestors = strings.Join(list, " ")
	}
	csp := "default-src 'none'; style-src " + pageStyleHash + "; base-uri 'none'; form-action " + formAction + "; frame-ancestors " + ancestors
	return &Response{Status: status, Body: body, Header: map[string]string{
		"Content-Type":            "text/html; charset=utf-8",
		"Content-Security-Policy": csp,
		"Referrer-Policy":         "same-origin",
	}}, nil
}

// wantsHTML: a browser navigating (Accept names text/html before or
// without application/json).
func wantsHTML(r *Request) bool {
	acc := strings.ToLower(r.HeaderValue("accept"))
	h, j := strings.Index(acc, "text/html"), strings.Index(acc, "application/json")
	return h >= 0 && (j < 0 || h < j)
}

// callbackPage is the OAuth callback's answer to a person (no returnTo,
// Accept text/html): connected, declined or failed, and what to do next.
func (a *API) callbackPage(platformID string, res connection.CallbackResult, err error) (*Response, error) {
	name := platformID
	if d, ok := registry.Lookup(platformID); ok {
		name = d.Name
	}
	closeNote := "You can close this window and go back to the app."
	if err == nil && res.ErrorCause == nil && res.Connected != nil {
		who := ""
		if res.Connected.AccountName != "" {
			who = " (" + res.Connected.AccountName + ")"
		}
		first := "Your " + name + " account" + who + " is connected."
		if res.Reloaded {
			first = "Your " + name + " account" + who + " is connected already: this page was opened again after it was connected."
		}
		return a.messagePage(http.StatusOK, messageView{Title: name + " connected", Heading: name + " is connected", Class: "ok", Role: "status",
			Paragraphs: []string{first, closeNote}})
	}
	cause := err
	if cause == nil {
		cause = res.ErrorCause
	}
	e, ok := apperr.As(cause)
	if !ok || e.Kind == apperr.Internal {
		return nil, cause
	}
	v := messageView{Title: name + " not connected", Heading: "Connecting " + name + " failed", Class: "bad", Role: "alert",
		Paragraphs: []string{e.Detail, "Start again from the app. " + closeNote}}
	switch {
	case res.ErrorCode == string(apperr.CodeAccessDenied):
		v.Heading = name + " was not connected"
		v.Paragraphs = []string{"You did not allow the app to use your " + name + " account, so nothing was connected.",
			"To connect it, start again from the app. " + closeNote}
	case len(res.MissingScopes) > 0:
		v.Heading = name + " needs more permissions"
		v.Paragraphs = []string{name + " was connected without permissions the app needs: " + strings.Join(res.MissingScopes, ", ") + ".",
			"Start again from the app and allow everything it asks for. " + closeNote}
	case err != nil:
		v.Heading = "This sign-in cannot be used"
	}
	return a.messagePage(statusOf(e.Kind), v)
}
