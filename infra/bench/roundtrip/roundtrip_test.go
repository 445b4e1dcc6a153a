package roundtrip_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/switchboard-dev/switchboard/infra/bench/roundtrip"
	"github.com/switchboard-dev/switchboard/internal/connection"
	"github.com/switchboard-dev/switchboard/internal/dynamotest"
	"github.com/switchboard-dev/switchboard/internal/kmsfake"
	"github.com/switchboard-dev/switchboard/internal/store"
)

func TestMain(m *testing.M) { dynamotest.Run(m) }

func TestDynamoDBCallsAreCountedByOperationAndItemKind(t *testing.T) {
	t.Parallel()
	var c roundtrip.Counter
	f := dynamotest.New(t, func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, c.AddTo) })
	ctx := context.Background()
	c.Take() // the table's creation
	pk := store.TenantPK("t1")
	table := aws.String(f.Table)
	item := func(sk string) map[string]ddbtypes.AttributeValue {
		return map[string]ddbtypes.AttributeValue{"pk": store.S(pk), "sk": store.S(sk)}
	}
	if _, err := f.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: table, Item: item("CONN#youtube")}); err != nil {
		t.Fatal(err)
	}
	for _, sk := range []string{"CONN#youtube", "RATE#deployments#u1"} { // not found is still a call
		if _, err := f.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: table, Key: item(sk)}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := f.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddbtypes.TransactWriteItem{
		{Put: &ddbtypes.Put{TableName: table, Item: item("RATE#deployments#u1")}},
		{Put: &ddbtypes.Put{TableName: table, Item: item("DEPLOY#d1")}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	got := c.Take()
	if s := got.Summary("DynamoDB"); s != "GetItem 2, PutItem 1, TransactWriteItems 1" {
		t.Fatalf("summary %q; calls %+v", s, got)
	}
	if n := got.Count("DynamoDB", "GetItem"); n != 2 {
		t.Fatalf("%d GetItem", n)
	}
	rate := got.Touching("RATE#")
	if len(rate) != 2 || rate[0].Operation != "GetItem" || rate[1].Operation != "TransactWriteItems" {
		t.Fatalf("calls touching RATE#: %+v", rate)
	}
	if tx := rate[1].Items; !reflect.DeepEqual(tx, []string{"DEPLOY#", "RATE#"}) {
		t.Fatalf("transaction items %v", tx)
	}
	if d := got.Detail("DynamoDB"); d != "PutItem CONN#; GetItem CONN#; GetItem RATE#; TransactWriteItems DEPLOY#+RATE#" {
		t.Fatalf("detail %q", d)
	}
	if len(c.Take()) != 0 {
		t.Fatal("Take did not forget")
	}
}

func TestAQueryOfTheDueIndexIsNamedForItsPartition(t *testing.T) {
	t.Parallel()
	var c roundtrip.Counter
	f := dynamotest.New(t, func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, c.AddTo) })
	c.Take()
	_, err := f.DB.Query(context.Background(), &dynamodb.QueryInput{
		TableName: aws.String(f.Table), IndexName: aws.String(store.IndexGSI1),
		KeyConditionExpression:    aws.String("gsi1pk = :pk AND gsi1sk <= :max"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":pk": store.S("DUE#LIVE"), ":max": store.S("2026-11-22T10:00Z~")},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := c.Take()
	if len(got) != 1 || got[0].Operation != "Query" || !reflect.DeepEqual(got[0].Items, []string{"DUE#LIVE"}) || !roundtrip.IsRead("Query") {
		t.Fatalf("%+v", got)
	}
}

func TestAnItemInAPartitionOfItsOwnIsNamedForItsPartitionKey(t *testing.T) {
	t.Parallel()
	var c roundtrip.Counter
	f := dynamotest.New(t, func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, c.AddTo) })
	c.Take()
	key := map[string]ddbtypes.AttributeValue{"pk": store.S("OAUTHSTATE#abc"), "sk": store.S("STATE")}
	if _, err := f.DB.DeleteItem(context.Background(), &dynamodb.DeleteItemInput{TableName: aws.String(f.Table), Key: key}); err != nil {
		t.Fatal(err)
	}
	if d := c.Take().Detail("DynamoDB"); d != "DeleteItem OAUTHSTATE#" {
		t.Fatalf("detail %q", d)
	}
}

func TestEveryKMSAttemptCountsRetriesIncluded(t *testing.T) {
	t.Parallel()
	srv := kmsfake.Start(t)
	var c roundtrip.Counter
	cfg := srv.AWSConfig()
	cfg.RetryMaxAttempts = 3
	cfg.APIOptions = append(cfg.APIOptions, c.AddTo)
	client := kms.NewFromConfig(cfg)
	ctx := context.Background()
	dk, err := client.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(srv.KeyID()), KeySpec: types.DataKeySpecAes256})
	if err != nil {
		t.Fatal(err)
	}
	srv.FailNext(kmsfake.OpDecrypt, kmsfake.ErrInternal, http.StatusInternalServerError, 1)
	if _, err := client.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: dk.CiphertextBlob, KeyId: dk.KeyId}); err != nil {
		t.Fatal(err)
	}
	got := c.Take()
	if s := got.Summary("KMS"); s != "Decrypt 2, GenerateDataKey 1" {
		t.Fatalf("summary %q", s)
	}
	if srv.TotalCalls() != 3 {
		t.Fatalf("the fake saw %d calls", srv.TotalCalls())
	}
}

