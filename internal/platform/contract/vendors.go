package contract

import (
	"fmt"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
)

// The descriptions are large (Zoom's is 2.7 MB): each is loaded once per
// test binary and shared; an OpenAPI is read-only after loading.
var (
	zoomOnce  sync.Once
	zoomDoc   *OpenAPI
	zoomErr   error
	graphOnce sync.Once
	graphDoc  *OpenAPI
	graphErr  error
)

// Zoom is Zoom's Meeting API description (zoom-meeting-openapi.json, Zoom's
// own export) for requests a fake received under /v2. Two defects of the
// export are corrected: a schema with a boolean `required` (Swagger 2.0
// style, which stops the document loading at all), and the userId path
// parameter, declared oneOf [string, email string, enum "me"]: "me" matches
// two branches, so strict oneOf rejects the very value Zoom documents for
// user-level apps; it is read as anyOf.
func Zoom() (*OpenAPI, error) {
	zoomOnce.Do(func() {
		p, err := SpecPath("zoom-meeting-openapi.json")
		if err != nil {
			zoomErr = err
			return
		}
		zoomDoc, zoomErr = LoadOpenAPI(p, "/v2", Fixes{Raw: dropBooleanRequired, Doc: oneOfToAnyOf("userId")})
	})
	return zoomDoc, zoomErr
}

// oneOfToAnyOf turns oneOf into anyOf in the schemas of path parameters
// with the given name.
func oneOfToAnyOf(param string) func(*openapi3.T) error {
	return func(doc *openapi3.T) error {
		n := 0
		for _, item := range doc.Paths.Map() {
			params := item.Parameters
			for _, op := range item.Operations() {
				params = append(params, op.Parameters...)
			}
			for _, p := range params {
				if p == nil || p.Value == nil || p.Value.Name != param || p.Value.In != "path" || p.Value.Schema == nil {
					continue
				}
				s := p.Value.Schema.Value
				if s != nil && len(s.OneOf) > 0 {
					s.AnyOf, s.OneOf = s.OneOf, nil
					n++
				}
			}
		}
		if n == 0 {
			return fmt.Errorf("no %s parameter with oneOf: the description changed; review the correction", param)
		}
		return nil
	}
}

// Graph is Microsoft Graph v1.0's cloud communications description
// (msgraph-cloudcommunications-v1.0.yml) for requests a fake received under
// /v1.0.
//
// This description documents onlineMeetings only as
// /communications/onlineMeetings (it has no /me/... or /users/{user-id}/...
// paths), with actions under their OData names (microsoft.graph.createOrGet).
// The entity, its key and the action's parameters are the same whichever
// navigation reaches them, so /me/onlineMeetings[/...] is checked as
// /communications/onlineMeetings[/...] and .../createOrGet as
// .../microsoft.graph.createOrGet. Any other path, GET /me included, is not
// in this description and fails the check: a test that sends one must say so.
func Graph() (*OpenAPI, error) {
	graphOnce.Do(func() {
		p, err := SpecPath("msgraph-cloudcommunications-v1.0.yml")
		if err != nil {
			graphErr = err
			return
		}
		graphDoc, graphErr = LoadOpenAPI(p, "/v1.0", Fixes{Doc: flattenAllOf("microsoft.graph.onlineMeeting")})
		if graphDoc != nil {
			graphDoc.Rewrite = graphPath
		}
	})
	return graphDoc, graphErr
}

// flattenAllOf merges the allOf parts of a component schema into one object
// schema, in place (every $ref to it sees the merge). Graph's description
// builds onlineMeeting as allOf [onlineMeetingBase [entity, ...], ...],
// each part with additionalProperties {type: object}: checked part by
// part, every property another part declares (subject, startDateTime)
// counts as an additional one and "must be an object", so no PATCH body
// could pass. Merged, each property is checked against its own schema and
// an undeclared one must still be an object.
func flattenAllOf(name string) func(*openapi3.T) error {
	return func(doc *openapi3.T) error {
		r := doc.Components.Schemas[name]
		if r == nil || r.Value == nil || len(r.Value.AllOf) == 0 {
			return fmt.Errorf("%s has no allOf: the description changed; review the correction", name)
		}
		flat := openapi3.Schema{Type: &openapi3.Types{openapi3.TypeObject}, Properties: openapi3.Schemas{}, Title: name}
		var collect func(s *openapi3.Schema)
		collect = func(s *openapi3.Schema) {
			for _, part := range s.AllOf {
				if part != nil && part.Value != nil {
					collect(part.Value)
				}
			}
			for k, v := range s.Properties {
				flat.Properties[k] = v
			}
			if s.AdditionalProperties.Schema != nil {
				flat.AdditionalProperties = s.AdditionalProperties
			}
		}
		collect(r.Value)
		*r.Value = flat
		return nil
	}
}

func graphPath(p string) (string, error) {
	var rest string
	switch {
	case strings.HasPrefix(p, "/me/onlineMeetings"):
		rest = strings.TrimPrefix(p, "/me/onlineMeetings")
	case strings.HasPrefix(p, "/users/"):
		parts := strings.SplitN(strings.TrimPrefix(p, "/users/"), "/", 2)
		if len(parts) == 2 && strings.HasPrefix(parts[1], "onlineMeetings") {
			rest = strings.TrimPrefix(parts[1], "onlineMeetings")
			break
		}
		return "", fmt.Errorf("%s is not in the cloud communications description", p)
	default:
		return "", fmt.Errorf("%s is not in the cloud communications description", p)
	}
	if rest != "" && rest[0] != '/' {
		return "", fmt.Errorf("%s is not in the cloud communications description", p)
	}
	switch rest {
	case "/createOrGet":
		rest = "/microsoft.graph.createOrGet"
	}
	return "/communications/onlineMeetings" + rest, nil
}
