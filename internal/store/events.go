package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/event"
	"github.com/switchboard-dev/switchboard/internal/livestream"
)

// Events, webhook endpoints and their deliveries are stored as
//
//	pk TENANT#<tenant>  sk EVENT#<key>                       type event              (ttl: 30 days)
//	  id, eventType, payload (the event's JSON, as the feed and the webhooks show it)
//	pk TENANT#<tenant>  sk WEBHOOK#<id>                      type webhook_endpoint
//	  url, types, status, failingSince, secret and previousSecret (sealed), previousUntil, version
//	pk TENANT#<tenant>  sk WHDLV#<endpoint id>#<event key>   type webhook_delivery      (ttl: 30 days)
//	gsi1pk DUE#WEBHOOK  gsi1sk <nextAttemptAt>#<tenant>#<endpoint id>#<event key>   (only while pending)
//
// The event key (event.Event.Key) is the stream record's time and sequence
// number, so a tenant's EVENT# items read in key order are its events in
// the order they happened, and an endpoint's WHDLV# items its deliveries.
const (
	eventPrefix    = "EVENT#"
	webhookPrefix  = "WEBHOOK#"
	deliveryPrefix = "WHDLV#"
	dueWebhookPK   = "DUE#WEBHOOK"
)

// Events gives the events capability its storage.
func (s *Store) Events() EventRepo { return EventRepo{s} }

// EventRepo implements event.Repo and event.Lookup.
type EventRepo struct{ s *Store }

var (
	_ event.Repo   = EventRepo{}
	_ event.Lookup = EventRepo{}
)

func ttlAfter(t time.Time, d time.Duration) types.AttributeValue { return N(t.Add(d).Unix()) }

func deliverySK(endpointID, eventKey string) string {
	return deliveryPrefix + Esc(endpointID) + "#" + eventKey
}

// Record writes the event and its deliveries in one transaction, on the
// condition that the event is new.
func (r EventRepo) Record(ctx context.Context, e event.Event, payload []byte, deliveries []*event.Delivery) (bool, error) {
	writes := []TxWrite{{Put: Item{
		AttrPK: S(TenantPK(e.Tenant)), AttrSK: S(eventPrefix + e.Key), "type": S("event"),
		"id": S(e.ID), "eventType": S(string(e.Type)), "payload": S(string(payload)),
		AttrTTL: ttlAfter(e.OccurredAt, event.FeedRetention),
	}, Cond: NotExists()}}
	for _, d := range deliveries {
		writes = append(writes, TxWrite{Put: deliveryToItem(d), Cond: NotExists()})
	}
	err := r.s.TransactWrite(ctx, writes...)
	if IsConditionFailed(err) {
		return false, nil // recorded before: the stream delivered the record again
	}
	return err == nil, err
}

// Feed reads a page of the tenant's events after the cursor, in order.
func (r EventRepo) Feed(ctx context.Context, tenant string, ts []event.Type, after string, limit int, now time.Time) ([]event.Event, string, error) {
	pk := TenantPK(tenant)
	if after == "" {
		var err error
		if after, err = encodeCursor(Key(pk, eventPrefix)); err != nil {
			return nil, "", err
		}
	}
	// DynamoDB deletes expired items days late: a kept event older than
	// the retention is not shown.
	f := &Cond{Expr: "#ttl > :now", Names: map[string]string{"#ttl": AttrTTL}, Values: Item{":now": N(now.Unix())}}
	if len(ts) > 0 {
		in := make([]string, len(ts))
		for i, t := range ts {
			v := ":t" + strconv.Itoa(i)
			f.Values[v], in[i] = S(string(t)), v
		}
		f.Names["#et"] = "eventType"
		f.Expr += " AND #et IN (" + strings.Join(in, ", ") + ")"
	}
	page, err := r.s.Query(ctx, Query{PK: pk, SKPrefix: eventPrefix, Limit: limit, Cursor: after, Filter: f, Attrs: []string{"payload"}, Consistent: true})
	if err != nil {
		return nil, "", err
	}
	out := make([]event.Event, 0, len(page.Items))
	for _, it := range page.Items {
		e, err := decodeEvent(GetS(it, "payload"))
		if err != nil {
			return nil, "", err
		}
		out = append(out, e)
	}
	next := page.Cursor
	switch {
	case next != "":
	case len(page.Items) > 0:
		last := page.Items[len(page.Items)-1]
		next, err = encodeCursor(Item{AttrPK: last[AttrPK], AttrSK: last[AttrSK]})
	default:
		next = after // nothing new yet: come back with the same cursor
	}
	return out, next, err
}

