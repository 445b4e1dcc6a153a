// Command deploy-worker is the Switchboard Lambda function fed by the table's
// stream with new deployment items. It only wires: internal/app builds the
// handler once per process, and lambda.Start serves it.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/switchboard-dev/switchboard/internal/app"
)

func main() {
	work, err := app.Worker(context.Background(), app.Options{})
	if err != nil {
		log.Fatalf("deploy-worker: %v", err)
	}
	lambda.Start(work)
}
