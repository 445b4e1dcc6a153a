package contract

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
)

// renderDetails is the serviceDetails schema of each service type in
// POST /services (render-public-api.json servicePOST.serviceDetails).
var renderDetails = map[string]string{
	"static_site":       "staticSiteDetailsPOST",
	"web_service":       "webServiceDetailsPOST",
	"private_service":   "privateServiceDetailsPOST",
	"background_worker": "backgroundWorkerDetailsPOST",
	"cron_job":          "cronJobDetailsPOST",
}

// RenderAPI is Render's public API description with the one check its
// schema cannot express: which serviceDetails a service type takes.
type RenderAPI struct {
	*OpenAPI
}

type renderOnce struct {
	once sync.Once
	doc  *RenderAPI
	err  error
}

// Render is Render's public API description (render-public-api.json, the
// January 2026 copy of api-docs.render.com) for requests a fake received
// under /v1. Two corrections, each because the document refuses what
// Render documents or takes:
//   - servicePOST/servicePATCH.serviceDetails and their envSpecificDetails
//     are oneOf lists whose members declare no discriminator and leave
//     additional properties open (staticSiteDetailsPOST requires nothing),
//     so every web service's details match several members and strict
//     oneOf refuses them all. They are read as anyOf, and Check picks the
//     member by the body's `type` and the details' `runtime` instead, or,
//     for an update (which names no type), wants one member that declares
//     every field given (RenderAPI.Check).
//   - paidPlan (a web service's plan) lacks "free", the instance type
//     Render's own MCP server offers for new web services
//     (render-oss/render-mcp-server, package mcpserver,
//     ValidServicePlanValues: client.PaidPlan("free")).
func Render() (*RenderAPI, error) {
	renderDesc.once.Do(func() {
		p, err := SpecPath("render-public-api.json")
		if err != nil {
			renderDesc.err = err
			return
		}
		o, err := LoadOpenAPI(p, "/v1", Fixes{Doc: fixRender})
		if err != nil {
			renderDesc.err = err
			return
		}
		renderDesc.doc = &RenderAPI{OpenAPI: o}
	})
	return renderDesc.doc, renderDesc.err
}

// renderDesc is loaded once per test binary, like the other descriptions.
var renderDesc renderOnce

func fixRender(doc *openapi3.T) error {
	schemas := doc.Components.Schemas
	var loose []*openapi3.Schema
	for _, name := range []string{"servicePOST", "servicePATCH"} {
		if r := schemas[name]; r != nil && r.Value != nil && r.Value.Properties["serviceDetails"] != nil {
			loose = append(loose, r.Value.Properties["serviceDetails"].Value)
		}
	}
	for _, name := range []string{"envSpecificDetailsPOST", "envSpecificDetailsPATCH"} {
		if r := schemas[name]; r != nil && r.Value != nil {
			loose = append(loose, r.Value)
		}
	}
	plan := schemas["paidPlan"]
	if len(loose) != 4 || plan == nil || plan.Value == nil {
		return fmt.Errorf("servicePOST, servicePATCH, their envSpecificDetails or paidPlan is missing: the description changed; review the corrections")
	}
	for _, s := range loose {
		if s == nil || len(s.OneOf) == 0 {
			return fmt.Errorf("a oneOf the correction expects is gone: the description changed; review the corrections")
		}
		s.AnyOf, s.OneOf = s.OneOf, nil
	}
	if !slices.Contains(plan.Value.Enum, any("free")) {
		plan.Value.Enum = append(plan.Value.Enum, "free")
	}
	return nil
}

// Check validates the request against the description and, for
// POST /services, its serviceDetails against the schema of its type: a
// static site's details must not carry a runtime, a web service's must.
func (r *RenderAPI) Check(req Request) error {
	if err := r.OpenAPI.Check(req); err != nil {
		return err
	}
	path, _, _ := strings.Cut(req.URL, "?")
	if req.Method == "PATCH" && renderServicePath.MatchString(path) {
		return r.checkUpdate(req.Body)
	}
	if req.Method != "POST" || strings.TrimSuffix(path, "/") != r.Prefix+"/services" {
		return nil
	}
	var body struct {
		Type           string          `json:"type"`
		ServiceDetails json.RawMessage `json:"serviceDetails"`
	}
	if err := json.Unmarshal(req.Body, &body); err != nil {
		return fmt.Errorf("body is not JSON: %w", err)
	}
	name, ok := renderDetails[body.Type]
	if !ok {
		return fmt.Errorf("service type %q has no details schema", body.Type)
	}
	if len(body.ServiceDetails) == 0 {
		return nil
	}
	schema := r.Doc.Components.Schemas[name].Value
	var details any
	if err := json.Unmarshal(body.ServiceDetails, &details); err != nil {
		return err
	}
	if err := schema.VisitJSON(details, openapi3.MultiErrors()); err != nil {
		return fmt.Errorf("serviceDetails of a %s (%s): %w", body.Type, name, err)
	}
	if unknown := UndeclaredProperties(schema, details, ".serviceDetails"); len(unknown) > 0 {
		return fmt.Errorf("serviceDetails fields %s does not declare: %s", name, strings.Join(unknown, ", "))
	}
	return r.checkEnvSpecific(details)
}

var renderServicePath = regexp.MustCompile(`^/v1/services/[^/]+$`)

// checkUpdate holds PATCH /services/{id}'s serviceDetails to one of the
// update schemas that declares every field given and accepts its values.
func (r *RenderAPI) checkUpdate(raw []byte) error {
	var body struct {
		ServiceDetails map[string]any `json:"serviceDetails"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		return fmt.Errorf("body is not JSON: %w", err)
	}
	if body.ServiceDetails == nil {
		return nil
	}
	var errs []string
	for _, name := range []string{"staticSiteDetailsPATCH", "webServiceDetailsPATCH", "privateServiceDetailsPATCH", "backgroundWorkerDetailsPATCH", "cronJobDetailsPATCH"} {
		schema := r.Doc.Components.Schemas[name].Value
		err := schema.VisitJSON(body.ServiceDetails, openapi3.MultiErrors())
		unknown := UndeclaredProperties(schema, body.ServiceDetails, ".serviceDetails")
		if err == nil && len(unknown) == 0 {
			return nil
		}
		errs = append(errs, fmt.Sprintf("%s: %v %v", name, err, unknown))
	}
	return fmt.Errorf("serviceDetails match no service type's update schema: %s", strings.Join(errs, "; "))
}

// checkEnvSpecific holds envSpecificDetails to the member its runtime
// takes: dockerDetailsPOST for docker and image, else
// nativeEnvironmentDetailsPOST ("Fields for native environment (runtime)
// services", which requires buildCommand and startCommand).
func (r *RenderAPI) checkEnvSpecific(details any) error {
	m, _ := details.(map[string]any)
	env, ok := m["envSpecificDetails"]
	if !ok {
		return nil
	}
	name := "nativeEnvironmentDetailsPOST"
	if rt := m["runtime"]; rt == "docker" || rt == "image" {
		name = "dockerDetailsPOST"
	}
	schema := r.Doc.Components.Schemas[name].Value
	if err := schema.VisitJSON(env, openapi3.MultiErrors()); err != nil {
		return fmt.Errorf("envSpecificDetails of runtime %v (%s): %w", m["runtime"], name, err)
	}
	if unknown := UndeclaredProperties(schema, env, ".serviceDetails.envSpecificDetails"); len(unknown) > 0 {
		return fmt.Errorf("envSpecificDetails fields %s does not declare: %s", name, strings.Join(unknown, ", "))
	}
	return nil
}
