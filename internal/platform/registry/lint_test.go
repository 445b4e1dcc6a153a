package registry_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/lintsrc"
	"github.com/switchboard-dev/switchboard/internal/platform/registry"
)

// repoRoot is the module root, three levels above this package.
const repoRoot = "../../.."

// notYetMoved are the production files that still name a platform while
// their knowledge moves into the platform packages (issue 13 item 1). The
// list only shrinks: an entry that no longer names a platform fails the
// test too, so it is removed when its file is done.
var notYetMoved = map[string]bool{
	"internal/platform/platform.go": true, // the ID constants
}

// allowed reports whether a file may name platforms: a platform's own
// package (with its fakes) and the one list.
func allowed(rel string, ids map[string]bool) bool {
	parts := strings.Split(rel, "/")
	if len(parts) >= 4 && parts[0] == "internal" && parts[1] == "platform" {
		dir := parts[2]
		return dir == "registry" || ids[dir] || packageOf(dir, ids)
	}
	return false
}

// packageOf reports whether dir is a platform's package whose name is not
// its id (googlemeet for google-meet, teams for microsoft-teams).
func packageOf(dir string, ids map[string]bool) bool {
	for id := range ids {
		if strings.ReplaceAll(id, "-", "") == dir || strings.HasSuffix(id, "-"+dir) {
			return true
		}
	}
	return false
}

// platformNamings walks every production Go file and names each place
// outside the allowed ones that names a specific platform: a selector of
// one of the platform ID constants (platform.YouTube) or a string literal
// that is a platform id ("youtube").
func platformNamings(t *testing.T) []string {
	t.Helper()
	ids := map[string]bool{}
	for _, d := range registry.All() {
		ids[string(d.ID)] = true
	}
	fset := token.NewFileSet()
	consts := idConstants(t, fset)
	var out []string
	var roots []string
	for _, root := range []string{"internal", "infra", "functions"} {
		roots = append(roots, filepath.Join(repoRoot, root))
	}
	err := lintsrc.Walk(func(path string) error {
		rel, err := filepath.Rel(repoRoot, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if allowed(rel, ids) {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.SelectorExpr:
				if x, ok := n.X.(*ast.Ident); ok && x.Name == "platform" && consts[n.Sel.Name] {
					out = append(out, fmt.Sprintf("%s: %s platform.%s", rel, fset.Position(n.Pos()), n.Sel.Name))
				}
			case *ast.BasicLit:
				if n.Kind == token.STRING {
					if s, err := strconv.Unquote(n.Value); err == nil && ids[s] {
						out = append(out, fmt.Sprintf("%s: %s %q", rel, fset.Position(n.Pos()), s))
					}
				}
			case *ast.ValueSpec:
				for _, name := range n.Names {
					if rel == "internal/platform/platform.go" && consts[name.Name] {
						out = append(out, fmt.Sprintf("%s: %s const %s", rel, fset.Position(name.Pos()), name.Name))
					}
				}
			}
			return true
		})
		return nil
	}, roots...)
	if err != nil {
		t.Fatalf("walking %v: %v", roots, err)
	}
	sort.Strings(out)
	return out
}

// idConstants are the names of the constants of type platform.ID declared
// in internal/platform.
func idConstants(t *testing.T, fset *token.FileSet) map[string]bool {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(repoRoot, "internal/platform", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, path := range paths {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			g, ok := decl.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, s := range g.Specs {
				vs := s.(*ast.ValueSpec)
				if typ, ok := vs.Type.(*ast.Ident); ok && typ.Name == "ID" {
					for _, n := range vs.Names {
						out[n.Name] = true
					}
				}
			}
		}
	}
	return out
}

func TestNoProductionFileOutsideThePlatformPackagesAndTheListNamesAPlatform(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, f := range platformNamings(t) {
		file := f[:strings.Index(f, ":")]
		seen[file] = true
		if !notYetMoved[file] {
			t.Errorf("%s: a platform is named outside its package and internal/platform/registry; put the knowledge in its Registration", f)
		}
	}
	for file := range notYetMoved {
		if !seen[file] {
			t.Errorf("%s names no platform any more: remove it from notYetMoved", file)
		}
	}
}
