// Command generatedclient drives a Switchboard API with the Go client that
// oapi-codegen generates from openapi.json with its default settings, used
// as it is generated (TestGeneratedGoClientCompilesAndWorks writes it next
// to this file as client.gen.go). It exits non-zero, saying why, when an
// answer does not decode into the client's types as the document says.
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
)

func main() {
	if err := run(context.Background(), os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "generatedclient:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, server string) error {
	bearer := func(_ context.Context, r *http.Request) error {
		r.Header.Set("Authorization", "Bearer test-token")
		return nil
	}
	c, err := NewClientWithResponses(server, WithRequestEditorFn(bearer))
	if err != nil {
		return err
	}
	health, err := c.GetHealthWithResponse(ctx)
	if err != nil || health.JSON200 == nil {
		return fmt.Errorf("GET /health: %v %s", err, body(health.Body))
	}
	platforms, err := c.ListPlatformsWithResponse(ctx)
	if err != nil || platforms.JSON200 == nil || len(platforms.JSON200.Items) != 11 {
		return fmt.Errorf("GET /platforms: %v %s", err, body(platforms.Body))
	}
	for _, p := range platforms.JSON200.Items {
		if !p.Kind.Valid() || !p.Id.Valid() {
			return fmt.Errorf("GET /platforms: platform %q of kind %q is not in the document's enums", p.Id, p.Kind)
		}
	}
	creds := map[string]string{"apiKey": "rnd_test"}
	made, err := c.CreateConnectionWithResponse(ctx, "render", &CreateConnectionParams{}, CreateConnectionJSONRequestBody{Credentials: &creds})
	if err != nil || made.JSON201 == nil || made.JSON201.Platform != "render" || made.HTTPResponse.Header.Get("Location") != "/connections/render" {
		return fmt.Errorf("POST /connections/render: %v %s", err, body(made.Body))
	}
	missing, err := c.GetConnectionWithResponse(ctx, "youtube")
	if err != nil || missing.ApplicationproblemJSON404 == nil || missing.ApplicationproblemJSON404.Code == "" {
		return fmt.Errorf("GET /connections/youtube: want a 404 problem: %v %s", err, body(missing.Body))
	}
	return nil
}

func body(b []byte) string {
	if len(b) > 300 {
		b = b[:300]
	}
	return string(b)
}
