// Command hellosdk is hello world with the two AWS SDK clients every
// Switchboard function builds, DynamoDB and KMS, made at init from static
// credentials as Lambda gives them and never called. The bench times its
// cold start beside hello world's and the functions': what it adds to hello
// world is what linking and building those clients costs, the floor under
// any function that uses them.
package main

import (
	"context"
	"encoding/json"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
)

func main() {
	cfg := aws.Config{
		Region:      os.Getenv("AWS_REGION"),
		Credentials: credentials.NewStaticCredentialsProvider(os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), os.Getenv("AWS_SESSION_TOKEN")),
	}
	db, keys := dynamodb.NewFromConfig(cfg), kms.NewFromConfig(cfg)
	lambda.Start(func(ctx context.Context, ev json.RawMessage) (events.APIGatewayV2HTTPResponse, error) {
		_, _ = db, keys
		return events.APIGatewayV2HTTPResponse{
			StatusCode: 200,
			Headers:    map[string]string{"Content-Type": "application/json"},
			Body:       `{"hello":"world"}`,
		}, nil
	})
}
