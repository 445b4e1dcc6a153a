// Command livestreams is the Switchboard Lambda function that serves the HTTP
// routes the route table gives to "livestreams". It only wires: internal/app builds
// the handler once per process, and lambda.Start serves it.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/switchboard-dev/switchboard/internal/app"
)

func main() {
	api, err := app.HTTP(context.Background(), "livestreams", app.Options{})
	if err != nil {
		log.Fatalf("livestreams: %v", err)
	}
	lambda.Start(api.Handle)
}
