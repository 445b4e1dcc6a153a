package browsertest_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/browsertest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	browsertest.Close()
	os.Exit(code)
}

const goodPage = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Form</title></head><body><main>
<h1>Sign</h1>%s
<section aria-labelledby="s"><h2 id="s">Guest book</h2>
<form method="post"><label for="name">Your name</label><input id="name" name="name">
<button type="submit">Sign it</button></form></section></main></body></html>`

// site answers the guest book: a GET shows the form, a POST says who signed,
// in a status region that takes focus.
func site(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		switch r.URL.Path {
		case "/bad":
			io.WriteString(w, `<!doctype html><html><head><title>x</title></head><body><input id="q"><img src="data:,"></body></html>`)
		default:
			result := ""
			if r.Method == http.MethodPost {
				_ = r.ParseForm()
				result = `<div id="result" role="status" tabindex="-1" autofocus><p>Thank you, ` + strings.ReplaceAll(r.PostForm.Get("name"), "<", "&lt;") + `.</p></div>`
			}
			io.WriteString(w, strings.Replace(goodPage, "%s", result, 1))
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestATabFillsAFormByItsLabelsAndReadsWhatThePageSays(t *testing.T) {
	t.Parallel()
	srv := site(t)
	p := browsertest.NewTab(t)
	if code := p.Open(srv.URL + "/"); code != 200 {
		t.Fatalf("open: %d", code)
	}
	p.MustSee("Guest book")
	p.MustNotSee("Thank you")
	p.Type("Guest book", "Your name", "Ada")
	if code := p.Press("Guest book", "Sign it"); code != 200 {
		t.Fatalf("press: %d", code)
	}
	p.MustSee("Thank you, Ada.")
	p.MustAnnounce("status", "Thank you, Ada.")
	p.MustBeAccessible("the signed guest book")
	p.Screenshot("signed")
	dir := os.Getenv(browsertest.ScreenshotsVar)
	if dir == "" {
		dir = filepath.Join("..", "..", "build", "screenshots")
	}
	if _, err := os.Stat(filepath.Join(dir, t.Name(), "01-signed.png")); err != nil {
		t.Fatalf("the screenshot was not kept: %v", err)
	}
}

func TestAxeReportsWhatABadPageBreaks(t *testing.T) {
	t.Parallel()
	srv := site(t)
	p := browsertest.NewTab(t)
	p.Open(srv.URL + "/bad")
	got := map[string]bool{}
	for _, v := range p.Axe() {
		got[v.ID] = len(v.Nodes) > 0 && v.Help != ""
	}
	for _, want := range []string{"html-has-lang", "image-alt", "label"} {
		if !got[want] {
			t.Errorf("axe did not report %s: %v", want, got)
		}
	}
}

func TestRewriteRequestsSendsAMatchingRequestElsewhereUnseen(t *testing.T) {
	t.Parallel()
	srv := site(t)
	p := browsertest.NewTab(t)
	p.RewriteRequests(srv.URL+"/", func(u string) string {
		v, _ := url.Parse(u)
		v.Path = "/bad"
		return v.String()
	})
	p.Open(srv.URL + "/")
	if p.URL() != srv.URL+"/" {
		t.Fatalf("the page saw the rewrite: %s", p.URL())
	}
	p.MustNotSee("Guest book")
}

func TestTheInstallScriptLooksForTheSameBinaries(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join("..", "..", "infra", "chromium", "ensure.sh"))
	if err != nil {
		t.Fatal(err)
	}
	want := "names=(" + strings.Join(browsertest.ExecNames, " ") + ")"
	if !strings.Contains(string(raw), want) {
		t.Fatalf("infra/chromium/ensure.sh does not say %q", want)
	}
}

// MustNotBeRefused reads these lines: a security entry that names the CSP.
func TestTheLogKeepsWhatThePagesCSPBlocked(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'none'")
		io.WriteString(w, `<!doctype html><html lang="en"><head><title>x</title><style>body{color:red}</style></head><body><main><p>hi</p></main></body></html>`)
	}))
	t.Cleanup(srv.Close)
	p := browsertest.NewTab(t)
	p.Open(srv.URL)
	p.MustSee("hi")
	for deadline := time.Now().Add(5 * time.Second); len(p.Logged()) == 0 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond) // the log entry comes on its own
	}
	refused := false
	for _, line := range p.Logged() {
		refused = refused || (strings.HasPrefix(line, "error security: ") && strings.Contains(line, "Content Security Policy"))
	}
	if !refused {
		t.Fatalf("the blocked style was not logged: %q", p.Logged())
	}
}

// A Chromium that is installed but cannot start fails the tests, under CI
// or not (only a missing one skips, and only outside CI), and one that is
// missing under CI fails them: run in a child test binary whose PATH holds
// only a chromium that exits at once, or nothing.
func TestABrowserThatCannotStartFailsAndAMissingOneFailsUnderCI(t *testing.T) {
	t.Parallel()
	broken := t.TempDir()
	if err := os.WriteFile(filepath.Join(broken, "chromium"), []byte("#!/bin/sh\necho 'cannot open display' >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		path, ci, want string
		fails          bool
	}{
		"broken, locally":   {broken, "", "did not start", true},
		"broken, under CI":  {broken, "true", "did not start", true},
		"missing, under CI": {t.TempDir(), "true", "the browser tests must run", true},
		"missing, locally":  {t.TempDir(), "", "the browser tests are skipped", false},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestATabFillsAFormByItsLabelsAndReadsWhatThePageSays$", "-test.v", "-test.count=1")
		cmd.Env = []string{"PATH=" + c.path, "CI=" + c.ci, "HOME=" + t.TempDir(), browsertest.ScreenshotsVar + "=" + t.TempDir()}
		out, err := cmd.CombinedOutput()
		if (err != nil) != c.fails || !strings.Contains(string(out), c.want) {
			t.Errorf("%s: err %v, want failing %v, saying %q:\n%s", name, err, c.fails, c.want, out)
		}
	}
}
