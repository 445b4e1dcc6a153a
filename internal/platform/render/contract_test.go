package render_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/platform/render/renderfake"
)

// The contract: Render publishes no machine-readable description here, so
// every request the client sends in these tests is held to the Render
// section of shared/specs/PLATFORMS.md: its method and path must be one
// that section lists, the query parameters listed with it must be there
// (GET /logs?ownerId=&resource=&type=build), and a JSON body's top-level
// members must be among those listed with it (POST /services {type, name,
// ownerId, repo|image, ...}) when the section lists any.

type endpoint struct {
	method  string
	path    *regexp.Regexp
	raw     string
	query   map[string]string // name -> required value ("" for any)
	members map[string]bool   // nil when the section lists no body
}

var (
	endpointsOnce sync.Once
	endpoints     []endpoint
	endpointsErr  error
)

func platformsFile(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("contract: no go.mod above the working directory")
		}
		dir = parent
	}
	p := filepath.Join(filepath.Dir(dir), "shared", "specs", "PLATFORMS.md")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("contract: PLATFORMS.md is missing at %s (the repository's parent must hold shared/specs): %v", p, err)
	}
	return p
}

var endpointRE = regexp.MustCompile("(GET|POST|PUT|PATCH|DELETE) (/[^\\s`,;)]+)(?: (\\{[^`]*\\}))?")

var paramRE = regexp.MustCompile(`\{[^}]+\}`)

// parseEndpoints reads the endpoints of the "### Render" section.
func parseEndpoints(doc string) ([]endpoint, error) {
	i := strings.Index(doc, "### Render")
	if i < 0 {
		return nil, fmt.Errorf("PLATFORMS.md has no ### Render section")
	}
	section := doc[i+len("### Render"):]
	if j := strings.Index(section, "\n#"); j >= 0 {
		section = section[:j]
	}
	var out []endpoint
	for _, m := range endpointRE.FindAllStringSubmatch(section, -1) {
		raw := m[2]
		p, q, _ := strings.Cut(raw, "?")
		e := endpoint{method: m[1], raw: m[1] + " " + raw, query: map[string]string{}}
		e.path = regexp.MustCompile("^" + paramRE.ReplaceAllString(p, `[^/]+`) + "$")
		for _, kv := range strings.Split(q, "&") {
			if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
				e.query[k] = v
			}
		}
		if m[3] != "" {
			e.members = bodyMembers(m[3])
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("the Render section lists no endpoint")
	}
	return out, nil
}

// bodyMembers reads the top-level names of a body sketch such as
// {type:"web_service", name, repo|image, envVars:[{key,value}]}.
func bodyMembers(sketch string) map[string]bool {
	inner := strings.TrimSuffix(strings.TrimPrefix(sketch, "{"), "}")
	members := map[string]bool{}
	depth, start := 0, 0
	flush := func(part string) {
		name, _, _ := strings.Cut(strings.TrimSpace(part), ":")
		for _, n := range strings.Split(name, "|") {
			if n = strings.TrimSpace(n); n != "" {
				members[n] = true
			}
		}
	}
	for i, r := range inner {
		switch r {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		case ',':
			if depth == 0 {
				flush(inner[start:i])
				start = i + 1
			}
		}
	}
	flush(inner[start:])
	return members
}

func loadEndpoints(t testing.TB) []endpoint {
	t.Helper()
	path := platformsFile(t)
	endpointsOnce.Do(func() {
		data, err := os.ReadFile(path)
		if err != nil {
			endpointsErr = err
			return
		}
		endpoints, endpointsErr = parseEndpoints(string(data))
	})
	if endpointsErr != nil {
		t.Fatal(endpointsErr)
	}
	return endpoints
}

