// Command webhooks is the Lambda function that serves the events capability over
// HTTP: the tenant's event feed (GET /events) and its webhook endpoints (create,
// list, read, delete, rotate the secret, list deliveries). It is built from the
// event service (the vault seals the signing secrets; the SSRF guard checks each
// URL) and the idempotency store, over the DynamoDB table.
//
// API Gateway (template.yaml) sends it the routes httpapi.Routes gives to "webhooks".
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/switchboard-dev/switchboard/internal/app"
)

func main() {
	ctx := context.Background()
	d, err := app.NewDeps(ctx, app.Webhooks, app.Options{}) // app.Config from the environment, checked
	if err != nil {
		log.Fatalf("webhooks: %v", err)
	}
	api, err := d.WebhooksAPI(ctx)
	if err != nil {
		log.Fatalf("webhooks: %v", err)
	}
	lambda.Start(api.Handle)
}
