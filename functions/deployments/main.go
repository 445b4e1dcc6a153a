// Command deployments is the Lambda function that serves the deployments
// capability over HTTP: deployments (create, read, logs, cancel, roll back), their
// limits and project-name availability. It is built from the deployment service
// (the deployers, the connection service for tokens, the vault, the rate limits)
// and the idempotency store, over the DynamoDB table; deploy-worker runs what it
// accepts.
//
// API Gateway (template.yaml) sends it the routes httpapi.Routes gives to "deployments".
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/switchboard-dev/switchboard/internal/app"
)

func main() {
	ctx := context.Background()
	d, err := app.NewDeps(ctx, app.Deployments, app.Options{}) // app.Config from the environment, checked
	if err != nil {
		log.Fatalf("deployments: %v", err)
	}
	api, err := d.DeploymentsAPI(ctx)
	if err != nil {
		log.Fatalf("deployments: %v", err)
	}
	lambda.Start(api.Handle)
}
