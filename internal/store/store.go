package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/switchboard-dev/switchboard/internal/apperr"
)

// Item is one raw table item.
type Item = map[string]types.AttributeValue

// ErrConditionFailed is the cause of every error from a write whose condition
// did not hold. Domain code turns it into what it means there. It lives in
// apperr so that services, which cannot import the store, check it too.
var ErrConditionFailed = apperr.ErrConditionFailed

// ErrNotFound is the cause of a Get for an item that is not there.
var ErrNotFound = errors.New("store: item not found")

// Store reads and writes one table.
type Store struct {
	db    *dynamodb.Client
	table string
	now   func() time.Time
}

// New returns a Store for the named table.
func New(db *dynamodb.Client, table string) *Store {
	return &Store{db: db, table: table, now: time.Now}
}

// WithClock returns a copy of s that takes the time from now (for tests).
func (s *Store) WithClock(now func() time.Time) *Store {
	c := *s
	c.now = now
	return &c
}

// Table is the table's name.
func (s *Store) Table() string { return s.table }

// Now is the store's clock.
func (s *Store) Now() time.Time { return s.now() }

// Key builds a primary key.
func Key(pk, sk string) Item {
	return Item{AttrPK: S(pk), AttrSK: S(sk)}
}

// Get reads one item with a strongly consistent read. A missing item is an
// error whose cause is ErrNotFound and whose kind is NotFound.
func (s *Store) Get(ctx context.Context, pk, sk string) (Item, error) {
	return s.GetAttrs(ctx, pk, sk)
}

// GetAttrs is Get reading only attrs and the keys (all attributes when
// attrs is empty): an answer that shows no sealed value does not read it.
func (s *Store) GetAttrs(ctx context.Context, pk, sk string, attrs ...string) (Item, error) {
	in := &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            Key(pk, sk),
		ConsistentRead: aws.Bool(true),
	}
	if len(attrs) > 0 {
		in.ExpressionAttributeNames = map[string]string{}
		in.ProjectionExpression = aws.String(projection(in.ExpressionAttributeNames, attrs, AttrPK, AttrSK, false))
	}
	out, err := s.db.GetItem(ctx, in)
	if err != nil {
		return nil, classify("get", err)
	}
	if len(out.Item) == 0 {
		return nil, apperr.Wrap(apperr.NotFound, apperr.CodeNotFound, "", ErrNotFound)
	}
	return out.Item, nil
}

// Cond is a condition expression with its names and values.
type Cond struct {
	Expr   string
	Names  map[string]string
	Values Item
}

// NotExists is the condition that no item has the key yet.
func NotExists() *Cond { return &Cond{Expr: "attribute_not_exists(pk)"} }

// Put writes an item, only when cond holds (when cond is not nil).
func (s *Store) Put(ctx context.Context, item Item, cond *Cond) error {
	in := &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}
	if cond != nil {
		in.ConditionExpression = aws.String(cond.Expr)
		in.ExpressionAttributeNames = nilIfEmptyNames(cond.Names)
		in.ExpressionAttributeValues = nilIfEmptyValues(cond.Values)
	}
	if _, err := s.db.PutItem(ctx, in); err != nil {
		return classify("put", err)
	}
	return nil
}

// PutVersioned writes item when the stored item's version is expected (0:
// no item yet), and sets the new version to expected+1. It returns the new
// version. Two writers that read the same version cannot both win.
func (s *Store) PutVersioned(ctx context.Context, item Item, expected int64) (int64, error) {
	next := expected + 1
	item[AttrVersion] = N(next)
	cond := &Cond{Expr: "attribute_not_exists(pk)"}
	if expected > 0 {
		cond = &Cond{Expr: "#v = :v", Names: map[string]string{"#v": AttrVersion}, Values: Item{":v": N(expected)}}
	}
	if err := s.Put(ctx, item, cond); err != nil {
		return 0, err
	}
	return next, nil
}

// Update is an UpdateItem call.
type Update struct {
	PK, SK string
	Expr   string // the update expression, e.g. "SET #s = :s"
	Cond   string // optional condition expression
	Names  map[string]string
	Values Item
	// ReturnNew asks for the item as it is after the update.
	ReturnNew bool
}

// Update applies u and returns the updated item when asked.
func (s *Store) Update(ctx context.Context, u Update) (Item, error) {
	in := &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       Key(u.PK, u.SK),
		UpdateExpression:          aws.String(u.Expr),
		ExpressionAttributeNames:  nilIfEmptyNames(u.Names),
		ExpressionAttributeValues: nilIfEmptyValues(u.Values),
	}
	if u.Cond != "" {
		in.ConditionExpression = aws.String(u.Cond)
	}
	if u.ReturnNew {
		in.ReturnValues = types.ReturnValueAllNew
	}
	out, err := s.db.UpdateItem(ctx, in)
	if err != nil {
		return nil, classify("update", err)
	}
	return out.Attributes, nil
}