// ScheduledLivestreams reads every scheduled livestream of the tenant.
func (r EventRepo) ScheduledLivestreams(ctx context.Context, tenant string) ([]*livestream.Livestream, error) {
	var out []*livestream.Livestream
	cursor := ""
	for {
		page, next, err := r.s.Livestreams().List(ctx, tenant, []livestream.Status{livestream.StatusScheduled}, cursor, MaxPageSize)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if next == "" {
			return out, nil
		}
		cursor = next
	}
}

// --- endpoints ---------------------------------------------------------

func webhookKey(tenant, id string) (string, string) { return TenantPK(tenant), webhookPrefix + Esc(id) }

// CreateEndpoint writes a new endpoint.
func (r EventRepo) CreateEndpoint(ctx context.Context, e *event.Endpoint) error {
	it := endpointToItem(e)
	it[AttrVersion] = N(1)
	if err := r.s.Put(ctx, it, NotExists()); err != nil {
		return err
	}
	e.Version = 1
	return nil
}

// Endpoint reads one endpoint; a missing one is NotFound.
func (r EventRepo) Endpoint(ctx context.Context, tenant, id string) (*event.Endpoint, error) {
	pk, sk := webhookKey(tenant, id)
	it, err := r.s.Get(ctx, pk, sk)
	if IsNotFound(err) {
		return nil, apperr.Wrap(apperr.NotFound, apperr.CodeNotFound, "no such webhook endpoint", err)
	}
	if err != nil {
		return nil, err
	}
	return endpointFromItem(it), nil
}

// Endpoints reads all of a tenant's endpoints (event.MaxEndpoints at most).
func (r EventRepo) Endpoints(ctx context.Context, tenant string) ([]*event.Endpoint, error) {
	var out []*event.Endpoint
	cursor := ""
	for {
		page, err := r.s.Query(ctx, Query{PK: TenantPK(tenant), SKPrefix: webhookPrefix, Limit: MaxPageSize, Cursor: cursor, Consistent: true})
		if err != nil {
			return nil, err
		}
		for _, it := range page.Items {
			out = append(out, endpointFromItem(it))
		}
		if page.Cursor == "" {
			return out, nil
		}
		cursor = page.Cursor
	}
}

// DeleteEndpoint removes an endpoint.
func (r EventRepo) DeleteEndpoint(ctx context.Context, tenant, id string) error {
	pk, sk := webhookKey(tenant, id)
	_, err := r.s.Delete(ctx, pk, sk, nil)
	return err
}

// SaveEndpoint writes e when its stored version is e.Version.
func (r EventRepo) SaveEndpoint(ctx context.Context, e *event.Endpoint) error {
	next, err := r.s.PutVersioned(ctx, endpointToItem(e), e.Version)
	if err != nil {
		return err
	}
	e.Version = next
	return nil
}

// SetFailing sets (or, with a zero time, removes) an active endpoint's
// failingSince.
func (r EventRepo) SetFailing(ctx context.Context, tenant, id string, since time.Time) error {
	pk, sk := webhookKey(tenant, id)
	u := Update{PK: pk, SK: sk, Cond: "attribute_exists(pk) AND #st = :active",
		Names: map[string]string{"#st": "status", "#fs": "failingSince"}, Values: Item{":active": S(string(event.EndpointActive))}}
	if since.IsZero() {
		u.Expr = "REMOVE #fs"
	} else {
		u.Expr, u.Values[":fs"] = "SET #fs = if_not_exists(#fs, :fs)", T(since)
	}
	_, err := r.s.Update(ctx, u)
	return err
}

// Disable disables an active endpoint.
func (r EventRepo) Disable(ctx context.Context, tenant, id, reason string, at time.Time) error {
	pk, sk := webhookKey(tenant, id)
	_, err := r.s.Update(ctx, Update{PK: pk, SK: sk,
		Expr:  "SET #st = :disabled, disabledReason = :r, updatedAt = :at ADD #v :one",
		Cond:  "attribute_exists(pk) AND #st = :active",
		Names: map[string]string{"#st": "status", "#v": AttrVersion},
		Values: Item{":disabled": S(string(event.EndpointDisabled)), ":active": S(string(event.EndpointActive)),
			":r": S(reason), ":at": T(at), ":one": N(1)},
	})
	return err
}

