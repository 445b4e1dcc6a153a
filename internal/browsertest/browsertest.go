// Package browsertest drives pages in a real headless Chromium for tests, as
// a person uses them: open a link, type into a field found by its label,
// press a button found by its text, read what the page shows (its visible
// text, what has focus) and check it with axe-core. One browser serves every
// test of a binary (Start it lazily, Close it from TestMain); each test gets a
// tab of its own in a browser context of its own (no shared cookies), so tabs
// run in parallel.
//
// Chromium is Debian's `chromium` package, installed by infra/chromium/ensure.sh
// (`make chromium`, which `make test` runs). Without it a test skips, saying
// so, except under CI (CI=true), where it fails: CI cannot pass by skipping. A
// browser that is installed but does not start always fails.
package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/fetch"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/chromedp"

	"github.com/switchboard-dev/switchboard/internal/dynamolocal"
	"github.com/switchboard-dev/switchboard/internal/npmci"
)

// ExecNames are the Chromium binaries looked for on PATH, in this order;
// infra/chromium/ensure.sh looks for the same (a test holds them equal).
var ExecNames = []string{"chromium", "chromium-browser"}

// ScreenshotsVar names the directory screenshots are written to; unset, it
// is build/screenshots under the repository root (build/ is gitignored).
const ScreenshotsVar = "SWITCHBOARD_SCREENSHOTS"

// A11yDir holds axe-core's package files, from the repository root.
const A11yDir = "infra/a11y"

const (
	startTimeout  = 60 * time.Second
	actionTimeout = 30 * time.Second
)

var shared struct {
	once    sync.Once
	browser context.Context // the browser's context: each tab is a child
	cancel  func()
	skip    string // why tests skip (local runs without Chromium)
	err     error
}

// Start starts the browser on first use. It skips t when Chromium is not
// installed (outside CI) and fails it when Chromium cannot start.
func Start(t testing.TB) {
	t.Helper()
	shared.once.Do(start)
	if shared.err != nil {
		t.Fatalf("browsertest: %v", shared.err)
	}
	if shared.skip != "" {
		t.Skip("browsertest: " + shared.skip)
	}
}

// Close ends the browser and removes its profile; TestMain calls it after
// the tests ran. A binary killed before it leaves no browser behind
// (Pdeathsig), only its temporary profile.
func Close() {
	if shared.cancel != nil {
		shared.cancel()
	}
}