func checkRequest(eps []endpoint, r renderfake.Request) error {
	u, err := url.Parse(r.URL)
	if err != nil {
		return err
	}
	p, ok := strings.CutPrefix(u.Path, "/v1")
	if !ok {
		return fmt.Errorf("%s is not under /v1", u.Path)
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		return fmt.Errorf("no bearer API key")
	}
	var match *endpoint
	for i, e := range eps {
		// The same endpoint may be listed twice (once with its body, once in
		// the limits): the listing with a body is the stricter one.
		if e.method == r.Method && e.path.MatchString(p) && (match == nil || match.members == nil) {
			match = &eps[i]
		}
	}
	if match != nil {
		e := *match
		q := u.Query()
		for k, want := range e.query {
			if !q.Has(k) || q.Get(k) == "" || (want != "" && q.Get(k) != want) {
				return fmt.Errorf("%s lists query parameter %s=%s", e.raw, k, want)
			}
		}
		if e.members != nil && len(r.Body) > 0 {
			var body map[string]any
			if err := json.Unmarshal(r.Body, &body); err != nil {
				return fmt.Errorf("the body is not a JSON object: %w", err)
			}
			var extra []string
			for k := range body {
				if !e.members[k] {
					extra = append(extra, k)
				}
			}
			sort.Strings(extra)
			if len(extra) > 0 {
				return fmt.Errorf("body members %v are not among those %s lists", extra, e.raw)
			}
		}
		return nil
	}
	return fmt.Errorf("%s %s is not an endpoint PLATFORMS.md lists for Render", r.Method, p)
}

func checkContract(t *testing.T, fake *renderfake.Server) {
	t.Helper()
	eps := loadEndpoints(t)
	for _, r := range fake.Requests() {
		if err := checkRequest(eps, r); err != nil {
			t.Errorf("contract: %s %s: %v", r.Method, r.URL, err)
		}
	}
}

func TestContractTheRenderSectionListsTheEndpointsTheClientUses(t *testing.T) {
	t.Parallel()
	eps := loadEndpoints(t)
	var listed []string
	for _, e := range eps {
		listed = append(listed, e.raw)
	}
	t.Logf("%d endpoints: %s", len(eps), strings.Join(listed, "; "))
	want := []string{"GET /users", "GET /owners", "GET /services", "POST /services", "PUT /services/{id}/env-vars",
		"POST /services/{id}/deploys", "GET /services/{id}/deploys/{deployId}", "GET /logs", "POST /postgres",
		"GET /postgres/{id}", "GET /postgres/{id}/connection-info", "POST /services/{id}/rollback",
		"POST /services/{id}/deploys/{deployId}/cancel"}
	for _, w := range want {
		found := false
		for _, l := range listed {
			if l == w || strings.HasPrefix(l, w+"?") {
				found = true
			}
		}
		if !found {
			t.Errorf("PLATFORMS.md's Render section does not list %s", w)
		}
	}
}

func TestContractCheckRefusesRequestsPlatformsMdDoesNotList(t *testing.T) {
	t.Parallel()
	eps := loadEndpoints(t)
	h := map[string][]string{"Authorization": {"Bearer rnd_x"}}
	good := renderfake.Request{Method: "POST", URL: "/v1/services", Header: h,
		Body: []byte(`{"type":"web_service","name":"a","ownerId":"o","image":{"imagePath":"x"},"autoDeploy":"no","serviceDetails":{}}`)}
	if err := checkRequest(eps, good); err != nil {
		t.Errorf("a listed request was refused: %v", err)
	}
	bad := map[string]renderfake.Request{
		"unlisted path":        {Method: "POST", URL: "/v1/services/srv-1/files", Header: h},
		"wrong method":         {Method: "DELETE", URL: "/v1/services/srv-1", Header: h},
		"missing query":        {Method: "GET", URL: "/v1/services?name=a", Header: h},
		"wrong log type":       {Method: "GET", URL: "/v1/logs?ownerId=o&resource=srv-1&type=app", Header: h},
		"unlisted body member": {Method: "POST", URL: "/v1/services", Header: h, Body: []byte(`{"type":"web_service","name":"a","ownerId":"o","files":[]}`)},
		"not under /v1":        {Method: "GET", URL: "/users", Header: h},
		"no bearer":            {Method: "GET", URL: "/v1/users"},
	}
	for name, r := range bad {
		err := checkRequest(eps, r)
		if err == nil {
			t.Errorf("%s: %s %s passed", name, r.Method, r.URL)
			continue
		}
		t.Logf("%s: refused: %v", name, err)
	}
}
