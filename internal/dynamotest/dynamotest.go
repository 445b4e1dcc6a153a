// Package dynamotest gives tests a fresh table on DynamoDB Local. A test
// binary's TestMain calls Run, which uses AWS_ENDPOINT_URL_DYNAMODB when it
// is set (make test starts one emulator for the whole run) and otherwise
// starts DynamoDB Local itself; when it cannot, the tests fail loudly and are
// never skipped. Each New makes its own table, so tests run in parallel.
package dynamotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/switchboard-dev/switchboard/internal/dynamolocal"
	"github.com/switchboard-dev/switchboard/internal/store"
)

// endpointVar is the AWS SDK's standard variable for DynamoDB's endpoint.
const endpointVar = "AWS_ENDPOINT_URL_DYNAMODB"

// Run runs the tests of a package with DynamoDB Local available, and exits
// non-zero when the emulator cannot be had. Each after runs once the tests
// have run (what the package's tests share and must end, such as a browser).
func Run(m *testing.M, after ...func()) {
	code := run(m)
	for _, f := range after {
		f()
	}
	os.Exit(code)
}

func run(m *testing.M) int {
	if os.Getenv(endpointVar) == "" {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		in, err := dynamolocal.Start(ctx, dynamolocal.Options{})
		cancel()
		if err != nil {
			fmt.Fprintf(os.Stderr, "dynamotest: DynamoDB Local is required and could not start: %v\n", err)
			return 1
		}
		defer in.Stop()
		os.Setenv(endpointVar, in.Endpoint)
	}
	return m.Run()
}

// Fixture is a fresh table on DynamoDB Local.
type Fixture struct {
	Endpoint string
	DB       *dynamodb.Client
	Table    string
	Store    *store.Store
}

// Client returns a DynamoDB client for endpoint with static test credentials.
func Client(endpoint string, optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
	}
	opts := append([]func(*dynamodb.Options){func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(endpoint)
	}}, optFns...)
	return dynamodb.NewFromConfig(cfg, opts...)
}

// New creates a table named for the test and drops it when the test ends.
func New(t testing.TB, optFns ...func(*dynamodb.Options)) *Fixture {
	t.Helper()
	endpoint := os.Getenv(endpointVar)
	if endpoint == "" {
		t.Fatalf("dynamotest: %s is not set: call dynamotest.Run from TestMain", endpointVar)
	}
	db := Client(endpoint, optFns...)
	name := TableName()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := store.EnsureTable(ctx, db, name); err != nil {
		t.Fatalf("dynamotest: creating table on %s: %v", endpoint, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	})
	return &Fixture{Endpoint: endpoint, DB: db, Table: name, Store: store.New(db, name)}
}

// TableName is a random table name for one test.
func TableName() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "t-" + hex.EncodeToString(b)
}

// Items is every item of table exactly as DynamoDB holds it, read page by
// page: what a test searches for a secret that must never be stored.
func Items(t testing.TB, db *dynamodb.Client, table string) []store.Item {
	t.Helper()
	var items []store.Item
	var start store.Item
	for {
		out, err := db.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(table), ExclusiveStartKey: start})
		if err != nil {
			t.Fatalf("dynamotest: scanning %s: %v", table, err)
		}
		items = append(items, out.Items...)
		if len(out.LastEvaluatedKey) == 0 {
			return items
		}
		start = out.LastEvaluatedKey
	}
}