// Delete removes an item when cond holds (always when nil) and returns the
// item as it was, or nil when there was none. A conditional delete is how a
// one-time item (an OAuth state) is consumed exactly once.
func (s *Store) Delete(ctx context.Context, pk, sk string, cond *Cond) (Item, error) {
	in := &dynamodb.DeleteItemInput{
		TableName:    aws.String(s.table),
		Key:          Key(pk, sk),
		ReturnValues: types.ReturnValueAllOld,
	}
	if cond != nil {
		in.ConditionExpression = aws.String(cond.Expr)
		in.ExpressionAttributeNames = nilIfEmptyNames(cond.Names)
		in.ExpressionAttributeValues = nilIfEmptyValues(cond.Values)
	}
	out, err := s.db.DeleteItem(ctx, in)
	if err != nil {
		return nil, classify("delete", err)
	}
	if len(out.Attributes) == 0 {
		return nil, nil
	}
	return out.Attributes, nil
}

// TxWrite is one write of a TransactWrite: a Put (with an optional Cond)
// or an Update.
type TxWrite struct {
	Put    Item
	Cond   *Cond
	Update *Update
}

// ErrTxConflict is the cause when a transaction met another write of one
// of its items in flight; trying again can succeed.
var ErrTxConflict = errors.New("store: transaction conflict")

// TxCanceled names the writes of a canceled transaction whose condition
// failed, by their index in the call.
type TxCanceled struct{ Failed []int }

func (e *TxCanceled) Error() string {
	return fmt.Sprintf("store: transaction canceled: conditions of writes %v failed", e.Failed)
}

// TransactWrite applies the writes atomically, in one TransactWriteItems
// call: all of them or none. A failed condition is an error whose causes
// are ErrConditionFailed and a *TxCanceled; a conflict with another write
// in flight is Unavailable with cause ErrTxConflict.
func (s *Store) TransactWrite(ctx context.Context, writes ...TxWrite) error {
	items := make([]types.TransactWriteItem, len(writes))
	for i, w := range writes {
		switch {
		case w.Update != nil:
			u := w.Update
			up := &types.Update{
				TableName:                 aws.String(s.table),
				Key:                       Key(u.PK, u.SK),
				UpdateExpression:          aws.String(u.Expr),
				ExpressionAttributeNames:  nilIfEmptyNames(u.Names),
				ExpressionAttributeValues: nilIfEmptyValues(u.Values),
			}
			if u.Cond != "" {
				up.ConditionExpression = aws.String(u.Cond)
			}
			items[i].Update = up
		default:
			put := &types.Put{TableName: aws.String(s.table), Item: w.Put}
			if w.Cond != nil {
				put.ConditionExpression = aws.String(w.Cond.Expr)
				put.ExpressionAttributeNames = nilIfEmptyNames(w.Cond.Names)
				put.ExpressionAttributeValues = nilIfEmptyValues(w.Cond.Values)
			}
			items[i].Put = put
		}
	}
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if err == nil {
		return nil
	}
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		var failed []int
		conflict := false
		for i, r := range tce.CancellationReasons {
			switch aws.ToString(r.Code) {
			case "ConditionalCheckFailed":
				failed = append(failed, i)
			case "TransactionConflict":
				conflict = true
			}
		}
		if len(failed) > 0 {
			return apperr.Wrap(apperr.Conflict, apperr.CodeConditionFailed, "", fmt.Errorf("transact: %w: %w", ErrConditionFailed, &TxCanceled{Failed: failed}))
		}
		if conflict {
			return apperr.Wrap(apperr.Unavailable, apperr.CodeStorageBusy, "the data store is busy; try again shortly", fmt.Errorf("transact: %w", ErrTxConflict))
		}
	}
	return classify("transact", err)
}

// Query reads one page of a partition, on the table or on gsi1.
type Query struct {
	Index    string // "" for the table, IndexGSI1 or IndexDue for an index
	PK       string // the partition's value
	SKPrefix string // optional begins_with on the sort key
	SKMax    string // optional upper bound (inclusive) on the sort key
	Limit    int    // items per page; 0 means 50, capped at 100
	Cursor   string // opaque, from a previous Page
	Reverse  bool   // newest first when sort keys sort by time
	Filter   *Cond  // optional filter expression (applied after the limit, as DynamoDB does)
	// Attrs, when not empty, are the only attributes read (a
	// ProjectionExpression): a list names what its answer shows, so sealed
	// blobs it never opens are neither sent nor decoded. The keys are
	// always read too, for the cursor.
	Attrs []string
	// Consistent asks for a strongly consistent read (the table only): a
	// reader that keeps a cursor must not see a later item before an
	// earlier one.
	Consistent bool
}