// ExecPath is the Chromium binary on PATH, or "" when none is.
func ExecPath() string {
	for _, n := range ExecNames {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	return ""
}

func start() {
	path := ExecPath()
	if path == "" {
		msg := "Chromium is not installed (none of " + strings.Join(ExecNames, ", ") + " is on PATH); `make chromium` installs Debian's package"
		if underCI() {
			shared.err = errors.New(msg + ", and under CI (CI=" + os.Getenv("CI") + ") the browser tests must run")
			return
		}
		shared.skip = msg + "; the browser tests are skipped"
		return
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.WindowSize(1024, 900),
		chromedp.ModifyCmdFunc(func(cmd *exec.Cmd) {
			if cmd.SysProcAttr == nil {
				cmd.SysProcAttr = &syscall.SysProcAttr{}
			}
			cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL // dies with the test binary
		}),
	)
	if os.Geteuid() == 0 {
		// Chromium refuses to run as root with its sandbox (CI runs as root);
		// the pages it opens here are the tests' own, on loopback.
		opts = append(opts, chromedp.NoSandbox)
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	shared.browser = browser
	shared.cancel = func() { cancelBrowser(); cancelAlloc() }
	// The first Do starts the browser and binds it to browser's lifetime; a
	// timer, not a deadline on that context, bounds the wait.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(browser) }()
	select {
	case err := <-started:
		if err != nil {
			shared.err = fmt.Errorf("%s did not start: %w", path, err)
		}
	case <-time.After(startTimeout):
		shared.err = fmt.Errorf("%s did not start within %s", path, startTimeout)
	}
	if shared.err != nil {
		shared.cancel()
	}
}

// underCI: CI is set, to anything but false or 0 (CI services set it to
// true; .ci/run sets it when unset).
func underCI() bool {
	switch strings.ToLower(os.Getenv("CI")) {
	case "", "false", "0":
		return false
	}
	return true
}

// Tab is one browser tab of a test.
type Tab struct {
	t     testing.TB
	ctx   context.Context
	shots string // this test's screenshot directory
	n     int    // screenshots taken

	mu  sync.Mutex
	log []string // what the browser logged: CSP violations, errors
}

// NewTab opens a tab in a browser context of its own, closed when the test
// ends. It starts the browser first (see Start).
func NewTab(t testing.TB) *Tab {
	t.Helper()
	Start(t)
	ctx, cancel := chromedp.NewContext(shared.browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	p := &Tab{t: t, ctx: ctx, shots: screenshotDir(t)}
	if err := chromedp.Do(ctx); err != nil { // opens the tab
		t.Fatalf("browsertest: opening a tab: %v", err)
	}
	// Tabs run side by side, and only one can be the focused one: each
	// behaves as focused, so that it renders and honours autofocus as the
	// one tab a person looks at does.
	if _, err := chromedp.Call(ctx, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true}); err != nil {
		t.Fatalf("browsertest: focus emulation: %v", err)
	}
	entries := chromedp.Events(ctx, cdplog.EntryAdded)
	go func() {
		for ev, err := range entries {
			if err != nil {
				return
			}
			p.mu.Lock()
			p.log = append(p.log, fmt.Sprintf("%s %s: %s (%s)", ev.Entry.Level, ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
			p.mu.Unlock()
		}
	}()
	return p
}

func screenshotDir(t testing.TB) string {
	dir := os.Getenv(ScreenshotsVar)
	if dir == "" {
		root, err := dynamolocal.FindRepoRoot()
		if err != nil {
			t.Fatalf("browsertest: %v", err)
		}
		dir = filepath.Join(root, "build", "screenshots")
	}
	dir = filepath.Join(dir, regexp.MustCompile(`[^A-Za-z0-9_.-]+`).ReplaceAllString(t.Name(), "_"))
	if err := os.RemoveAll(dir); err != nil { // no stale shots of an earlier run
		t.Fatalf("browsertest: %v", err)
	}
	return dir
}

// run runs actions with a deadline, failing the test with what was asked.
func (p *Tab) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, actionTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.t.Fatalf("browsertest: %s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression in the page and decodes its value.
func eval[T any](p *Tab, expr string, opts ...chromedp.EvaluateOption) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, actionTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, opts...))
	if err != nil {
		p.t.Fatalf("browsertest: evaluating %.80q: %v", expr, err)
	}
	return v
}

// navigation runs a step that leads to another page (a link, a form's
// submit, a reload) and waits until that page has loaded; it answers the
// final document's HTTP status, after any redirects.
func (p *Tab) navigation(what string, step chromedp.Action[chromedp.Void]) int {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, actionTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, step)
	if err != nil {
		p.t.Fatalf("browsertest: %s: %v", what, err)
	}
	if resp == nil {
		p.t.Fatalf("browsertest: %s: no document was loaded", what)
	}
	return int(resp.Status)
}

// Open goes to url as a person pasting a link, and answers the status.
func (p *Tab) Open(url string) int {
	p.t.Helper()
	return p.navigation("opening "+url, chromedp.Navigate(url))
}

// Reload reloads the page, as a person pressing F5, and answers the status.
func (p *Tab) Reload() int {
	p.t.Helper()
	return p.navigation("reloading", chromedp.Reload())
}

// URL is the address the tab shows.
func (p *Tab) URL() string {
	p.t.Helper()
	return eval[string](p, `location.href`)
}

// Press clicks the button whose visible text is label (exactly, spaces
// trimmed), within the section headed section ("" for anywhere), and waits
// for the page it leads to; it answers that page's status.
func (p *Tab) Press(section, label string) int {
	p.t.Helper()
	xp := fmt.Sprintf(`//button[normalize-space()=%s]`, xpathString(label))
	if section != "" {
		xp = fmt.Sprintf(`//section[.//h2[normalize-space()=%s]]`, xpathString(section)) + xp
	}
	p.mustFindOne(xp, "a button "+label)
	return p.navigation("pressing "+label, chromedp.Click(xp, chromedp.NodeVisible))
}

// Type types text into the field labelled label (a <label for>) within the
// section headed section, key by key.
func (p *Tab) Type(section, label, text string) {
	p.t.Helper()
	xp := fmt.Sprintf(`//section[.//h2[normalize-space()=%s]]//label[normalize-space()=%s]`, xpathString(section), xpathString(label))
	p.mustFindOne(xp, "a field labelled "+label)
	id := eval[string](p, fmt.Sprintf(`document.evaluate(%s, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue.htmlFor`, jsString(xp)))
	if id == "" {
		p.t.Fatalf("browsertest: the label %q names no field", label)
	}
	p.run("typing into "+label, chromedp.SendKeys(chromedp.ID(id), text, chromedp.NodeVisible))
}

// Pick clicks the label of a radio button or checkbox, as a person does.
func (p *Tab) Pick(section, label string) {
	p.t.Helper()
	xp := fmt.Sprintf(`//section[.//h2[normalize-space()=%s]]//label[normalize-space()=%s]`, xpathString(section), xpathString(label))
	p.mustFindOne(xp, "a choice labelled "+label)
	p.run("picking "+label, chromedp.Click(xp, chromedp.NodeVisible))
}

// Checked says whether the control labelled label is checked.
func (p *Tab) Checked(section, label string) bool {
	p.t.Helper()
	xp := fmt.Sprintf(`//section[.//h2[normalize-space()=%s]]//label[normalize-space()=%s]`, xpathString(section), xpathString(label))
	p.mustFindOne(xp, "a choice labelled "+label)
	return eval[bool](p, fmt.Sprintf(`document.evaluate(%s, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue.control.checked`, jsString(xp)))
}

func (p *Tab) mustFindOne(xp, what string) {
	p.t.Helper()
	n := eval[int](p, fmt.Sprintf(`document.evaluate(%s, document, null, XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null).snapshotLength`, jsString(xp)))
	if n != 1 {
		p.t.Fatalf("browsertest: the page has %d of %s, want one; it shows:\n%s", n, what, p.Text())
	}
}

// Text is the text the page shows: the body's innerText, which leaves out
// what CSS hides.
func (p *Tab) Text() string {
	p.t.Helper()
	return eval[string](p, `document.body ? document.body.innerText : ""`)
}

// SectionText is the text shown in the section headed heading.
func (p *Tab) SectionText(heading string) string {
	p.t.Helper()
	xp := fmt.Sprintf(`//section[.//h2[normalize-space()=%s]]`, xpathString(heading))
	p.mustFindOne(xp, "a section "+heading)
	return eval[string](p, fmt.Sprintf(`document.evaluate(%s, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue.innerText`, jsString(xp)))
}

// MustSee fails the test unless the page shows every text.
func (p *Tab) MustSee(texts ...string) {
	p.t.Helper()
	shown := p.Text()
	for _, s := range texts {
		if !strings.Contains(shown, s) {
			p.t.Fatalf("the page does not show %q; it shows:\n%s", s, shown)
		}
	}
}

// MustNotSee fails the test when the page shows any of texts.
func (p *Tab) MustNotSee(texts ...string) {
	p.t.Helper()
	shown := p.Text()
	for _, s := range texts {
		if strings.Contains(shown, s) {
			p.t.Fatalf("the page shows %q; it shows:\n%s", s, shown)
		}
	}
}

// Focus is the element that has focus, as a screen reader meets it.
type Focus struct {
	Tag, ID, Role, Live, Text string
}

// Focused is what has focus now.
func (p *Tab) Focused() Focus {
	p.t.Helper()
	return eval[Focus](p, `(() => { const e = document.activeElement; if (!e) return {};
		return {Tag: e.tagName.toLowerCase(), ID: e.id, Role: e.getAttribute("role") || "", Live: e.getAttribute("aria-live") || "", Text: e.innerText || ""}; })()`)
}

// MustAnnounce fails the test unless focus is on a live region of role
// ("status" or "alert", whose text a screen reader reads out) that shows
// text: how the page says the outcome of an action to everyone.
func (p *Tab) MustAnnounce(role, text string) {
	p.t.Helper()
	// Autofocus is applied when the page is next rendered, which may come
	// a moment after its load event: wait for it, briefly.
	f := p.Focused()
	for deadline := time.Now().Add(3 * time.Second); (f.Role != role || !strings.Contains(f.Text, text)) && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		f = p.Focused()
	}
	if f.Role != role || !strings.Contains(f.Text, text) {
		p.t.Fatalf("focus is on <%s id=%q role=%q> saying %q; want a %s region saying %q; the page shows:\n%s", f.Tag, f.ID, f.Role, f.Text, role, text, p.Text())
	}
}

