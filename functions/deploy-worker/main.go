// Command deploy-worker is the Lambda function fed by the table's DynamoDB
// stream (template.yaml) with new deployment items and the sweep's resume
// tickets. It serves the deployments capability's work: each record names
// a deployment (the store reads it), which it runs to its end; a record
// whose work could not be recorded is reported, so Lambda delivers it
// again. It is built from the deployers, the connection service for tokens
// and the vault, over the DynamoDB table.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/switchboard-dev/switchboard/internal/app"
)

func main() {
	ctx := context.Background()
	d, err := app.NewDeps(ctx, app.DeployWorker, app.Options{}) // app.Config from the environment, checked
	if err != nil {
		log.Fatalf("deploy-worker: %v", err)
	}
	run, err := d.DeployWorkerRun(ctx) // run each deployment a stream record names to its end
	if err != nil {
		log.Fatalf("deploy-worker: %v", err)
	}
	lambda.Start(run)
}
