package store

import (
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/switchboard-dev/switchboard/internal/apperr"
)

// A cursor is the page's LastEvaluatedKey, all string attributes, as
// base64url JSON behind a version prefix. It is opaque to callers but not a
// secret: what makes it safe is that decodeCursor accepts it only for the
// partition (and sort-key prefix) of the query it is offered to, so a cursor
// cannot move a query into another tenant's partition.
const cursorPrefix = "c1."

func encodeCursor(lek Item) (string, error) {
	m := make(map[string]string, len(lek))
	for k, v := range lek {
		s, ok := v.(*types.AttributeValueMemberS)
		if !ok {
			return "", apperr.Errorf(apperr.Internal, apperr.CodeCursorEncoding, "key attribute %s is not a string", k)
		}
		m[k] = s.Value
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", apperr.Wrap(apperr.Internal, apperr.CodeCursorEncoding, "", err)
	}
	return cursorPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

func badCursor() error {
	return apperr.E(apperr.Invalid, apperr.CodeInvalidCursor, "the cursor is not one this list gave out; start again without it")
}

func decodeCursor(c, pkAttr, pk, skAttr, skPrefix string) (Item, error) {
	if !strings.HasPrefix(c, cursorPrefix) || len(c) > 2048 {
		return nil, badCursor()
	}
	raw, err := base64.RawURLEncoding.DecodeString(c[len(cursorPrefix):])
	if err != nil {
		return nil, badCursor()
	}
	var m map[string]string
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, badCursor()
	}
	// The key must be exactly the shape this query's LastEvaluatedKey has.
	allowed := map[string]bool{AttrPK: true, AttrSK: true, pkAttr: true, skAttr: true}
	for k := range m {
		if !allowed[k] {
			return nil, badCursor()
		}
	}
	if m[pkAttr] != pk || m[AttrPK] == "" || m[AttrSK] == "" || !strings.HasPrefix(m[skAttr], skPrefix) {
		return nil, badCursor()
	}
	if pkAttr != AttrPK && m[skAttr] == "" {
		return nil, badCursor()
	}
	out := make(Item, len(m))
	for k, v := range m {
		out[k] = &types.AttributeValueMemberS{Value: v}
	}
	return out, nil
}
