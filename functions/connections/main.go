// Command connections is the Lambda function that serves the connections
// capability over HTTP: the platform catalog (GET /platforms), the tenant's
// connections (list, connect with a key, refresh, disconnect), /health and
// /openapi.json. It is built from the connection service (the vault, every
// platform's endpoints and account readers) over the DynamoDB table.
//
// API Gateway (template.yaml) sends it the routes httpapi.Routes gives to "connections".
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/switchboard-dev/switchboard/internal/app"
)

func main() {
	ctx := context.Background()
	d, err := app.NewDeps(ctx, app.Connections, app.Options{}) // app.Config from the environment, checked
	if err != nil {
		log.Fatalf("connections: %v", err)
	}
	api, err := d.ConnectionsAPI(ctx)
	if err != nil {
		log.Fatalf("connections: %v", err)
	}
	lambda.Start(api.Handle)
}
