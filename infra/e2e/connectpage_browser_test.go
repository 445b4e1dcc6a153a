package e2e_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/infra/sandbox"
	"github.com/switchboard-dev/switchboard/internal/browsertest"
)

// The connect page and the OAuth callback page in a real headless Chromium,
// against the sandbox stack, used as a person uses them: by the labels and
// buttons they show, reading what they say and where focus lands. Each
// state is checked with axe-core and kept as a screenshot (build/screenshots).

func TestBrowserConnectsAnOAuthPlatformAndAKeyAndSaysEachOutcome(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	link := s.newLink("church-a", map[string]any{"platforms": []string{"youtube", "render"}})
	p := browsertest.NewTab(t)
	if code := p.Open(link); code != http.StatusOK {
		t.Fatalf("the link: %d", code)
	}
	p.MustSee("Connect your accounts", "YouTube", "Render")
	if got := p.SectionText("Render"); !strings.Contains(got, "Status: Not connected") || !strings.Contains(got, "API Keys") {
		t.Fatalf("Render's card: %q", got)
	}
	p.MustBeAccessible("the page before anything is connected")
	p.Screenshot("offered")

	// YouTube through the sandbox's OAuth provider, which approves at once,
	// and back to the page.
	if code := p.Press("YouTube", "Connect YouTube"); code != http.StatusOK {
		t.Fatalf("back from YouTube's consent: %d", code)
	}
	if !strings.HasPrefix(p.URL(), link) {
		t.Fatalf("the browser ended at %s, not on the connect page", p.URL())
	}
	p.MustAnnounce("status", "YouTube is connected.")
	if got := p.SectionText("YouTube"); !strings.Contains(got, "Status: Connected") || !strings.Contains(got, "Reconnect YouTube") {
		t.Fatalf("YouTube's card: %q", got)
	}
	p.MustBeAccessible("the page after an OAuth connect")
	p.Screenshot("youtube-connected")

	// A key Render refuses: said in an alert, nothing stored.
	p.Type("Render", "Render API key", sandbox.InvalidKeyPrefix+"typed-by-hand")
	if code := p.Press("Render", "Connect Render"); code != http.StatusUnprocessableEntity {
		t.Fatalf("a refused key: %d", code)
	}
	p.MustAnnounce("alert", "Render refused the credentials")
	p.MustNotSee("Render: Render") // the platform is named once
	p.MustSee("Status: Not connected")
	p.MustNotSee(sandbox.InvalidKeyPrefix + "typed-by-hand") // the refused key is not shown back
	p.MustBeAccessible("the page after a refused key")
	p.Screenshot("render-refused")
	if r := s.call("GET", "/connections/render", "church-a", nil, nil); r.StatusCode != http.StatusNotFound {
		t.Fatalf("a refused key was stored: %d", r.StatusCode)
	}

	// A good one.
	p.Type("Render", "Render API key", "rnd_typed-by-hand")
	p.Press("Render", "Connect Render")
	p.MustAnnounce("status", "Render is connected.")
	if got := p.SectionText("Render"); !strings.Contains(got, "Status: Connected") || !strings.Contains(got, "Disconnect Render") {
		t.Fatalf("Render's card: %q", got)
	}
	p.Screenshot("render-connected")

	// Done: the link closes, and says so.
	p.Press("", "Done")
	p.MustSee("All done", "You can close this window")
	p.MustAnnounce("status", "This link is now closed")
	p.MustBeAccessible("the page after Done")
	p.Screenshot("done")
	if code := p.Open(link); code != http.StatusGone { // the link, opened again
		t.Fatalf("a closed link: %d", code)
	}
	p.MustAnnounce("alert", "already used")
	p.MustBeAccessible("a closed link")
	p.Screenshot("closed")
	p.MustNotBeRefused()
}

func TestBrowserReconnectsFacebookAfterAnUntickedPermissionAndPicksThePage(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	p := browsertest.NewTab(t)
	link := s.newLink("church-a", map[string]any{"platforms": []string{"facebook"}})
	p.Open(link)
	// First the person unticks a permission in Meta's dialog: Graph's
	// /me/permissions says so after the exchange, and the page asks for a
	// reconnect.
	s.sb.Facebook.Grant().DeclineAtNextLogin("pages_manage_posts")
	p.Press("Facebook", "Connect Facebook")
	p.MustAnnounce("alert", "Facebook was connected without all the permissions the app needs")
	if got := p.SectionText("Facebook"); !strings.Contains(got, "Status: Needs attention") || !strings.Contains(got, "pages_manage_posts") {
		t.Fatalf("Facebook's card: %q", got)
	}
	p.MustBeAccessible("the page after a permission was unticked")
	p.Screenshot("unticked")
	var c connectionBody
	if r := s.call("GET", "/connections/facebook", "church-a", nil, &c); r.StatusCode != http.StatusOK || c.Status != "error" ||
		c.LastError == nil || c.LastError.Code != "missing_scopes" || !strings.Contains(c.LastError.Message, "pages_manage_posts") {
		t.Fatalf("facebook after an unticked permission: %d %+v %+v", r.StatusCode, c, c.LastError)
	}
	// Then allowing everything.
	p.Press("Facebook", "Reconnect Facebook")
	p.MustAnnounce("status", "Facebook is connected.")
	p.MustSee("Choose the Page to use", "Grace Church")
	p.MustBeAccessible("the page offering a choice")
	p.Screenshot("choice")
	p.Pick("Facebook", "Grace Church")
	if !p.Checked("Facebook", "Grace Church") {
		t.Fatal("clicking the label did not pick Grace Church")
	}
	p.Press("Facebook", "Use this Page")
	p.MustAnnounce("status", "Facebook will use what you chose.")
	if !p.Checked("Facebook", "Grace Church") {
		t.Fatal("the page does not show Grace Church chosen")
	}
	p.MustBeAccessible("the page after a choice")
	p.Screenshot("chosen")
	p.MustNotBeRefused()
	var fb struct{ DefaultWorkspaceID string }
	if r := s.call("GET", "/connections/facebook", "church-a", nil, &fb); r.StatusCode != http.StatusOK || fb.DefaultWorkspaceID != sandbox.FacebookPage {
		t.Fatalf("facebook's default: %d %+v", r.StatusCode, fb)
	}
}

