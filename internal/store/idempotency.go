package store

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/switchboard-dev/switchboard/internal/idempotency"
)

// Idempotency keys are stored as
//
//	pk TENANT#<tenant>  sk IDEM#<operation>#<key>  type idempotency
//
// with the request's hash, a state (pending, done), the answer once done,
// and ttl 24 h after the first use. Reads check expiresAt themselves: TTL
// deletes late.
const idemPrefix = "IDEM#"

// Idempotency gives the HTTP layer its Idempotency-Key memory.
func (s *Store) Idempotency() IdempotencyKeys { return IdempotencyKeys{s} }

// IdempotencyKeys implements httpapi.IdempotencyStore.
type IdempotencyKeys struct{ s *Store }

func idemKey(tenant, scope, key string) (string, string) {
	return TenantPK(tenant), idemPrefix + Esc(scope) + "#" + Esc(key)
}

// Begin claims the key for a request, or says why it cannot.
func (k IdempotencyKeys) Begin(ctx context.Context, tenant, scope, key, hash string, now time.Time) (*idempotency.Response, error) {
	pk, sk := idemKey(tenant, scope, key)
	exp := now.Add(idempotency.TTL)
	item := Item{
		AttrPK: S(pk), AttrSK: S(sk), "type": S("idempotency"), "hash": S(hash), "state": S("pending"),
		"createdAt": T(now), "expiresAt": T(exp), "pendingUntil": T(now.Add(idempotency.PendingTimeout)), AttrTTL: N(exp.Unix()),
	}
	err := k.s.Put(ctx, item, &Cond{Expr: "attribute_not_exists(pk) OR expiresAt < :now", Values: Item{":now": T(now)}})
	if err == nil {
		return nil, nil
	}
	if !IsConditionFailed(err) {
		return nil, err
	}
	old, err := k.s.Get(ctx, pk, sk)
	if IsNotFound(err) {
		return k.Begin(ctx, tenant, scope, key, hash, now) // deleted meanwhile (abandoned): try again
	}
	if err != nil {
		return nil, err
	}
	if GetS(old, "hash") != hash {
		return nil, idempotency.Reused()
	}
	if GetS(old, "state") == "done" {
		resp := &idempotency.Response{Status: int(GetN(old, "status")), Body: GetS(old, "body"), Headers: map[string]string{}}
		if m, ok := old["headers"].(*types.AttributeValueMemberM); ok {
			for h, v := range m.Value {
				if s, ok := v.(*types.AttributeValueMemberS); ok {
					resp.Headers[h] = s.Value
				}
			}
		}
		return resp, nil
	}
	// Pending: the first request still runs, or died. Take over only once
	// its time is up, and only one retry may.
	until := GetS(old, "pendingUntil")
	if GetT(old, "pendingUntil").After(now) {
		return nil, idempotency.InProgress()
	}
	_, err = k.s.Update(ctx, Update{PK: pk, SK: sk,
		Expr: "SET pendingUntil = :next", Cond: "#st = :pending AND pendingUntil = :until",
		Names:  map[string]string{"#st": "state"},
		Values: Item{":next": T(now.Add(idempotency.PendingTimeout)), ":pending": S("pending"), ":until": S(until)},
	})
	if IsConditionFailed(err) {
		return nil, idempotency.InProgress()
	}
	return nil, err
}

// Finish keeps the answer for replay.
func (k IdempotencyKeys) Finish(ctx context.Context, tenant, scope, key string, resp idempotency.Response, now time.Time) error {
	pk, sk := idemKey(tenant, scope, key)
	headers := Item{}
	for h, v := range resp.Headers {
		headers[h] = S(v)
	}
	_, err := k.s.Update(ctx, Update{PK: pk, SK: sk,
		Expr:  "SET #st = :done, #status = :status, body = :body, headers = :headers, finishedAt = :now REMOVE pendingUntil",
		Cond:  "attribute_exists(pk)",
		Names: map[string]string{"#st": "state", "#status": "status"},
		Values: Item{":done": S("done"), ":status": N(int64(resp.Status)), ":body": S(resp.Body),
			":headers": &types.AttributeValueMemberM{Value: headers}, ":now": T(now)},
	})
	return err
}

// Abandon forgets a key whose request failed on our side, so a retry runs.
func (k IdempotencyKeys) Abandon(ctx context.Context, tenant, scope, key string) error {
	pk, sk := idemKey(tenant, scope, key)
	_, err := k.s.Delete(ctx, pk, sk, &Cond{Expr: "#st = :pending", Names: map[string]string{"#st": "state"}, Values: Item{":pending": S("pending")}})
	if IsConditionFailed(err) {
		return nil
	}
	return err
}
