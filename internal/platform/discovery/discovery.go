// Package discovery reads Google API discovery documents (the
// machine-readable descriptions Google publishes for YouTube, Meet,
// Calendar...) and checks requests against them: that the method exists,
// that its required parameters are there, that every query parameter is
// declared and that every field of a JSON body is in the request schema.
//
// It is for contract tests: a client's requests, as a fake recorded them,
// are held to the vendor's own description.
package discovery

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Doc is a parsed discovery document.
type Doc struct {
	Name        string            `json:"name"`
	Version     string            `json:"version"`
	Revision    string            `json:"revision"`
	RootURL     string            `json:"rootUrl"`
	ServicePath string            `json:"servicePath"`
	BaseURL     string            `json:"baseUrl"`
	Parameters  map[string]*Param `json:"parameters"` // global query parameters (alt, fields, key...)
	Resources   map[string]*Resource
	Schemas     map[string]*Schema

	methods []*Method
}

// Resource is a group of methods and nested resources.
type Resource struct {
	Methods   map[string]*Method   `json:"methods"`
	Resources map[string]*Resource `json:"resources"`
}

// Method is one API method.
type Method struct {
	ID         string            `json:"id"` // e.g. youtube.liveBroadcasts.insert
	HTTPMethod string            `json:"httpMethod"`
	Path       string            `json:"path"`     // relative to rootUrl+servicePath; {+name} spans slashes
	FlatPath   string            `json:"flatPath"` // the same with one {var} per segment, where given
	Parameters map[string]*Param `json:"parameters"`
	Request    *Schema           `json:"request"`  // {$ref}: the body's schema; nil: no body
	Response   *Schema           `json:"response"` // {$ref}: the answer's schema; nil: an empty answer

	templates []*template
}

// Param is a method's or the document's parameter.
type Param struct {
	Type     string   `json:"type"`
	Format   string   `json:"format"`
	Location string   `json:"location"` // path or query
	Required bool     `json:"required"`
	Repeated bool     `json:"repeated"`
	Enum     []string `json:"enum"`
	Pattern  string   `json:"pattern"`
}

// Schema is a JSON schema in discovery's dialect.
type Schema struct {
	ID                   string             `json:"id"`
	Ref                  string             `json:"$ref"`
	Type                 string             `json:"type"`
	Format               string             `json:"format"`
	Enum                 []string           `json:"enum"`
	Properties           map[string]*Schema `json:"properties"`
	Items                *Schema            `json:"items"`
	AdditionalProperties *Schema            `json:"additionalProperties"`
	Deprecated           bool               `json:"deprecated"`
	Annotations          struct {
		Required []string `json:"required"` // method ids for which the property is required
	} `json:"annotations"`
}

// Load reads and parses a discovery document from a file.
func Load(path string) (*Doc, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	d, err := Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("discovery: %s: %w", path, err)
	}
	return d, nil
}

