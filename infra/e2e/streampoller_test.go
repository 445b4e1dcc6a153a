package e2e_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"

	"github.com/switchboard-dev/switchboard/infra/streams"
	"github.com/switchboard-dev/switchboard/internal/dynamotest"
)

// startStreamPoller delivers the table's stream to cfg.Handler as Lambda's
// event source mapping would, on DynamoDB Local, with the short intervals
// the stack tests use; it returns once the poller reads the stream and
// stops it (reporting its error) when the test ends.
func startStreamPoller(t *testing.T, table string, cfg streams.Config) {
	t.Helper()
	endpoint := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")
	cfg.DB = dynamotest.Client(endpoint)
	cfg.Streams = dynamodbstreams.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")},
		func(o *dynamodbstreams.Options) { o.BaseEndpoint = aws.String(endpoint) })
	cfg.Table = table
	cfg.PollInterval, cfg.DiscoverEvery = 50*time.Millisecond, 200*time.Millisecond
	cfg.Bisect, cfg.Timeout, cfg.RetryBackoff = true, time.Minute, 100*time.Millisecond
	poller, err := streams.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- poller.Run(ctx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("%s's stream: %v", cfg.Function, err)
		}
	})
	select {
	case <-poller.Ready():
	case err := <-done:
		t.Fatalf("%s's stream did not start: %v", cfg.Function, err)
	case <-time.After(30 * time.Second):
		t.Fatalf("%s's stream did not start in time", cfg.Function)
	}
}
