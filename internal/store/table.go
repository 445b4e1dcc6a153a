// Package store is the one place that reads and writes Switchboard's
// DynamoDB table. It holds the table's definition (used both to create the
// table locally and, through a test, to hold template.yaml to the same shape)
// and the data-access helpers every domain's storage code builds on:
// conditional writes, optimistic versions and paging with opaque cursors.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Attribute names shared by every item.
const (
	AttrPK      = "pk"
	AttrSK      = "sk"
	AttrGSI1PK  = "gsi1pk"
	AttrGSI1SK  = "gsi1sk"
	AttrTTL     = "ttl"     // epoch seconds; DynamoDB deletes expired items, days late
	AttrVersion = "version" // optimistic concurrency counter
	IndexGSI1   = "gsi1"    // deployments that are due; livestreams and credentials written before the due index
	// The due index: livestreams to start or end and credentials to
	// refresh, sharded (due.go). It projects only what its readers
	// return, so a write that changes none of it (a refresh lease, a
	// target's outcome) costs the index nothing, and an entry is one
	// write unit however large its item.
	AttrDuePK = "duepk"
	AttrDueSK = "duesk"
	IndexDue  = "due"
)

// dueProjected are the attributes the due index holds besides the keys:
// what connection and livestream Due return.
var dueProjected = []string{"tenant", "platform", "nextCheckAt", "id"}

// Definition is the table's shape, independent of its name. template.yaml
// declares the same shape; a test holds the two equal.
type Definition struct {
	KeySchema            []types.KeySchemaElement
	AttributeDefinitions []types.AttributeDefinition
	GSIs                 []types.GlobalSecondaryIndex
	BillingMode          types.BillingMode
	StreamViewType       types.StreamViewType
	TTLAttribute         string
}

// TableDefinition is Switchboard's table.
func TableDefinition() Definition {
	return Definition{
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(AttrPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(AttrSK), KeyType: types.KeyTypeRange},
		},
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(AttrPK), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(AttrSK), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(AttrGSI1PK), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(AttrGSI1SK), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(AttrDuePK), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(AttrDueSK), AttributeType: types.ScalarAttributeTypeS},
		},
		GSIs: []types.GlobalSecondaryIndex{{
			IndexName: aws.String(IndexGSI1),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(AttrGSI1PK), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(AttrGSI1SK), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}, {
			IndexName: aws.String(IndexDue),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(AttrDuePK), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(AttrDueSK), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeInclude, NonKeyAttributes: dueProjected},
		}},
		BillingMode:    types.BillingModePayPerRequest,
		StreamViewType: types.StreamViewTypeNewAndOldImages,
		TTLAttribute:   AttrTTL,
	}
}

// CreateTableInput is the CreateTable call for a table of this shape.
func (d Definition) CreateTableInput(name string) *dynamodb.CreateTableInput {
	return &dynamodb.CreateTableInput{
		TableName:              aws.String(name),
		KeySchema:              d.KeySchema,
		AttributeDefinitions:   d.AttributeDefinitions,
		GlobalSecondaryIndexes: d.GSIs,
		BillingMode:            d.BillingMode,
		StreamSpecification: &types.StreamSpecification{
			StreamEnabled:  aws.Bool(true),
			StreamViewType: d.StreamViewType,
		},
	}
}

// EnsureTable creates the table when it does not exist, waits until it is
// active and turns TTL on. It is for local stacks and tests; in AWS the SAM
// template owns the table.
func EnsureTable(ctx context.Context, db *dynamodb.Client, name string) error {
	def := TableDefinition()
	_, err := db.CreateTable(ctx, def.CreateTableInput(name))
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("store: creating table %s: %w", name, err)
	}
	waiter := dynamodb.NewTableExistsWaiter(db, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 50 * time.Millisecond
		o.MaxDelay = 500 * time.Millisecond
	})
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 30*time.Second); err != nil {
		return fmt.Errorf("store: waiting for table %s: %w", name, err)
	}
	if err := addMissingIndexes(ctx, db, name, def); err != nil {
		return err
	}
	_, err = db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(def.TTLAttribute),
			Enabled:       aws.Bool(true),
		},
	})
	if err != nil && !isTTLAlreadyOn(err) {
		return fmt.Errorf("store: enabling TTL on %s: %w", name, err)
	}
	return nil
}

// addMissingIndexes creates, on a table made before an index was added to
// the definition (a developer's local table), each index it lacks, one at
// a time as DynamoDB allows, and waits until each is active.
func addMissingIndexes(ctx context.Context, db *dynamodb.Client, name string, def Definition) error {
	for _, want := range def.GSIs {
		out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err != nil {
			return fmt.Errorf("store: describing table %s: %w", name, err)
		}
		have := false
		for _, g := range out.Table.GlobalSecondaryIndexes {
			have = have || aws.ToString(g.IndexName) == aws.ToString(want.IndexName)
		}
		if have {
			continue
		}
		_, err = db.UpdateTable(ctx, &dynamodb.UpdateTableInput{
			TableName: aws.String(name), AttributeDefinitions: def.AttributeDefinitions,
			GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Create: &types.CreateGlobalSecondaryIndexAction{
				IndexName: want.IndexName, KeySchema: want.KeySchema, Projection: want.Projection,
			}}},
		})
		if err != nil {
			return fmt.Errorf("store: adding index %s to table %s: %w", aws.ToString(want.IndexName), name, err)
		}
		if err := waitIndexActive(ctx, db, name, aws.ToString(want.IndexName)); err != nil {
			return err
		}
	}
	return nil
}

func waitIndexActive(ctx context.Context, db *dynamodb.Client, table, index string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for {
		out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		if err != nil {
			return fmt.Errorf("store: waiting for index %s of %s: %w", index, table, err)
		}
		for _, g := range out.Table.GlobalSecondaryIndexes {
			if aws.ToString(g.IndexName) == index && g.IndexStatus == types.IndexStatusActive {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("store: index %s of %s is not active: %w", index, table, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func isTTLAlreadyOn(err error) bool {
	// DynamoDB answers ValidationException "TimeToLive is already enabled".
	var apiErr interface{ ErrorMessage() string }
	return errors.As(err, &apiErr) && containsFold(apiErr.ErrorMessage(), "already enabled")
}
