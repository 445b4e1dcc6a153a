// Command oauth is the Lambda function that serves the connections capability's
// OAuth routes: the start of a grant (POST /connections/{platform}/oauth) and the
// platforms' callbacks (GET /oauth/{platform}/callback). It is built from the
// connection service (the vault, every platform's OAuth endpoints) over the
// DynamoDB table.
//
// API Gateway (template.yaml) sends it the routes httpapi.Routes gives to "oauth".
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/switchboard-dev/switchboard/internal/app"
)

func main() {
	ctx := context.Background()
	d, err := app.NewDeps(ctx, app.OAuth, app.Options{}) // app.Config from the environment, checked
	if err != nil {
		log.Fatalf("oauth: %v", err)
	}
	api, err := d.OAuthAPI(ctx)
	if err != nil {
		log.Fatalf("oauth: %v", err)
	}
	lambda.Start(api.Handle)
}
