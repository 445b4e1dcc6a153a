// Command livestreams is the Lambda function that serves the livestreams
// capability over HTTP: livestreams (create, read, update, cancel, go live, end,
// ingest) and a connection's destinations. It is built from the livestream service
// (the broadcasters, the connection service for tokens, the vault for stream keys)
// and the idempotency store, over the DynamoDB table.
//
// API Gateway (template.yaml) sends it the routes httpapi.Routes gives to "livestreams".
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/switchboard-dev/switchboard/internal/app"
)

func main() {
	ctx := context.Background()
	d, err := app.NewDeps(ctx, app.Livestreams, app.Options{}) // app.Config from the environment, checked
	if err != nil {
		log.Fatalf("livestreams: %v", err)
	}
	api, err := d.LivestreamsAPI(ctx)
	if err != nil {
		log.Fatalf("livestreams: %v", err)
	}
	lambda.Start(api.Handle)
}