// Parse parses a discovery document.
func Parse(raw []byte) (*Doc, error) {
	var d Doc
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, err
	}
	if d.RootURL == "" && d.BaseURL == "" {
		return nil, errors.New("neither rootUrl nor baseUrl: not a discovery document")
	}
	var walk func(map[string]*Resource) error
	walk = func(rs map[string]*Resource) error {
		for _, r := range rs {
			for _, m := range r.Methods {
				for _, p := range []string{m.FlatPath, m.Path} {
					if p == "" {
						continue
					}
					t, err := compile(p)
					if err != nil {
						return fmt.Errorf("method %s: %w", m.ID, err)
					}
					m.templates = append(m.templates, t)
				}
				d.methods = append(d.methods, m)
			}
			if err := walk(r.Resources); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(d.Resources); err != nil {
		return nil, err
	}
	if len(d.methods) == 0 {
		return nil, errors.New("no methods")
	}
	sort.Slice(d.methods, func(i, j int) bool { return d.methods[i].ID < d.methods[j].ID })
	return &d, nil
}

// Methods lists every method, sorted by id.
func (d *Doc) Methods() []*Method { return d.methods }

// BasePath is the URL path under which the methods' paths live: the path
// of rootUrl+servicePath (or of baseUrl), ending in a slash.
func (d *Doc) BasePath() string {
	base := d.BaseURL
	if d.RootURL != "" {
		base = d.RootURL + d.ServicePath
	}
	u, err := url.Parse(base)
	p := "/"
	if err == nil && u.Path != "" {
		p = u.Path
	}
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}

// template is a compiled path template.
type template struct {
	raw      string
	re       *regexp.Regexp
	vars     []string
	literals int // characters outside variables: more is more specific
}

var varRE = regexp.MustCompile(`\{(\+?)([^}]+)\}`)

func compile(p string) (*template, error) {
	t := &template{raw: p}
	var b strings.Builder
	b.WriteString("^")
	last := 0
	for _, loc := range varRE.FindAllStringSubmatchIndex(p, -1) {
		lit := p[last:loc[0]]
		b.WriteString(regexp.QuoteMeta(lit))
		t.literals += len(lit)
		if loc[3] > loc[2] { // {+var}: reserved expansion, may span slashes
			b.WriteString("(.+)")
		} else {
			b.WriteString("([^/]+)")
		}
		t.vars = append(t.vars, p[loc[4]:loc[5]])
		last = loc[1]
	}
	b.WriteString(regexp.QuoteMeta(p[last:]))
	t.literals += len(p) - last
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, err
	}
	t.re = re
	return t, nil
}

// Find is the method a request calls, with the path variables it carries
// (named as the matching template names them). Scheme and host are not
// compared: a fake on loopback serves the vendor's paths.
func (d *Doc) Find(httpMethod, fullURL string) (*Method, map[string]string, error) {
	u, err := url.Parse(fullURL)
	if err != nil {
		return nil, nil, fmt.Errorf("bad URL: %w", err)
	}
	base := d.BasePath()
	p := u.EscapedPath()
	if !strings.HasPrefix(p, base) {
		return nil, nil, fmt.Errorf("%s %s: the path is not under the API's base path %s", httpMethod, u.Path, base)
	}
	rel := strings.TrimPrefix(p, base)
	var (
		best     *Method
		bestVars map[string]string
		bestLit  = -1
	)
	for _, m := range d.methods {
		if !strings.EqualFold(m.HTTPMethod, httpMethod) {
			continue
		}
		for _, t := range m.templates {
			sub := t.re.FindStringSubmatch(rel)
			if sub == nil || t.literals <= bestLit {
				continue
			}
			vars := make(map[string]string, len(t.vars))
			for i, name := range t.vars {
				v, err := url.PathUnescape(sub[i+1])
				if err != nil {
					v = sub[i+1]
				}
				vars[name] = v
			}
			best, bestVars, bestLit = m, vars, t.literals
		}
	}
	if best == nil {
		return nil, nil, fmt.Errorf("%s %s: no such method in %s %s", httpMethod, u.Path, d.Name, d.Version)
	}
	return best, bestVars, nil
}

