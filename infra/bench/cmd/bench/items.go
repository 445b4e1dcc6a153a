package main

import (
	"context"
	"sort"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/switchboard-dev/switchboard/internal/store"
)

// itemSize is the measured size of one kind of item, the base of the
// capacity arithmetic in "Scale on paper".
type itemSize struct {
	kind       string // the item's type attribute
	count      int
	meanBytes  int
	largest    int
	inDueIndex int // how many carry gsi1pk or duepk, so are written to an index of due work too
}

// measureItems reads the bench tenant's partition through the store and
// sizes its items by type, with DynamoDB's rules for item size.
func measureItems(ctx context.Context, st *store.Store, tenant string) ([]itemSize, error) {
	by := map[string]*itemSize{}
	sums := map[string]int{}
	cursor := ""
	for {
		page, err := st.Query(ctx, store.Query{PK: store.TenantPK(tenant), Limit: store.MaxPageSize, Cursor: cursor})
		if err != nil {
			return nil, err
		}
		for _, it := range page.Items {
			kind := store.GetS(it, "type")
			if kind == "" {
				kind = "(no type)"
			}
			s, ok := by[kind]
			if !ok {
				s = &itemSize{kind: kind}
				by[kind] = s
			}
			n := sizeOfItem(it)
			s.count++
			sums[kind] += n
			s.largest = max(s.largest, n)
			if store.GetS(it, store.AttrGSI1PK) != "" || store.GetS(it, store.AttrDuePK) != "" {
				s.inDueIndex++
			}
		}
		if page.Cursor == "" {
			break
		}
		cursor = page.Cursor
	}
	out := make([]itemSize, 0, len(by))
	for kind, s := range by {
		s.meanBytes = sums[kind] / s.count
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].kind < out[j].kind })
	return out, nil
}

// sizeOfItem is an item's size as DynamoDB counts it for capacity: each
// attribute's name and value.
func sizeOfItem(it store.Item) int {
	n := 0
	for name, v := range it {
		n += len(name) + sizeOfValue(v)
	}
	return n
}

func sizeOfValue(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return len(v.Value)/2 + 1
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberSS:
		n := 0
		for _, s := range v.Value {
			n += len(s)
		}
		return n
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += 1 + sizeOfValue(e)
		}
		return n
	case *types.AttributeValueMemberM:
		n := 3
		for k, e := range v.Value {
			n += 1 + len(k) + sizeOfValue(e)
		}
		return n
	}
	return 0
}
