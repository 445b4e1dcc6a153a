// Command meetings is the Lambda function that serves the meetings capability over
// HTTP: meetings (create, read, cancel). It is built from the meeting service (the
// meeting platforms' clients, the connection service for tokens, the vault for
// links that are credentials) and the idempotency store, over the DynamoDB table.
//
// API Gateway (template.yaml) sends it the routes httpapi.Routes gives to "meetings".
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/switchboard-dev/switchboard/internal/app"
)

func main() {
	ctx := context.Background()
	d, err := app.NewDeps(ctx, app.Meetings, app.Options{}) // app.Config from the environment, checked
	if err != nil {
		log.Fatalf("meetings: %v", err)
	}
	api, err := d.MeetingsAPI(ctx)
	if err != nil {
		log.Fatalf("meetings: %v", err)
	}
	lambda.Start(api.Handle)
}
