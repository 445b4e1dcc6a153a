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

// module is the module path (go.mod).
const module = "github.com/switchboard-dev/switchboard"

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
// outside the allowed ones that names a specific platform: an import of a
// platform's package (internal/platform/youtube) or a string literal that
// is a platform id ("youtube").
func platformNamings(t *testing.T) []string {
	t.Helper()
	ids := map[string]bool{}
	for _, d := range registry.All() {
		ids[string(d.ID)] = true
	}
	fset := token.NewFileSet()
	platformPackages := platformImportPaths(t, ids)
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
		for _, imp := range f.Imports {
			if p, err := strconv.Unquote(imp.Path.Value); err == nil && platformPackages[p] {
				out = append(out, fmt.Sprintf("%s: %s imports %s", rel, fset.Position(imp.Pos()), p))
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.BasicLit:
				if n.Kind == token.STRING {
					if s, err := strconv.Unquote(n.Value); err == nil && ids[s] {
						out = append(out, fmt.Sprintf("%s: %s %q", rel, fset.Position(n.Pos()), s))
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

// platformImportPaths are the import paths of the platforms' own packages
// (internal/platform/<id>): importing one names its platform, since each
// exports its ID and client.
func platformImportPaths(t *testing.T, ids map[string]bool) map[string]bool {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(repoRoot, "internal/platform", "*"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, dir := range dirs {
		name := filepath.Base(dir)
		if ids[name] || packageOf(name, ids) {
			out[module+"/internal/platform/"+name] = true
		}
	}
	if len(out) != len(ids) {
		t.Fatalf("found %d platform packages for %d registered platforms: %v", len(out), len(ids), out)
	}
	return out
}

func TestNoProductionFileOutsideThePlatformPackagesAndTheListNamesAPlatform(t *testing.T) {
	t.Parallel()
	for _, f := range platformNamings(t) {
		t.Errorf("%s: a platform is named outside its package and internal/platform/registry; put the knowledge in its Registration", f)
	}
}
