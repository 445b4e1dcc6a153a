// Command token-refresher is the Lambda function EventBridge runs every ten
// minutes (template.yaml). Each run does two jobs, one after the other:
//
//  1. connections: refresh and re-verify the credentials that are due;
//  2. deployments: the sweep, which hands a deployment no worker holds
//     (a crashed worker, a record given up on) back to deploy-worker.
//
// The sweep rides on this schedule so that stream-scheduler's minute,
// which must cost one query when idle, gets no second query, while a dead
// worker's deployment is still picked up within ten minutes. Both are
// built over the DynamoDB table: the connection service (the vault, the
// platforms' token endpoints) and the deployments' sweeper.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/switchboard-dev/switchboard/internal/app"
)

func main() {
	ctx := context.Background()
	d, err := app.NewDeps(ctx, app.TokenRefresher, app.Options{}) // app.Config from the environment, checked
	if err != nil {
		log.Fatalf("token-refresher: %v", err)
	}
	run, err := d.TokenRefresherRun(ctx) // refresh the due credentials, then sweep the deployments
	if err != nil {
		log.Fatalf("token-refresher: %v", err)
	}
	lambda.Start(run)
}
