// Command stream-scheduler is the Switchboard Lambda function run by an EventBridge
// schedule. It only wires: internal/app builds the handler once per process,
// and lambda.Start serves it.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/switchboard-dev/switchboard/internal/app"
)

func main() {
	run, err := app.Scheduled(context.Background(), "stream-scheduler", app.Options{})
	if err != nil {
		log.Fatalf("stream-scheduler: %v", err)
	}
	lambda.Start(run)
}