func TestHTTPCallsAreCountedByTheirHostsLabel(t *testing.T) {
	t.Parallel()
	yt := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer yt.Close()
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer other.Close()
	ytHost := strings.TrimPrefix(yt.URL, "http://")
	c := &roundtrip.Counter{Label: func(host string) string {
		if host == ytHost {
			return "youtube"
		}
		return ""
	}}
	client := &http.Client{Transport: c.Transport(nil)}
	for _, u := range []string{yt.URL + "/liveBroadcasts", yt.URL + "/liveStreams", other.URL} {
		resp, err := client.Post(u, "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	got := c.Take()
	want := strings.TrimPrefix(other.URL, "http://") + " 1, youtube 2" // sorted
	if s := got.Summary(roundtrip.HTTP); s != want || got.Count(roundtrip.HTTP, "POST") != 3 {
		t.Fatalf("summary %q, want %q", s, want)
	}
	if got.Summary("DynamoDB") != "0" {
		t.Fatal("HTTP calls counted as DynamoDB")
	}
}

// The counter asks DynamoDB for the capacity each operation consumed and
// keeps the table's and the indexes' apart: a write that moves an item in
// the due-work index costs the index a delete and a put, one that changes
// only a projected attribute a put, and one that changes nothing projected
// nothing.
func TestDynamoDBCapacityIsReadFromTheOperationsThemselves(t *testing.T) {
	t.Parallel()
	var c roundtrip.Counter
	f := dynamotest.New(t, func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, c.AddTo) })
	ctx := context.Background()
	table := aws.String(f.Table)
	big := store.S(strings.Repeat("x", 1500)) // with the keys, an item of two started KB
	put := func(gsi1sk string) {
		t.Helper()
		_, err := f.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: table, Item: map[string]ddbtypes.AttributeValue{
			"pk": store.S("TENANT#t1"), "sk": store.S("CONN#zoom"), "gsi1pk": store.S("DUE#CRED#3"), "gsi1sk": store.S(gsi1sk), "blob": big,
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name         string
		do           func()
		table, index float64
		read         bool
	}{
		{"a new item in the index", func() { put("2026-01-01") }, 2, 2, false},
		{"the same item again", func() { put("2026-01-01") }, 2, 0, false},
		{"a move in the index", func() { put("2026-01-02") }, 2, 4, false},
		{"a consistent read", func() {
			_, _ = f.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: table, ConsistentRead: aws.Bool(true),
				Key: map[string]ddbtypes.AttributeValue{"pk": store.S("TENANT#t1"), "sk": store.S("CONN#zoom")}})
		}, 1, 0, true},
	}
	c.Take()
	for _, tc := range cases {
		tc.do()
		read, write := c.Take().Consumed()
		got := write
		if tc.read {
			got = read
		}
		if got.Table != tc.table || got.Indexes != tc.index {
			t.Errorf("%s: table %.1f, indexes %.1f units; want %.1f and %.1f", tc.name, got.Table, got.Indexes, tc.table, tc.index)
		}
	}
}

// The due index projects only what Due returns: taking and releasing a
// refresh lease changes none of it, so it costs the index nothing, and a
// save that moves the next check costs it a one-unit delete and put, however
// large the connection.
func TestARefreshLeaseCostsTheDueIndexNothing(t *testing.T) {
	t.Parallel()
	var c roundtrip.Counter
	f := dynamotest.New(t, func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, c.AddTo) })
	ctx := context.Background()
	repo := f.Store.Connections()
	now := time.Date(2026, 5, 3, 10, 0, 0, 0, time.UTC)
	conn := &connection.Connection{
		Tenant: "t1", Platform: "zoom", Status: connection.StatusConnected, AuthType: connection.AuthOAuth2,
		ConnectedAt: now, UpdatedAt: now, NextCheckAt: now.Add(-time.Minute), Sealed: make([]byte, 1000),
	}
	if err := repo.Save(ctx, conn, ""); err != nil {
		t.Fatal(err)
	}
	c.Take()
	if err := repo.TakeLease(ctx, conn, "refresher-1", now.Add(time.Minute), now); err != nil {
		t.Fatal(err)
	}
	_, lease := c.Take().Consumed()
	conn.NextCheckAt = now.Add(45 * time.Minute)
	if err := repo.Save(ctx, conn, "refresher-1"); err != nil {
		t.Fatal(err)
	}
	_, save := c.Take().Consumed()
	if lease.Table != 2 || lease.Indexes != 0 {
		t.Errorf("the lease cost the table %.1f and the indexes %.1f write units; want 2 and 0", lease.Table, lease.Indexes)
	}
	if save.Table != 2 || save.Indexes != 2 {
		t.Errorf("the save cost the table %.1f and the indexes %.1f write units; want 2 and 2", save.Table, save.Indexes)
	}
}
