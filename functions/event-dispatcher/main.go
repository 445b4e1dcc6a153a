// Command event-dispatcher is the Lambda function with two triggers
// (template.yaml): the table's DynamoDB stream, whose records (old and new
// images) it turns into events in the tenant's feed and webhook deliveries,
// each tried once at once; and an EventBridge schedule, every minute, on
// which it tries the deliveries that are due again. It is built from the
// event dispatcher (the vault opens the signing secrets; the SSRF guard checks
// every address it dials), over the DynamoDB table.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/switchboard-dev/switchboard/internal/app"
)

func main() {
	ctx := context.Background()
	d, err := app.NewDeps(ctx, app.EventDispatcher, app.Options{}) // app.Config from the environment, checked
	if err != nil {
		log.Fatalf("event-dispatcher: %v", err)
	}
	run, err := d.EventDispatcherRun(ctx) // stream records to events and deliveries; on the schedule, retries
	if err != nil {
		log.Fatalf("event-dispatcher: %v", err)
	}
	lambda.Start(run)
}
