package template_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard-dev/switchboard/infra/template"
)

const modulePath = "github.com/switchboard-dev/switchboard"

// repoRoot is the directory holding the module's go.mod, found by walking up
// from the test's working directory (the package directory).
var repoRoot = sync.OnceValues(func() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(data), "module "+modulePath+"\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod of module %s above the working directory", modulePath)
		}
		dir = parent
	}
})

func root(t testing.TB) string {
	t.Helper()
	dir, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// specsDir is the shared specs folder: CI clones the repository with shared/
// beside it, so it is <repo root>/../shared/specs.
func specsDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(filepath.Dir(root(t)), "shared", "specs")
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		t.Fatalf("the shared specs folder %s is missing: check out the shared repository beside this one "+
			"(<parent>/shared/specs/sam.schema.json); these tests never skip", dir)
	}
	return dir
}

var loadTemplate = sync.OnceValues(func() (map[string]any, error) {
	dir, err := repoRoot()
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(filepath.Join(dir, "template.yaml"))
	if err != nil {
		return nil, err
	}
	return template.Decode(data)
})

// tpl is the parsed template.yaml, shared read-only by the tests; a test that
// changes a template decodes its own copy.
func tpl(t testing.TB) doc {
	t.Helper()
	m, err := loadTemplate()
	if err != nil {
		t.Fatalf("reading template.yaml: %v", err)
	}
	return doc{m}
}

type doc struct{ m map[string]any }

func (d doc) section(name string) map[string]any {
	s, _ := d.m[name].(map[string]any)
	return s
}

func (d doc) resources() map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range d.section("Resources") {
		if m, ok := r.(map[string]any); ok {
			out[id] = m
		}
	}
	return out
}

func (d doc) resource(t testing.TB, id, typ string) map[string]any {
	t.Helper()
	r, ok := d.resources()[id]
	if !ok {
		t.Fatalf("template.yaml has no resource %s", id)
	}
	if got := r["Type"]; got != typ {
		t.Fatalf("%s is a %v, want %s", id, got, typ)
	}
	return r
}

func (d doc) ofType(typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range d.resources() {
		if r["Type"] == typ {
			out[id] = r
		}
	}
	return out
}

// function is an AWS::Serverless::Function with the folder under functions/
// it is built from.
type function struct {
	ID    string // logical id
	Name  string // folder under functions/ (app.Functions())
	Props map[string]any
}

// functions maps each function resource to its folder, from CodeUri
// build/<name>/ (what `make build` writes).
func (d doc) functions(t testing.TB) map[string]function {
	t.Helper()
	out := map[string]function{}
	for id, r := range d.ofType("AWS::Serverless::Function") {
		props := obj(r["Properties"])
		uri, ok := props["CodeUri"].(string)
		if !ok {
			t.Fatalf("%s: CodeUri is %v, want the string build/<name>/", id, props["CodeUri"])
		}
		name, ok := strings.CutPrefix(strings.TrimSuffix(uri, "/"), "build/")
		if !ok || name == "" || strings.Contains(name, "/") {
			t.Fatalf("%s: CodeUri %q is not build/<name>/", id, uri)
		}
		if other, dup := out[name]; dup {
			t.Fatalf("%s and %s are both built from %s", other.ID, id, uri)
		}
		out[name] = function{ID: id, Name: name, Props: props}
	}
	return out
}

func (d doc) function(t testing.TB, name string) function {
	t.Helper()
	f, ok := d.functions(t)[name]
	if !ok {
		t.Fatalf("template.yaml has no function built from build/%s/", name)
	}
	return f
}

// effective is a function property as SAM sees it: the function's own, else
// Globals.Function's.
func (d doc) effective(f function, key string) any {
	if v, ok := f.Props[key]; ok {
		return v
	}
	return obj(obj(d.section("Globals"))["Function"])[key]
}

// env is a function's environment as SAM merges it: Globals.Function's
// variables, then the function's own.
func (d doc) env(f function) map[string]any {
	out := map[string]any{}
	globals := obj(obj(obj(d.section("Globals"))["Function"])["Environment"])["Variables"]
	for k, v := range obj(globals) {
		out[k] = v
	}
	for k, v := range obj(obj(f.Props["Environment"])["Variables"]) {
		out[k] = v
	}
	return out
}

// events are a function's events of one type, by name.
func events(f function, typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for name, e := range obj(f.Props["Events"]) {
		if ev := obj(e); ev["Type"] == typ {
			out[name] = obj(ev["Properties"])
		}
	}
	return out
}

// obj is v as a mapping, or an empty one.
func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	if m == nil {
		return map[string]any{}
	}
	return m
}

// list is v as a list: a lone value is a list of one (as in IAM Action and
// Resource).
func list(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	default:
		return []any{x}
	}
}

func strs(v any) []string {
	var out []string
	for _, x := range list(v) {
		out = append(out, fmt.Sprint(x))
	}
	return out
}

// Intrinsic function values, long form.
func ref(name string) map[string]any { return map[string]any{"Ref": name} }
func getAtt(res, attr string) map[string]any {
	return map[string]any{"Fn::GetAtt": []any{res, attr}}
}

// refName is the target of {"Ref": x}.
func refName(v any) (string, bool) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return "", false
	}
	s, ok := m["Ref"].(string)
	return s, ok
}

// getAttOf is the resource and attribute of {"Fn::GetAtt": [r, a]}.
func getAttOf(v any) (res, attr string, ok bool) {
	m, isMap := v.(map[string]any)
	if !isMap || len(m) != 1 {
		return "", "", false
	}
	args, isList := m["Fn::GetAtt"].([]any)
	if !isList || len(args) != 2 {
		return "", "", false
	}
	res, ok1 := args[0].(string)
	attr, ok2 := args[1].(string)
	return res, attr, ok1 && ok2
}

// num reads a JSON number or a numeric string as an int.
func num(t testing.TB, what string, v any) int {
	t.Helper()
	var s string
	switch x := v.(type) {
	case json.Number:
		s = x.String()
	case string:
		s = x
	default:
		t.Fatalf("%s is %#v, want a number", what, v)
	}
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatalf("%s is %q, want an integer", what, s)
	}
	return n
}

func sortedKeys[M ~map[string]V, V any](m M) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

func equal(a, b any) bool { return reflect.DeepEqual(a, b) }
