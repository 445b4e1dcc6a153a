package httpapi_test

import "github.com/aws/aws-lambda-go/events"

type eventT = events.APIGatewayV2HTTPRequest
