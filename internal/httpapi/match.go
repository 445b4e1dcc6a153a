package httpapi

import "strings"

// Matcher finds the route for a method and a concrete path the way API
// Gateway does: a literal segment beats a {param} segment at the same place.
type Matcher struct {
	routes []Route
}

// NewMatcher indexes routes.
func NewMatcher(routes []Route) *Matcher { return &Matcher{routes: routes} }

// Match returns the route, its path parameters, and whether the path exists
// under some other method (for 405 answers).
func (m *Matcher) Match(method, path string) (route Route, params map[string]string, found, pathExists bool) {
	segs := splitPath(path)
	bestScore := -1
	for _, r := range m.routes {
		p, score, ok := matchSegments(splitPath(r.Path), segs)
		if !ok {
			continue
		}
		pathExists = true
		if r.Method != method || score <= bestScore {
			continue
		}
		route, params, bestScore, found = r, p, score, true
	}
	return route, params, found, pathExists
}

// AllowedMethods lists the methods that path answers to.
func (m *Matcher) AllowedMethods(path string) []string {
	segs := splitPath(path)
	var out []string
	for _, r := range m.routes {
		if _, _, ok := matchSegments(splitPath(r.Path), segs); ok {
			out = append(out, r.Method)
		}
	}
	return out
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// matchSegments scores a match by its literal segments, weighted by place,
// so that /deployments/limits beats /deployments/{id}.
func matchSegments(pattern, segs []string) (map[string]string, int, bool) {
	if len(pattern) != len(segs) {
		return nil, 0, false
	}
	var params map[string]string
	score := 0
	for i, p := range pattern {
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") {
			if segs[i] == "" {
				return nil, 0, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[p[1:len(p)-1]] = segs[i]
			continue
		}
		if p != segs[i] {
			return nil, 0, false
		}
		score += 1 << (len(pattern) - i)
	}
	return params, score, true
}