// Screenshot writes the page, whole, as <dir>/<test>/<NN>-<name>.png.
func (p *Tab) Screenshot(name string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, actionTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Fatalf("browsertest: screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(p.shots, 0o755); err != nil {
		p.t.Fatal(err)
	}
	p.n++
	if err := os.WriteFile(filepath.Join(p.shots, fmt.Sprintf("%02d-%s.png", p.n, name)), png, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// Logged is what the browser logged so far (errors, warnings, refused
// content such as CSP violations), one line each.
func (p *Tab) Logged() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.log...)
}

// MustNotBeRefused fails the test when the browser refused part of a page
// for security (a Content-Security-Policy violation: a style whose hash is
// not allowed, a form posted where form-action forbids).
func (p *Tab) MustNotBeRefused() {
	p.t.Helper()
	for _, line := range p.Logged() {
		if strings.Contains(line, " "+string(cdplog.EntrySourceSecurity)+": ") {
			p.t.Errorf("the browser refused part of a page: %s", line)
		}
	}
}

// RewriteRequests makes every request of the tab whose URL starts with
// prefix go to rewrite(url) instead, unseen by the page: what a person does
// at a page the test does not own (an OAuth provider's consent screen),
// said to the sandbox's stand-in for it. The rule holds until the tab closes.
func (p *Tab) RewriteRequests(prefix string, rewrite func(string) string) {
	p.t.Helper()
	paused := chromedp.Events(p.ctx, fetch.RequestPaused)
	pattern := strings.ReplaceAll(strings.ReplaceAll(prefix, `\`, `\\`), "*", `\*`) + "*"
	ctx, cancel := context.WithTimeout(p.ctx, actionTimeout)
	defer cancel()
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: pattern}}}); err != nil {
		p.t.Fatalf("browsertest: intercepting %s: %v", prefix, err)
	}
	go func() {
		for ev, err := range paused {
			if err != nil {
				return
			}
			params := fetch.ContinueRequestParams{RequestID: ev.RequestID}
			if strings.HasPrefix(ev.Request.URL, prefix) {
				params.URL = rewrite(ev.Request.URL)
			}
			_, _ = chromedp.Call(p.ctx, fetch.ContinueRequest, params)
		}
	}()
}

// xpathString quotes s for XPath 1.0, which has no escapes.
func xpathString(s string) string {
	if !strings.Contains(s, `"`) {
		return `"` + s + `"`
	}
	if !strings.Contains(s, `'`) {
		return `'` + s + `'`
	}
	parts := strings.Split(s, `"`)
	return `concat("` + strings.Join(parts, `", '"', "`) + `")`
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// axeSource is axe-core's script, read once (npm ci on first use).
var axeSource struct {
	once sync.Once
	js   string
	err  error
}

func loadAxe() (string, error) {
	axeSource.once.Do(func() {
		root, err := dynamolocal.FindRepoRoot()
		if err != nil {
			axeSource.err = err
			return
		}
		dir := filepath.Join(root, A11yDir)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := npmci.Ensure(ctx, dir, "axe-core", nil); err != nil {
			axeSource.err = err
			return
		}
		raw, err := os.ReadFile(filepath.Join(dir, "node_modules", "axe-core", "axe.min.js"))
		axeSource.js, axeSource.err = string(raw), err
	})
	return axeSource.js, axeSource.err
}

// Violation is one axe-core rule the page breaks, with where.
type Violation struct {
	ID, Impact, Help, HelpURL string
	Nodes                     []struct{ Target, HTML, Summary string }
}

// Axe runs axe-core's rules (WCAG 2.x A and AA, and its best practices) on
// the page as it is now, and answers what it breaks.
func (p *Tab) Axe() []Violation {
	p.t.Helper()
	src, err := loadAxe()
	if err != nil {
		p.t.Fatalf("browsertest: axe-core: %v", err)
	}
	// Evaluated through DevTools, so the page's CSP (no script at all)
	// does not apply to it; the page itself stays scriptless.
	eval[chromedp.Void](p, src+"\n;undefined")
	return eval[[]Violation](p, `(async () => {
		const r = await axe.run(document, {resultTypes: ["violations"]});
		return r.violations.map(v => ({ID: v.id, Impact: v.impact || "", Help: v.help, HelpURL: v.helpUrl,
			Nodes: v.nodes.map(n => ({Target: n.target.join(" "), HTML: n.html, Summary: n.failureSummary || ""}))}));
	})()`, chromedp.EvalAwaitPromise)
}

// MustBeAccessible fails the test, listing each violation readably, when
// axe-core finds any on the page as it is now (state names it).
func (p *Tab) MustBeAccessible(state string) {
	p.t.Helper()
	vs := p.Axe()
	if len(vs) == 0 {
		return
	}
	var b strings.Builder
	for _, v := range vs {
		fmt.Fprintf(&b, "\n- %s (%s): %s <%s>", v.ID, v.Impact, v.Help, v.HelpURL)
		for _, n := range v.Nodes {
			fmt.Fprintf(&b, "\n    at %s: %s\n      %s", n.Target, n.HTML, strings.ReplaceAll(n.Summary, "\n", "\n      "))
		}
	}
	p.t.Errorf("axe-core: %d violation(s) on %s (%s):%s", len(vs), state, p.URL(), b.String())
}
