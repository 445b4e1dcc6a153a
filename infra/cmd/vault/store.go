package main

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/vault"
)

// openEnvelopeStore gives `vault rewrap` the table's stored envelopes. The
// table is read and written only in internal/store.
func openEnvelopeStore(ctx context.Context, cfg aws.Config, table string) (vault.EnvelopeStore, error) {
	return store.New(dynamodb.NewFromConfig(cfg), table).Envelopes(), nil
}
