// Command hello is the smallest aws-lambda-go function: it answers every
// event with a fixed API Gateway response. The bench builds it with the
// functions' own flags and times its cold start beside theirs, so the
// ratio shows what Switchboard's dependencies and wiring add to the Go
// runtime and aws-lambda-go themselves.
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(ctx context.Context, ev json.RawMessage) (events.APIGatewayV2HTTPResponse, error) {
		return events.APIGatewayV2HTTPResponse{
			StatusCode: 200,
			Headers:    map[string]string{"Content-Type": "application/json"},
			Body:       `{"hello":"world"}`,
		}, nil
	})
}
