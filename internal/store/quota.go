package store

import (
	"context"
	"errors"
	"time"

	"github.com/switchboard-dev/switchboard/internal/platform"
)

// A metered platform's quota ledger is one item per project and quota day:
//
//	pk QUOTA#<platform>#<project>  sk DAY#<day>  type quota_day  spent, reserved (numbers; ttl)
//
// Both numbers only ever change by ADD, an atomic addition: any number of
// Lambdas counting at once all count. The project is the OAuth client id,
// which is public (it is in every authorization URL).
const quotaPrefix = "QUOTA#"

// QuotaLedger gives the platforms' clients their quota ledger.
func (s *Store) QuotaLedger() platform.QuotaLedger { return quotaLedger{s} }

type quotaLedger struct{ s *Store }

func quotaKey(k platform.QuotaKey) (string, string) {
	return quotaPrefix + Esc(string(k.Platform)) + "#" + Esc(k.Project), "DAY#" + Esc(k.Day)
}

func (l quotaLedger) AddUnits(ctx context.Context, k platform.QuotaKey, spent, reserved int64, expires time.Time) error {
	pk, sk := quotaKey(k)
	_, err := l.s.Update(ctx, Update{
		PK: pk, SK: sk,
		Expr:   "ADD spent :s, reserved :r SET #type = :type, #ttl = :ttl",
		Names:  map[string]string{"#type": "type", "#ttl": AttrTTL},
		Values: Item{":s": N(spent), ":r": N(reserved), ":type": S("quota_day"), ":ttl": N(expires.Unix())},
	})
	return err
}

func (l quotaLedger) Units(ctx context.Context, k platform.QuotaKey) (int64, int64, error) {
	pk, sk := quotaKey(k)
	it, err := l.s.GetAttrs(ctx, pk, sk, "spent", "reserved")
	if errors.Is(err, ErrNotFound) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, err
	}
	return GetN(it, "spent"), GetN(it, "reserved"), nil
}
