// Package contract holds platform clients' requests to the vendors'
// published API descriptions (shared/specs/): a request a client sends to a
// fake must be one the real service documents, with its method, path,
// parameters and body fields.
//
// It is used by tests only. The descriptions are data beside the
// repository: SpecPath finds them and fails loudly when they are missing;
// a contract check is never skipped.
package contract

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// Request is one request as a fake received it.
type Request struct {
	Method string
	// URL is the path and raw query as received, relative to the fake's
	// root (e.g. "/v2/users/me/meetings?x=1").
	URL    string
	Header http.Header
	Body   []byte
}

func (r Request) String() string { return r.Method + " " + r.URL }

// SpecPath is the path of shared/specs/<name>: the repository root is the
// nearest directory above the working directory holding go.mod, and its
// parent holds shared/. SPECS_DIR overrides the directory.
func SpecPath(name string) (string, error) {
	dir := os.Getenv("SPECS_DIR")
	if dir == "" {
		root, err := repoRoot()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(filepath.Dir(root), "shared", "specs")
	}
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("contract: the API description %s is missing (looked in %s; the repository's parent must hold shared/specs): %w", name, dir, err)
	}
	return p, nil
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("contract: no go.mod above the working directory")
		}
		dir = parent
	}
}

// CheckAll checks every request and joins the failures, each named by its
// request.
func CheckAll(check func(Request) error, reqs []Request) error {
	var errs []error
	for _, r := range reqs {
		if err := check(r); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", r, err))
		}
	}
	return errors.Join(errs...)
}

// trimPrefix removes the fake's path prefix, failing when it is not there.
func trimPrefix(path, prefix string) (string, error) {
	if prefix == "" {
		return path, nil
	}
	rest, ok := strings.CutPrefix(path, prefix)
	if !ok || (rest != "" && rest[0] != '/' && rest[0] != '?') {
		return "", fmt.Errorf("path %q is not under %q", path, prefix)
	}
	return rest, nil
}