func endpointToItem(e *event.Endpoint) Item {
	pk, sk := webhookKey(e.Tenant, e.ID)
	it := Item{AttrPK: S(pk), AttrSK: S(sk), "type": S("webhook_endpoint"), "tenant": S(e.Tenant), "id": S(e.ID),
		"url": S(e.URL), "status": S(string(e.Status)), "createdAt": T(e.CreatedAt), "updatedAt": T(e.UpdatedAt)}
	putS, putT := setIfPresent(it)
	putS("description", e.Description)
	putS("disabledReason", e.DisabledReason)
	putT("failingSince", e.FailingSince)
	putT("previousUntil", e.PreviousUntil)
	if len(e.Types) > 0 {
		l := make([]types.AttributeValue, len(e.Types))
		for i, t := range e.Types {
			l[i] = S(string(t))
		}
		it["types"] = &types.AttributeValueMemberL{Value: l}
	}
	ec := event.SecretContext(e.Tenant, e.ID)
	if len(e.SealedSecret) > 0 {
		it["secret"] = Sealed(e.SealedSecret, ec)
	}
	if len(e.SealedPrevious) > 0 {
		it["previousSecret"] = Sealed(e.SealedPrevious, ec)
	}
	return it
}

func endpointFromItem(it Item) *event.Endpoint {
	e := &event.Endpoint{Tenant: GetS(it, "tenant"), ID: GetS(it, "id"), URL: GetS(it, "url"), Description: GetS(it, "description"),
		Status: event.EndpointStatus(GetS(it, "status")), DisabledReason: GetS(it, "disabledReason"),
		CreatedAt: GetT(it, "createdAt"), UpdatedAt: GetT(it, "updatedAt"), FailingSince: GetT(it, "failingSince"),
		PreviousUntil: GetT(it, "previousUntil"), Version: GetN(it, AttrVersion)}
	if l, ok := it["types"].(*types.AttributeValueMemberL); ok {
		for _, v := range l.Value {
			if s, ok := v.(*types.AttributeValueMemberS); ok {
				e.Types = append(e.Types, event.Type(s.Value))
			}
		}
	}
	if env, _, ok := GetSealed(it, "secret"); ok {
		e.SealedSecret = env
	}
	if env, _, ok := GetSealed(it, "previousSecret"); ok {
		e.SealedPrevious = env
	}
	return e
}

// --- deliveries --------------------------------------------------------

func dueDeliverySK(d *event.Delivery) string {
	return FormatTime(d.NextAttemptAt) + "#" + Esc(d.Tenant) + "#" + Esc(d.EndpointID) + "#" + d.EventKey
}

func deliveryToItem(d *event.Delivery) Item {
	it := Item{AttrPK: S(TenantPK(d.Tenant)), AttrSK: S(deliverySK(d.EndpointID, d.EventKey)), "type": S("webhook_delivery"),
		"tenant": S(d.Tenant), "endpointId": S(d.EndpointID), "eventId": S(d.EventID), "eventType": S(string(d.EventType)),
		"eventKey": S(d.EventKey), "payload": S(string(d.Payload)), "status": S(string(d.Status)),
		"attempts": N(int64(d.Attempts)), "createdAt": T(d.CreatedAt), AttrTTL: ttlAfter(d.CreatedAt, event.FeedRetention)}
	if d.Status == event.DeliveryPending {
		it["nextAttemptAt"] = T(d.NextAttemptAt)
		it[AttrGSI1PK], it[AttrGSI1SK] = S(dueWebhookPK), S(dueDeliverySK(d))
	}
	return it
}

func deliveryFromItem(it Item) *event.Delivery {
	return &event.Delivery{Tenant: GetS(it, "tenant"), EndpointID: GetS(it, "endpointId"), EventID: GetS(it, "eventId"),
		EventType: event.Type(GetS(it, "eventType")), EventKey: GetS(it, "eventKey"), Payload: []byte(GetS(it, "payload")),
		Status: event.DeliveryStatus(GetS(it, "status")), Attempts: int(GetN(it, "attempts")), LastStatus: int(GetN(it, "lastStatus")),
		LastError: GetS(it, "lastError"), LastAttemptAt: GetT(it, "lastAttemptAt"), NextAttemptAt: GetT(it, "nextAttemptAt"),
		CreatedAt: GetT(it, "createdAt")}
}

// Delivery reads one delivery.
func (r EventRepo) Delivery(ctx context.Context, ref event.DeliveryRef) (*event.Delivery, error) {
	it, err := r.s.Get(ctx, TenantPK(ref.Tenant), deliverySK(ref.EndpointID, ref.EventKey))
	if err != nil {
		return nil, err
	}
	return deliveryFromItem(it), nil
}

