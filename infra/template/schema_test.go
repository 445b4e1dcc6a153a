package template_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dlclark/regexp2"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/switchboard-dev/switchboard/infra/template"
)

// samSchema is the SAM template schema (JSON Schema draft-04, about 750 KB),
// compiled once per test binary.
var samSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	dir, err := repoRoot()
	if err != nil {
		return nil, err
	}
	path := filepath.Join(filepath.Dir(dir), "shared", "specs", "sam.schema.json")
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c := jsonschema.NewCompiler()
	// The file says "$schema": draft-04 itself; the default only matters if
	// it ever stops saying so.
	c.DefaultDraft(jsonschema.Draft4)
	// JSON Schema patterns are ECMA-262 regular expressions, and the SAM
	// schema's one pattern, ^(?!AWS::Serverless::).+$ (any resource type that
	// is not SAM's), needs a lookahead that Go's regexp lacks.
	c.UseRegexpEngine(ecmaRegexp)
	const url = "file:///sam.schema.json"
	if err := c.AddResource(url, doc); err != nil {
		return nil, err
	}
	return c.Compile(url)
})

type ecma regexp2.Regexp

func (re *ecma) MatchString(s string) bool {
	ok, err := (*regexp2.Regexp)(re).MatchString(s)
	return err == nil && ok
}

func (re *ecma) String() string { return (*regexp2.Regexp)(re).String() }

func ecmaRegexp(s string) (jsonschema.Regexp, error) {
	re, err := regexp2.Compile(s, regexp2.ECMAScript)
	if err != nil {
		return nil, err
	}
	return (*ecma)(re), nil
}

func schema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	specsDir(t) // a clear message when shared/ is missing
	sch, err := samSchema()
	if err != nil {
		t.Fatalf("compiling sam.schema.json: %v", err)
	}
	return sch
}

func TestTemplateIsAValidSAMTemplate(t *testing.T) {
	t.Parallel()
	sch := schema(t)
	if err := sch.Validate(tpl(t).m); err != nil {
		t.Fatalf("template.yaml does not validate against sam.schema.json:\n%s", describe(err))
	}
}

// The schema is only worth running if it refuses a wrong template: SAM
// resources are checked strictly (the lookahead pattern keeps them from
// passing as "any other resource").
func TestSAMSchemaRefusesAMisspelledFunctionProperty(t *testing.T) {
	t.Parallel()
	sch := schema(t)
	data, err := os.ReadFile(filepath.Join(root(t), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	bad, err := template.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	for id, r := range obj(bad["Resources"]) {
		if obj(r)["Type"] == "AWS::Serverless::Function" {
			obj(obj(r)["Properties"])["Timeoutt"] = 29
			err := sch.Validate(bad)
			if err == nil || !strings.Contains(describe(err), "Timeoutt") {
				t.Fatalf("with Timeoutt on %s the schema answered %v, want a complaint about Timeoutt", id, err)
			}
			return
		}
	}
	t.Fatal("template.yaml has no AWS::Serverless::Function")
}

func TestSAMSchemaRefusesAnUnknownEventType(t *testing.T) {
	t.Parallel()
	sch := schema(t)
	bad := map[string]any{
		"Transform": "AWS::Serverless-2016-10-31",
		"Resources": map[string]any{
			"F": map[string]any{
				"Type": "AWS::Serverless::Function",
				"Properties": map[string]any{
					"CodeUri": "build/x/",
					"Events":  map[string]any{"E": map[string]any{"Type": "Cron", "Properties": map[string]any{}}},
				},
			},
		},
	}
	if err := sch.Validate(bad); err == nil {
		t.Fatal("the schema accepted an event of Type Cron")
	}
}

// describe flattens a validation error to its leaves, one per line, each
// with its instance location.
func describe(err error) string {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err.Error()
	}
	var lines []string
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			lines = append(lines, fmt.Sprintf("  /%s: %s", strings.Join(e.InstanceLocation, "/"), e.ErrorKind))
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	return strings.Join(lines, "\n")
}
