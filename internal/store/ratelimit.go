package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/ratelimit"
)

// Rate-limit windows are stored one item per limited subject:
//
//	pk TENANT#<tenant>  sk RATE#<limit>#<subject>  type rate_window
//
// with "times" the accepted instants (a list of epoch milliseconds, oldest
// first), "version" (the optimistic counter every commit checks and
// bumps) and ttl one period after the newest instant. TTL only cleans up:
// LoadWindow hands back what is stored, and the decision drops expired
// instants itself.
const ratePrefix = "RATE#"

func windowKey(tenant, limit, subject string) (string, string) {
	return TenantPK(tenant), ratePrefix + Esc(limit) + "#" + Esc(subject)
}

// LoadWindow reads a subject's window with one consistent GetItem. A
// window never stored is the zero State.
func (s *Store) LoadWindow(ctx context.Context, tenant, limit, subject string) (ratelimit.State, error) {
	pk, sk := windowKey(tenant, limit, subject)
	it, err := s.Get(ctx, pk, sk)
	if IsNotFound(err) {
		return ratelimit.State{}, nil
	}
	if err != nil {
		return ratelimit.State{}, err
	}
	st := ratelimit.State{Version: GetN(it, AttrVersion)}
	if l, ok := it["times"].(*types.AttributeValueMemberL); ok {
		for _, v := range l.Value {
			if n, ok := v.(*types.AttributeValueMemberN); ok {
				var ms int64
				if _, err := fmt.Sscan(n.Value, &ms); err == nil {
					st.Times = append(st.Times, time.UnixMilli(ms).UTC())
				}
			}
		}
	}
	return st, nil
}

// windowWrite is the conditional write that commits decision d made from
// st: the window becomes d.Times at version st.Version+1, only if it is
// still at st.Version.
func windowWrite(tenant, limit, subject string, st ratelimit.State, d ratelimit.Decision, period time.Duration) TxWrite {
	pk, sk := windowKey(tenant, limit, subject)
	times := make([]types.AttributeValue, len(d.Times))
	for i, t := range d.Times {
		times[i] = N(t.UnixMilli())
	}
	newest := d.At
	if n := len(d.Times); n > 0 {
		newest = d.Times[n-1]
	}
	item := Item{
		AttrPK: S(pk), AttrSK: S(sk), "type": S("rate_window"),
		"times": &types.AttributeValueMemberL{Value: times}, AttrVersion: N(st.Version + 1),
		// DynamoDB deletes it some time after the last instant has left the window.
		AttrTTL: N(newest.Add(period).Unix() + 1),
	}
	cond := NotExists()
	if st.Version > 0 {
		cond = &Cond{Expr: "#v = :v", Names: map[string]string{"#v": AttrVersion}, Values: Item{":v": N(st.Version)}}
	}
	return TxWrite{Put: item, Cond: cond}
}

// CommitWindow commits decision d (made from st) together with the other
// writes, in one TransactWriteItems call: either the window records the
// acceptance and every other write happens, or nothing does. When the
// window moved since st was read, or another transaction on it was in
// flight, the error wraps ratelimit.ErrContended; a failed condition of
// another write is a Conflict naming it (*TxCanceled).
func (s *Store) CommitWindow(ctx context.Context, tenant, limit, subject string, st ratelimit.State, d ratelimit.Decision,
	period time.Duration, also ...TxWrite) error {
	writes := append([]TxWrite{windowWrite(tenant, limit, subject, st, d, period)}, also...)
	err := s.TransactWrite(ctx, writes...)
	if err == nil {
		return nil
	}
	var tc *TxCanceled
	if errors.As(err, &tc) && len(tc.Failed) > 0 && tc.Failed[0] == 0 {
		return fmt.Errorf("store: committing the %s window: %w", limit, ratelimit.ErrContended)
	}
	if errors.Is(err, ErrTxConflict) {
		return fmt.Errorf("store: committing the %s window: %w", limit, ratelimit.ErrContended)
	}
	if errors.As(err, &tc) {
		return apperr.Wrap(apperr.Conflict, apperr.CodeConditionFailed, "", err)
	}
	return err
}
