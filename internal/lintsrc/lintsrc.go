// Package lintsrc finds the production Go files that the repository's own
// lint tests read (apperr's code literals, the registry's platform names).
// It is test support: only tests import it.
package lintsrc

import (
	"io/fs"
	"path/filepath"
	"strings"
)

// Walk calls visit with the path of every production Go file under the
// roots: test files, testdata and the folders that hold no project code
// (node_modules, .cache) are passed over.
func Walk(visit func(path string) error, roots ...string) error {
	for _, root := range roots {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				switch d.Name() {
				case "testdata", "node_modules", ".cache":
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			return visit(path)
		})
		if err != nil {
			return err
		}
	}
	return nil
}