// Page is one page of items and the cursor for the next one: "" when the
// page is the last. A cursor leads to an empty page only after a filtered
// query gave up filling its page (maxQueryRounds) with items still unread.
type Page struct {
	Items  []Item
	Cursor string
}

// MaxPageSize caps Query.Limit.
const MaxPageSize = 100

// maxQueryRounds bounds the DynamoDB reads one page may take while a
// filter leaves too few items to fill it.
const maxQueryRounds = 10

// Query reads one page. A cursor that was not made by this query (tampered,
// or from another partition or tenant) is an Invalid error.
//
// DynamoDB gives a LastEvaluatedKey whenever it stopped at Limit, even at
// the partition's end, and applies a filter after the limit (AWS DynamoDB
// Developer Guide, Query: "Paginating table query results" and "Filter
// expressions for Query": a filter "is applied after a Query finishes, but
// before the results are returned"). So Query
// reads one item more than the page to learn whether another page exists,
// reads on (up to maxQueryRounds) while a filter left the page short, and
// gives a cursor only when items remain: the key of the page's last item.
func (s *Store) Query(ctx context.Context, q Query) (Page, error) {
	pkAttr, skAttr := AttrPK, AttrSK
	switch q.Index {
	case "":
	case IndexGSI1:
		pkAttr, skAttr = AttrGSI1PK, AttrGSI1SK
	case IndexDue:
		pkAttr, skAttr = AttrDuePK, AttrDueSK
	default:
		return Page{}, fmt.Errorf("store: unknown index %q", q.Index)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	if limit > MaxPageSize {
		limit = MaxPageSize
	}
	names := map[string]string{"#pk": pkAttr}
	values := Item{":pk": S(q.PK)}
	expr := "#pk = :pk"
	switch {
	case q.SKPrefix != "" && q.SKMax != "":
		expr += " AND #sk BETWEEN :skp AND :skmax"
		names["#sk"], values[":skp"], values[":skmax"] = skAttr, S(q.SKPrefix), S(q.SKMax)
	case q.SKPrefix != "":
		expr += " AND begins_with(#sk, :skp)"
		names["#sk"], values[":skp"] = skAttr, S(q.SKPrefix)
	case q.SKMax != "":
		expr += " AND #sk <= :skmax"
		names["#sk"], values[":skmax"] = skAttr, S(q.SKMax)
	}
	in := &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String(expr),
		Limit:                  aws.Int32(int32(limit + 1)),
		ScanIndexForward:       aws.Bool(!q.Reverse),
	}
	if q.Index != "" {
		in.IndexName = aws.String(q.Index)
	} else if q.Consistent {
		in.ConsistentRead = aws.Bool(true)
	}
	if q.Filter != nil {
		// The filter leaves items out after the read: read a full page's
		// worth each round, so few rounds fill the page.
		in.Limit = aws.Int32(MaxPageSize + 1)
		in.FilterExpression = aws.String(q.Filter.Expr)
		for k, v := range q.Filter.Names {
			names[k] = v
		}
		for k, v := range q.Filter.Values {
			values[k] = v
		}
	}
	if len(q.Attrs) > 0 {
		in.ProjectionExpression = aws.String(projection(names, q.Attrs, pkAttr, skAttr, q.Index != ""))
	}
	in.ExpressionAttributeNames, in.ExpressionAttributeValues = names, values
	if q.Cursor != "" {
		start, err := decodeCursor(q.Cursor, pkAttr, q.PK, skAttr, q.SKPrefix)
		if err != nil {
			return Page{}, err
		}
		in.ExclusiveStartKey = start
	}
	var page Page
	for round := 1; ; round++ {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return Page{}, classify("query", err)
		}
		page.Items = append(page.Items, out.Items...)
		switch {
		case len(page.Items) > limit:
			page.Items = page.Items[:limit]
			last := page.Items[limit-1]
			key := Item{AttrPK: last[AttrPK], AttrSK: last[AttrSK]}
			if q.Index != "" {
				key[pkAttr], key[skAttr] = last[pkAttr], last[skAttr]
			}
			page.Cursor, err = encodeCursor(key)
			return page, err
		case len(out.LastEvaluatedKey) == 0:
			return page, nil
		case round == maxQueryRounds:
			// A short page: the rest of the partition is not read yet.
			page.Cursor, err = encodeCursor(out.LastEvaluatedKey)
			return page, err
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// queryPage runs q and decodes each item of the page with decode: the
// shape of every list the repos answer (items, the next page's cursor).
func queryPage[T any](ctx context.Context, s *Store, q Query, decode func(Item) T) ([]T, string, error) {
	page, err := s.Query(ctx, q)
	if err != nil {
		return nil, "", err
	}
	out := make([]T, 0, len(page.Items))
	for _, it := range page.Items {
		out = append(out, decode(it))
	}
	return out, page.Cursor, nil
}

// projection builds a ProjectionExpression of attrs and the keys the
// cursor needs, adding a placeholder name for each (many attribute names,
// "status" among them, are DynamoDB reserved words).
func projection(names map[string]string, attrs []string, pkAttr, skAttr string, index bool) string {
	keys := []string{AttrPK, AttrSK}
	if index {
		keys = append(keys, pkAttr, skAttr)
	}
	var b strings.Builder
	for i, a := range append(keys, attrs...) {
		if i > 0 {
			b.WriteString(", ")
		}
		n := "#a" + strconv.Itoa(i)
		names[n] = a
		b.WriteString(n)
	}
	return b.String()
}

// classify turns an SDK error into a domain error of the right kind, keeping
// the SDK error as the cause.
func classify(op string, err error) error {
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return apperr.Wrap(apperr.Conflict, apperr.CodeConditionFailed, "", fmt.Errorf("%s: %w", op, ErrConditionFailed))
	}
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		for _, r := range tce.CancellationReasons {
			if aws.ToString(r.Code) == "ConditionalCheckFailed" {
				return apperr.Wrap(apperr.Conflict, apperr.CodeConditionFailed, "", fmt.Errorf("%s: %w", op, ErrConditionFailed))
			}
		}
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return apperr.Wrap(apperr.Unavailable, apperr.CodeStorageTimeout, "the data store did not answer in time", fmt.Errorf("store %s: %w", op, err))
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
			"InternalServerError", "ServiceUnavailable", "TransactionConflictException":
			return apperr.Wrap(apperr.Unavailable, apperr.CodeStorageBusy, "the data store is busy; try again shortly", fmt.Errorf("store %s: %w", op, err))
		}
		return apperr.Wrap(apperr.Internal, apperr.CodeStorageError, "", fmt.Errorf("store %s: %w", op, err))
	}
	// No API answer at all: the network failed after the SDK's retries.
	return apperr.Wrap(apperr.Unavailable, apperr.CodeStorageUnreachable, "the data store could not be reached; try again shortly", fmt.Errorf("store %s: %w", op, err))
}

