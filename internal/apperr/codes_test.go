package apperr_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

// declaredCodes are the values of the Code constants in codes.go, read
// from its source: the one list, without a copy to keep in step.
func declaredCodes(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "codes.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Code" {
				t.Fatalf("codes.go: constant %s is not declared as a Code", vs.Names[0].Name)
			}
			for _, v := range vs.Values {
				s, err := strconv.Unquote(v.(*ast.BasicLit).Value)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, s)
			}
		}
	}
	return out
}

// TestCodesMatchOpenAPI holds the typed codes equal to the enum of the
// Problem schema's code in openapi.json: a code added on one side only
// fails here.
func TestCodesMatchOpenAPI(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join(repoRoot, "internal", "httpapi", "openapi.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Components struct {
			Schemas struct {
				Problem struct {
					Properties struct {
						Code struct {
							Enum []string `json:"enum"`
						} `json:"code"`
					} `json:"properties"`
				} `json:"Problem"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	documented := doc.Components.Schemas.Problem.Properties.Code.Enum
	declared := declaredCodes(t)
	if len(declared) == 0 || len(documented) == 0 {
		t.Fatalf("declared %d codes, openapi.json documents %d: both lists must exist", len(declared), len(documented))
	}
	for _, c := range declared {
		if !slices.Contains(documented, c) {
			t.Errorf("code %q is declared in codes.go but not in openapi.json's Problem.code enum", c)
		}
	}
	for _, c := range documented {
		if !slices.Contains(declared, c) {
			t.Errorf("code %q is in openapi.json's Problem.code enum but not declared in codes.go", c)
		}
	}
	seen := map[string]bool{}
	for _, c := range declared {
		if seen[c] {
			t.Errorf("code %q is declared twice", c)
		}
		seen[c] = true
	}
}

// TestNoCodeLiteralsCatches runs the lint on a file that holds each
// forbidden form once, so the lint cannot pass by finding nothing.
func TestNoCodeLiteralsCatches(t *testing.T) {
	t.Parallel()
	got := codeLiteralFindings(t, filepath.Join("testdata", "lint"))
	if len(got) != 11 {
		t.Fatalf("the lint found %d of the 11 forbidden literals in testdata/lint:\n%v", len(got), got)
	}
}
