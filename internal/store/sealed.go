package store

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/vault"
)

// A sealed value is stored self-describing, as a map {env: B, ctx: M}: the
// vault's envelope and the encryption context it was sealed with (not a
// secret). Any item's sealed values can so be found and re-wrapped without
// knowing the item's type.
const (
	sealedEnv = "env"
	sealedCtx = "ctx"
)

// Sealed builds the attribute value for an envelope sealed under ec.
func Sealed(envelope []byte, ec vault.EncryptionContext) types.AttributeValue {
	m := make(map[string]types.AttributeValue, len(ec))
	for k, v := range ec {
		m[k] = S(v)
	}
	return &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
		sealedEnv: B(envelope),
		sealedCtx: &types.AttributeValueMemberM{Value: m},
	}}
}

// GetSealed reads a sealed attribute: the envelope and its context. ok is
// false when the attribute is absent or not a sealed value.
func GetSealed(it Item, name string) (envelope []byte, ec vault.EncryptionContext, ok bool) {
	m, isMap := it[name].(*types.AttributeValueMemberM)
	if !isMap {
		return nil, nil, false
	}
	env, isB := m.Value[sealedEnv].(*types.AttributeValueMemberB)
	ctxm, isM := m.Value[sealedCtx].(*types.AttributeValueMemberM)
	if !isB || !isM {
		return nil, nil, false
	}
	ec = make(vault.EncryptionContext, len(ctxm.Value))
	for k, v := range ctxm.Value {
		if s, isS := v.(*types.AttributeValueMemberS); isS {
			ec[k] = s.Value
		}
	}
	return env.Value, ec, true
}

// Envelopes gives the vault's re-wrap routine the table's sealed values.
func (s *Store) Envelopes() vault.EnvelopeStore { return envelopeStore{s} }

type envelopeStore struct{ s *Store }

// ListEnvelopes scans the table, a page at a time. A scan is right here and
// only here: re-wrapping is a maintenance run over every item, not a
// request path (no function's IAM policy allows Scan; the operator's does).
func (e envelopeStore) ListEnvelopes(ctx context.Context, cursor string) ([]vault.StoredEnvelope, string, error) {
	in := &dynamodb.ScanInput{TableName: aws.String(e.s.table), Limit: aws.Int32(100)}
	if cursor != "" {
		start, err := decodeScanCursor(cursor)
		if err != nil {
			return nil, "", err
		}
		in.ExclusiveStartKey = start
	}
	out, err := e.s.db.Scan(ctx, in)
	if err != nil {
		return nil, "", classify("scan", err)
	}
	var page []vault.StoredEnvelope
	for _, it := range out.Items {
		pk, sk := GetS(it, AttrPK), GetS(it, AttrSK)
		for name := range it {
			env, ec, ok := GetSealed(it, name)
			if !ok {
				continue
			}
			page = append(page, vault.StoredEnvelope{Ref: vault.ItemRef{PK: pk, SK: sk, Attr: name}, Context: ec, Sealed: env})
		}
	}
	next := ""
	if len(out.LastEvaluatedKey) > 0 {
		if next, err = encodeCursor(out.LastEvaluatedKey); err != nil {
			return nil, "", err
		}
	}
	return page, next, nil
}

// ReplaceEnvelope swaps one envelope for another when it is still the one
// listed, so a concurrent write of new credentials is never overwritten.
func (e envelopeStore) ReplaceEnvelope(ctx context.Context, old vault.StoredEnvelope, newSealed []byte) error {
	_, err := e.s.Update(ctx, Update{
		PK: old.Ref.PK, SK: old.Ref.SK,
		Expr:   "SET #a.#env = :new",
		Cond:   "#a.#env = :old",
		Names:  map[string]string{"#a": old.Ref.Attr, "#env": sealedEnv},
		Values: Item{":new": B(newSealed), ":old": B(old.Sealed)},
	})
	if IsConditionFailed(err) {
		return fmt.Errorf("store: %s/%s %s: %w", old.Ref.PK, old.Ref.SK, old.Ref.Attr, vault.ErrEnvelopeChanged)
	}
	return err
}

func decodeScanCursor(c string) (Item, error) {
	bad := apperr.E(apperr.Invalid, apperr.CodeInvalidCursor, "the cursor is not one this scan gave out")
	if len(c) < len(cursorPrefix) || c[:len(cursorPrefix)] != cursorPrefix {
		return nil, bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(c[len(cursorPrefix):])
	if err != nil {
		return nil, bad
	}
	var m map[string]string
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&m); err != nil || m[AttrPK] == "" || m[AttrSK] == "" || len(m) != 2 {
		return nil, bad
	}
	return Key(m[AttrPK], m[AttrSK]), nil
}