// Check holds one request to the document: the method must exist; its
// required path and query parameters must be present; every query
// parameter must be declared (by the method or the document), of its type,
// and within its enum; and a JSON body must fit the method's request
// schema: every field declared (through $ref, recursively), of its type,
// within its enum, with the fields the schema marks required for this
// method. A method without a request schema takes no body. All problems
// are reported together.
func (d *Doc) Check(httpMethod, fullURL string, body []byte) error {
	m, vars, err := d.Find(httpMethod, fullURL)
	if err != nil {
		return err
	}
	u, _ := url.Parse(fullURL)
	var errs []error
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{m.ID}, args...)...))
	}
	// Path parameters: the template matched, so each is present; the values
	// must not be empty and must fit a declared pattern.
	for name, p := range m.Parameters {
		if p.Location != "path" {
			continue
		}
		if v, ok := vars[name]; ok {
			if v == "" && p.Required {
				fail("path parameter %s is empty", name)
			}
			if p.Pattern != "" {
				if re, err := regexp.Compile(p.Pattern); err == nil && !re.MatchString(v) {
					fail("path parameter %s=%q does not match %s", name, v, p.Pattern)
				}
			}
		}
	}
	q := u.Query()
	for name, p := range m.Parameters {
		if p.Location == "query" && p.Required && len(q[name]) == 0 {
			fail("required query parameter %s is missing", name)
		}
	}
	names := make([]string, 0, len(q))
	for name := range q {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p := m.Parameters[name]
		if p == nil || p.Location != "query" {
			p = d.Parameters[name]
		}
		if p == nil {
			fail("query parameter %s is not declared", name)
			continue
		}
		vals := q[name]
		if len(vals) > 1 && !p.Repeated {
			fail("query parameter %s is given %d times but is not repeated", name, len(vals))
		}
		for _, v := range vals {
			parts := []string{v}
			if p.Repeated {
				parts = strings.Split(v, ",")
			}
			for _, part := range parts {
				if msg := checkScalar(p.Type, p.Format, p.Enum, part); msg != "" {
					fail("query parameter %s: %s", name, msg)
				}
			}
		}
	}
	if len(bytes.TrimSpace(body)) > 0 {
		if m.Request == nil {
			fail("the method takes no body")
		} else {
			var v any
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.UseNumber()
			if err := dec.Decode(&v); err != nil {
				fail("the body is not JSON: %v", err)
			} else {
				for _, msg := range d.checkValue(m.ID, "", m.Request, v, 0) {
					fail("body %s", msg)
				}
			}
		}
	}
	return errors.Join(errs...)
}

// CheckResponse holds a successful answer to the method's response schema:
// every field the answer has must be declared (through $ref, recursively),
// of its type and within its enum. It is for fakes: their answers must have
// the vendor's shape. A method without a response schema answers nothing.
func (d *Doc) CheckResponse(httpMethod, fullURL string, body []byte) error {
	m, _, err := d.Find(httpMethod, fullURL)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if m.Response == nil {
		return fmt.Errorf("%s: the method answers no body, got %d bytes", m.ID, len(body))
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("%s: the answer is not JSON: %w", m.ID, err)
	}
	var errs []error
	for _, msg := range d.checkValue("", "", m.Response, v, 0) {
		errs = append(errs, fmt.Errorf("%s: answer %s", m.ID, msg))
	}
	return errors.Join(errs...)
}

func (d *Doc) resolve(s *Schema) (*Schema, error) {
	for i := 0; s != nil && s.Ref != ""; i++ {
		if i > 32 {
			return nil, fmt.Errorf("$ref loop at %s", s.Ref)
		}
		next, ok := d.Schemas[s.Ref]
		if !ok {
			return nil, fmt.Errorf("$ref %s is not in schemas", s.Ref)
		}
		s = next
	}
	return s, nil
}

