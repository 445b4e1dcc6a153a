// Command stream-scheduler is the Lambda function EventBridge runs every
// minute (template.yaml). It serves the livestreams capability's schedule:
// it starts, ends and retries the livestreams that are due. It is built
// from the livestream service (the broadcasters, the connection service for
// tokens, the vault for stream keys) over the DynamoDB table.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/switchboard-dev/switchboard/internal/app"
)

func main() {
	ctx := context.Background()
	d, err := app.NewDeps(ctx, app.StreamSched, app.Options{}) // app.Config from the environment, checked
	if err != nil {
		log.Fatalf("stream-scheduler: %v", err)
	}
	run, err := d.StreamSchedulerRun(ctx) // start and end the livestreams that are due
	if err != nil {
		log.Fatalf("stream-scheduler: %v", err)
	}
	lambda.Start(run)
}