// IsConditionFailed reports whether err comes from a failed write condition.
func IsConditionFailed(err error) bool { return errors.Is(err, ErrConditionFailed) }

// IsNotFound reports whether err comes from a missing item.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// S, N and B build attribute values.
// setIfPresent gives setters of string and time attributes of it that set
// only values that are present.
func setIfPresent(it Item) (func(name, v string), func(name string, t time.Time)) {
	return func(name, v string) {
			if v != "" {
				it[name] = S(v)
			}
		}, func(name string, t time.Time) {
			if !t.IsZero() {
				it[name] = T(t)
			}
		}
}

func S(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func N(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}
func B(v []byte) types.AttributeValue  { return &types.AttributeValueMemberB{Value: v} }
func Bool(v bool) types.AttributeValue { return &types.AttributeValueMemberBOOL{Value: v} }

// GetS, GetN and GetB read attributes, giving the zero value when absent or
// of another type.
func GetS(it Item, name string) string {
	if v, ok := it[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func GetN(it Item, name string) int64 {
	if v, ok := it[name].(*types.AttributeValueMemberN); ok {
		n, _ := strconv.ParseInt(v.Value, 10, 64)
		return n
	}
	return 0
}

func GetB(it Item, name string) []byte {
	if v, ok := it[name].(*types.AttributeValueMemberB); ok {
		return v.Value
	}
	return nil
}

func GetBool(it Item, name string) bool {
	if v, ok := it[name].(*types.AttributeValueMemberBOOL); ok {
		return v.Value
	}
	return false
}

// Time values are stored as RFC 3339 strings in UTC with nanoseconds so they
// sort as strings.
const TimeLayout = "2006-01-02T15:04:05.000000000Z"

func T(t time.Time) types.AttributeValue { return S(FormatTime(t)) }

func FormatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

func GetT(it Item, name string) time.Time {
	s := GetS(it, name)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// Esc makes an identifier safe to join into a key with '#' separators, so
// that no tenant, user or id can forge another key's prefix.
func Esc(id string) string {
	if !strings.ContainsAny(id, "#%") {
		return id
	}
	r := strings.NewReplacer("%", "%25", "#", "%23")
	return r.Replace(id)
}

// TenantPK is the partition key of a tenant's items.
func TenantPK(tenant string) string { return "TENANT#" + Esc(tenant) }

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

func nilIfEmptyNames(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}

func nilIfEmptyValues(m Item) Item {
	if len(m) == 0 {
		return nil
	}
	return m
}