func (d *Doc) checkValue(methodID, at string, s *Schema, v any, depth int) []string {
	if depth > 64 {
		return []string{at + ": nested too deep"}
	}
	s, err := d.resolve(s)
	if err != nil {
		return []string{at + ": " + err.Error()}
	}
	name := at
	if name == "" {
		name = "(root)"
	}
	if v == nil { // JSON null clears a field: allowed for any type
		return nil
	}
	switch s.Type {
	case "object", "":
		obj, ok := v.(map[string]any)
		if !ok {
			if s.Type == "" && len(s.Properties) == 0 && s.AdditionalProperties == nil {
				return nil // an untyped schema takes anything
			}
			return []string{fmt.Sprintf("%s: want an object, got %s", name, jsonKind(v))}
		}
		var out []string
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			child := join(at, k)
			ps, ok := s.Properties[k]
			if !ok {
				ps = s.AdditionalProperties
			}
			if ps == nil {
				out = append(out, fmt.Sprintf("%s: field %q is not in schema %s", child, k, schemaName(s)))
				continue
			}
			out = append(out, d.checkValue(methodID, child, ps, obj[k], depth+1)...)
		}
		props := make([]string, 0, len(s.Properties))
		for k := range s.Properties {
			props = append(props, k)
		}
		sort.Strings(props)
		for _, k := range props {
			ps := s.Properties[k]
			if ps.Deprecated || !contains(ps.Annotations.Required, methodID) {
				continue
			}
			if _, ok := obj[k]; !ok {
				out = append(out, fmt.Sprintf("%s: required field is missing", join(at, k)))
			}
		}
		return out
	case "array":
		arr, ok := v.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want an array, got %s", name, jsonKind(v))}
		}
		var out []string
		for i, item := range arr {
			if s.Items != nil {
				out = append(out, d.checkValue(methodID, fmt.Sprintf("%s[%d]", at, i), s.Items, item, depth+1)...)
			}
		}
		return out
	case "any":
		return nil
	default:
		if msg := checkJSONScalar(s.Type, s.Format, s.Enum, v); msg != "" {
			return []string{name + ": " + msg}
		}
		return nil
	}
}

// checkJSONScalar checks a JSON value against a scalar type. Discovery
// sends 64-bit integers as strings (format int64/uint64).
func checkJSONScalar(typ, format string, enum []string, v any) string {
	switch typ {
	case "string":
		s, ok := v.(string)
		if !ok {
			return "want a string, got " + jsonKind(v)
		}
		return checkScalar(typ, format, enum, s)
	case "boolean":
		if _, ok := v.(bool); !ok {
			return "want a boolean, got " + jsonKind(v)
		}
	case "integer", "number":
		n, ok := v.(json.Number)
		if !ok {
			return "want a number, got " + jsonKind(v)
		}
		return checkScalar(typ, format, nil, n.String())
	}
	return ""
}

// checkScalar checks a value given as text (a query parameter, or a JSON
// string) against a type, format and enum.
func checkScalar(typ, format string, enum []string, s string) string {
	switch typ {
	case "boolean":
		if s != "true" && s != "false" {
			return fmt.Sprintf("%q is not a boolean", s)
		}
	case "integer":
		if _, err := strconv.ParseInt(s, 10, 64); err != nil {
			return fmt.Sprintf("%q is not an integer", s)
		}
	case "number":
		if _, err := strconv.ParseFloat(s, 64); err != nil {
			return fmt.Sprintf("%q is not a number", s)
		}
	case "string":
		switch format {
		case "int64", "uint64", "int32", "uint32":
			if _, err := strconv.ParseInt(s, 10, 64); err != nil {
				return fmt.Sprintf("%q is not a %s", s, format)
			}
		case "date-time", "google-datetime":
			if !dateTimeRE.MatchString(s) {
				return fmt.Sprintf("%q is not an RFC 3339 date-time", s)
			}
		}
	}
	if len(enum) > 0 && !contains(enum, s) {
		return fmt.Sprintf("%q is not one of %s", s, strings.Join(enum, ", "))
	}
	return ""
}

var dateTimeRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$`)

func jsonKind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number, float64:
		return "a number"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

func schemaName(s *Schema) string {
	if s.ID != "" {
		return s.ID
	}
	return "(inline)"
}

func join(at, k string) string {
	if at == "" {
		return k
	}
	return at + "." + k
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// SpecPath is the path of a vendor description in the shared specs
// directory: shared/specs beside the repository root (the directory that
// holds go.mod), found by walking up from the working directory. It fails
// when the file is not there, so that a contract test cannot pass by
// checking nothing.
func SpecPath(name string) (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("discovery: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("discovery: no go.mod above the working directory: cannot find the repository root")
		}
		dir = parent
	}
	p := filepath.Join(filepath.Dir(dir), "shared", "specs", name)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("discovery: the vendor description %s is missing (looked for shared/specs beside the repository root %s): %w", name, dir, err)
	}
	return p, nil
}