// deliveryListAttrs are what a list shows: all but the payload.
var deliveryListAttrs = []string{"tenant", "endpointId", "eventId", "eventType", "eventKey", "status", "attempts",
	"lastStatus", "lastError", "lastAttemptAt", "nextAttemptAt", "createdAt"}

// Deliveries pages through an endpoint's deliveries, newest first.
func (r EventRepo) Deliveries(ctx context.Context, tenant, endpointID, cursor string, limit int) ([]*event.Delivery, string, error) {
	return queryPage(ctx, r.s, Query{PK: TenantPK(tenant), SKPrefix: deliveryPrefix + Esc(endpointID) + "#", Limit: limit,
		Cursor: cursor, Reverse: true, Attrs: deliveryListAttrs}, deliveryFromItem)
}

// DueDeliveries lists the pending deliveries due by before.
func (r EventRepo) DueDeliveries(ctx context.Context, before time.Time, cursor string, limit int) ([]event.DeliveryRef, string, error) {
	page, err := r.s.Query(ctx, Query{Index: IndexGSI1, PK: dueWebhookPK, SKMax: FormatTime(before) + "~", Limit: limit, Cursor: cursor,
		Attrs: []string{"tenant", "endpointId", "eventKey"}})
	if err != nil {
		return nil, "", err
	}
	out := make([]event.DeliveryRef, 0, len(page.Items))
	for _, it := range page.Items {
		out = append(out, event.DeliveryRef{Tenant: GetS(it, "tenant"), EndpointID: GetS(it, "endpointId"), EventKey: GetS(it, "eventKey")})
	}
	return out, page.Cursor, nil
}

// Claim moves a pending delivery's next attempt to until, when its attempt
// count and next attempt are as d says.
func (r EventRepo) Claim(ctx context.Context, d *event.Delivery, until time.Time) error {
	next := *d
	next.NextAttemptAt = until
	_, err := r.s.Update(ctx, Update{PK: TenantPK(d.Tenant), SK: deliverySK(d.EndpointID, d.EventKey),
		Expr:  "SET nextAttemptAt = :until, #g = :g",
		Cond:  "#st = :pending AND attempts = :n AND nextAttemptAt = :was",
		Names: map[string]string{"#st": "status", "#g": AttrGSI1SK},
		Values: Item{":until": T(until), ":g": S(dueDeliverySK(&next)), ":pending": S(string(event.DeliveryPending)),
			":n": N(int64(d.Attempts)), ":was": T(d.NextAttemptAt)},
	})
	if err == nil {
		d.NextAttemptAt = until
	}
	return err
}

// SaveAttempt writes an attempt's result.
func (r EventRepo) SaveAttempt(ctx context.Context, d *event.Delivery, prevAttempts int) error {
	names := map[string]string{"#st": "status", "#gp": AttrGSI1PK, "#gs": AttrGSI1SK}
	values := Item{":st": S(string(d.Status)), ":n": N(int64(d.Attempts)), ":prev": N(int64(prevAttempts)),
		":pending": S(string(event.DeliveryPending)), ":ls": N(int64(d.LastStatus))}
	set := []string{"#st = :st", "attempts = :n", "lastStatus = :ls"}
	var remove []string
	if d.LastError != "" {
		set, values[":le"] = append(set, "lastError = :le"), S(d.LastError)
	} else {
		remove = append(remove, "lastError")
	}
	if !d.LastAttemptAt.IsZero() {
		set, values[":la"] = append(set, "lastAttemptAt = :la"), T(d.LastAttemptAt)
	}
	if d.Status == event.DeliveryPending {
		set = append(set, "nextAttemptAt = :na", "#gp = :gp", "#gs = :gs")
		values[":na"], values[":gp"], values[":gs"] = T(d.NextAttemptAt), S(dueWebhookPK), S(dueDeliverySK(d))
	} else {
		remove = append(remove, "nextAttemptAt", "#gp", "#gs")
	}
	expr := "SET " + strings.Join(set, ", ")
	if len(remove) > 0 {
		expr += " REMOVE " + strings.Join(remove, ", ")
	}
	_, err := r.s.Update(ctx, Update{PK: TenantPK(d.Tenant), SK: deliverySK(d.EndpointID, d.EventKey), Expr: expr,
		Cond: "#st = :pending AND attempts = :prev", Names: names, Values: values})
	if err != nil {
		return fmt.Errorf("store: recording a delivery attempt: %w", err)
	}
	return nil
}
