package main

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/switchboard-dev/switchboard/internal/vault"
)

// openEnvelopeStore gives `vault rewrap` the table's stored envelopes. The
// table is read and written only in internal/store, so the implementation
// belongs there; until it exists this is nil and rewrap says "rewrap store
// not wired". Wire it as, for example:
//
//	openEnvelopeStore = func(ctx context.Context, cfg aws.Config, table string) (vault.EnvelopeStore, error) {
//		return store.New(dynamodb.NewFromConfig(cfg), table).Envelopes(), nil
//	}
//
// where Envelopes returns a vault.EnvelopeStore (see vault.EnvelopeStore for
// the contract: pages with an opaque resumable cursor, each envelope with
// its item reference and encryption context, and a conditional replace that
// fails with vault.ErrEnvelopeChanged).
var openEnvelopeStore func(ctx context.Context, cfg aws.Config, table string) (vault.EnvelopeStore, error)
