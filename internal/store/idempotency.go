package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/idempotency"
	"github.com/switchboard-dev/switchboard/internal/vault"
)

// Idempotency keys are stored as
//
//	pk TENANT#<tenant>  sk IDEM#<operation>#<key>  type idempotency
//
// with the request's hash, a state (pending, done), the answer once done,
// and ttl 24 h after the first use. Reads check expiresAt themselves: TTL
// deletes late.
const idemPrefix = "IDEM#"

// Idempotency gives the HTTP layer its Idempotency-Key memory; the
// answers it keeps are sealed with v, so an answer that carries a secret
// (a meeting's credential link) is never stored in the clear. Sealing every
// kept answer, not only those with a secret, costs one KMS GenerateDataKey
// per create that sends a key (a replay's Decrypt is cached): accepted so
// that no handler has to know which of its answers hold a secret.
func (s *Store) Idempotency(v AnswerSealer) IdempotencyKeys { return IdempotencyKeys{s: s, v: v} }

// AnswerSealer seals and opens kept answers (a *vault.Vault).
type AnswerSealer interface {
	Seal(ctx context.Context, plaintext []byte, ec vault.EncryptionContext) ([]byte, error)
	Open(ctx context.Context, sealed []byte, ec vault.EncryptionContext) ([]byte, error)
}

// IdempotencyKeys implements httpapi.IdempotencyStore.
type IdempotencyKeys struct {
	s *Store
	v AnswerSealer
}

// answerContext binds a kept answer to its tenant, operation and key, so
// it cannot be replayed for another.
func answerContext(tenant, scope, key string) vault.EncryptionContext {
	return vault.Context(tenant, "", vault.PurposeIdempotentAnswer, scope+"/"+key)
}

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
		// An answer kept before answers were sealed (at most a day
		// old; it held no secret: meeting links were withheld then) is
		// read as it is.
		body := GetS(old, "body")
		if env, ec, sealed := GetSealed(old, "body"); sealed {
			pt, err := k.v.Open(ctx, env, ec)
			if errors.Is(err, vault.ErrKeyring) {
				return nil, apperr.Wrap(apperr.Unavailable, apperr.CodeVaultUnavailable, "the kept answer cannot be decrypted right now; try again shortly", err)
			}
			if err != nil {
				return nil, fmt.Errorf("store: opening a kept answer: %w", err)
			}
			body = string(pt)
		}
		resp := &idempotency.Response{Status: int(GetN(old, "status")), Body: body, Headers: map[string]string{}}
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
	ec := answerContext(tenant, scope, key)
	env, err := k.v.Seal(ctx, []byte(resp.Body), ec)
	if err != nil {
		return fmt.Errorf("store: sealing a kept answer: %w", err)
	}
	headers := Item{}
	for h, v := range resp.Headers {
		headers[h] = S(v)
	}
	_, err = k.s.Update(ctx, Update{PK: pk, SK: sk,
		Expr:  "SET #st = :done, #status = :status, body = :body, headers = :headers, finishedAt = :now REMOVE pendingUntil",
		Cond:  "attribute_exists(pk)",
		Names: map[string]string{"#st": "state", "#status": "status"},
		Values: Item{":done": S("done"), ":status": N(int64(resp.Status)), ":body": Sealed(env, ec),
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