func TestBrowserDeclinedConsentIsSaidAndConnectsNothing(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	p := browsertest.NewTab(t)
	// The person presses "Cancel" at the provider: the sandbox's provider
	// is told so by login_hint, added to its authorize request.
	p.RewriteRequests(s.sb.OAuth.URL+"/authorize", func(u string) string { return u + "&login_hint=" + sandbox.DeclineLoginHint })
	p.Open(s.newLink("church-a", map[string]any{"platforms": []string{"zoom"}}))
	p.Press("Zoom", "Connect Zoom")
	p.MustAnnounce("alert", "You did not allow the app to use Zoom")
	if got := p.SectionText("Zoom"); !strings.Contains(got, "Status: Not connected") || !strings.Contains(got, "Connect Zoom") {
		t.Fatalf("Zoom's card: %q", got)
	}
	p.MustBeAccessible("the page after a declined consent")
	p.Screenshot("declined")
	p.MustNotBeRefused()
	if r := s.call("GET", "/connections/zoom", "church-a", nil, nil); r.StatusCode != http.StatusNotFound {
		t.Fatalf("a declined consent connected zoom: %d", r.StatusCode)
	}
}

func TestBrowserCallbackPageSaysConnectedAndAReloadStillDoes(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	p := browsertest.NewTab(t)
	// An app that sends its user to the provider itself, with no returnTo:
	// the callback answers the person with a page.
	var start struct{ AuthorizeURL string }
	if r := s.call("POST", "/connections/zoom/oauth", "church-a", nil, &start); r.StatusCode != http.StatusOK {
		t.Fatalf("start: %d %s", r.StatusCode, bodyOf(r))
	}
	if code := p.Open(start.AuthorizeURL); code != http.StatusOK {
		t.Fatalf("the callback: %d", code)
	}
	p.MustSee("Zoom is connected", "You can close this window")
	p.MustAnnounce("status", "is connected.")
	p.MustBeAccessible("the callback page")
	p.Screenshot("callback")
	if code := p.Reload(); code != http.StatusOK {
		t.Fatalf("the reload: %d", code)
	}
	p.MustAnnounce("status", "is connected already")
	p.MustBeAccessible("the callback page, reloaded")
	p.Screenshot("callback-reloaded")

	// Declined, without returnTo: a page that says so.
	if r := s.call("POST", "/connections/railway/oauth", "church-a", nil, &start); r.StatusCode != http.StatusOK {
		t.Fatalf("start: %d %s", r.StatusCode, bodyOf(r))
	}
	if code := p.Open(start.AuthorizeURL + "&login_hint=" + sandbox.DeclineLoginHint); code != http.StatusUnprocessableEntity {
		t.Fatalf("the declined callback: %d", code)
	}
	p.MustSee("Railway was not connected")
	p.MustAnnounce("alert", "You did not allow the app to use your Railway account")
	p.MustBeAccessible("the callback page of a declined consent")
	p.Screenshot("callback-declined")
	p.MustNotBeRefused()
}

func TestBrowserConnectsVercelWithAKeyAndPicksATeamOrThePersonalAccount(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	s.sb.Vercel.LegacyUser = true // an account with a personal scope besides its teams
	p := browsertest.NewTab(t)
	p.Open(s.newLink("church-a", map[string]any{"platforms": []string{"vercel"}}))
	p.Type("Vercel", "Vercel access token", "vercel_typed-by-hand")
	p.Press("Vercel", "Connect Vercel with this key")
	p.MustAnnounce("status", "Vercel is connected.")
	p.MustSee("Choose the team to use", "Grace Church", "Fake Developer (personal account)")
	if !p.Checked("Vercel", "Fake Developer (personal account)") {
		t.Fatal("a key without a team id acts for the personal account, but the page does not show it chosen")
	}
	p.Pick("Vercel", "Grace Church")
	p.Press("Vercel", "Use this team")
	p.MustAnnounce("status", "Vercel will use what you chose.")
	p.MustBeAccessible("the page after a team choice")
	p.Screenshot("team-chosen")
	var c struct{ DefaultWorkspaceID *string }
	if r := s.call("GET", "/connections/vercel", "church-a", nil, &c); r.StatusCode != http.StatusOK || c.DefaultWorkspaceID == nil || *c.DefaultWorkspaceID != "team_gracechurch" {
		t.Fatalf("vercel's default: %d %v", r.StatusCode, c.DefaultWorkspaceID)
	}
	// Back to the personal account: no team at all.
	p.Pick("Vercel", "Fake Developer (personal account)")
	p.Press("Vercel", "Use this team")
	if !p.Checked("Vercel", "Fake Developer (personal account)") {
		t.Fatal("the personal account is not shown chosen")
	}
	c.DefaultWorkspaceID = nil
	if r := s.call("GET", "/connections/vercel", "church-a", nil, &c); r.StatusCode != http.StatusOK || c.DefaultWorkspaceID != nil {
		t.Fatalf("vercel's default after choosing the personal account: %d %v", r.StatusCode, c.DefaultWorkspaceID)
	}
	p.MustNotBeRefused()
}
