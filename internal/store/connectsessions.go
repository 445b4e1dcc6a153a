package store

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/switchboard-dev/switchboard/internal/connection"
	"github.com/switchboard-dev/switchboard/internal/platform"
)

// Connect sessions and used OAuth states are stored as
//
//	pk CONNECTSESSION#<sha256 of the link token>  sk SESSION   type connect_session
//	pk OAUTHSTATE#<sha256 of the state>           sk USED      type oauth_state_used
//
// neither under a tenant's partition: the link and the callback name no
// tenant, only the hash of a secret that the tenant's item then names.
// Both expire (ttl); every read checks expiry itself.
const (
	sessionPrefix = "CONNECTSESSION#"
	sessionSK     = "SESSION"
	usedStateSK   = "USED"
)

func (r connRepo) PutSession(ctx context.Context, cs *connection.ConnectSession) error {
	it := Item{
		AttrPK: S(sessionPrefix + cs.Key), AttrSK: S(sessionSK), "type": S("connect_session"),
		"tenant": S(cs.Tenant), "user": S(cs.User),
		"createdAt": T(cs.CreatedAt), "expiresAt": T(cs.ExpiresAt),
		AttrTTL: N(cs.ExpiresAt.Unix()),
	}
	if len(cs.Platforms) > 0 {
		l := make([]types.AttributeValue, len(cs.Platforms))
		for i, p := range cs.Platforms {
			l[i] = S(string(p))
		}
		it["platforms"] = &types.AttributeValueMemberL{Value: l}
	}
	if cs.ReturnTo != "" {
		it["returnTo"] = S(cs.ReturnTo)
	}
	return r.s.Put(ctx, it, NotExists())
}

// GetSession reads a connect session; one never stored is the store's
// not-found error.
func (r connRepo) GetSession(ctx context.Context, key string) (*connection.ConnectSession, error) {
	it, err := r.s.Get(ctx, sessionPrefix+key, sessionSK)
	if err != nil {
		return nil, err
	}
	cs := &connection.ConnectSession{
		Key: key, Tenant: GetS(it, "tenant"), User: GetS(it, "user"), ReturnTo: GetS(it, "returnTo"),
		CreatedAt: GetT(it, "createdAt"), ExpiresAt: GetT(it, "expiresAt"), ClosedAt: GetT(it, "closedAt"),
	}
	if l, ok := it["platforms"].(*types.AttributeValueMemberL); ok {
		for _, v := range l.Value {
			if s, ok := v.(*types.AttributeValueMemberS); ok {
				cs.Platforms = append(cs.Platforms, platform.ID(s.Value))
			}
		}
	}
	return cs, nil
}

// CloseSession marks a session used up at at, once: a session closed
// already fails the condition.
func (r connRepo) CloseSession(ctx context.Context, key string, at time.Time) error {
	_, err := r.s.Update(ctx, Update{
		PK: sessionPrefix + key, SK: sessionSK,
		Expr: "SET closedAt = :at", Cond: "attribute_exists(pk) AND attribute_not_exists(closedAt)",
		Values: Item{":at": T(at)},
	})
	return err
}

// MarkStateUsed records that the state under key connected the tenant's
// platform, until expiresAt, so a reload of the callback can say so.
func (r connRepo) MarkStateUsed(ctx context.Context, u connection.UsedState) error {
	it := Item{
		AttrPK: S(statePrefix + u.Key), AttrSK: S(usedStateSK), "type": S("oauth_state_used"),
		"tenant": S(u.Tenant), "platform": S(string(u.Platform)), "expiresAt": T(u.ExpiresAt),
		AttrTTL: N(u.ExpiresAt.Unix()),
	}
	if u.ReturnTo != "" {
		it["returnTo"] = S(u.ReturnTo)
	}
	return r.s.Put(ctx, it, nil)
}

// UsedState reads what MarkStateUsed recorded; ok is false when nothing
// was, or it has expired at now.
func (r connRepo) UsedState(ctx context.Context, key string, now time.Time) (connection.UsedState, bool, error) {
	it, err := r.s.Get(ctx, statePrefix+key, usedStateSK)
	if IsNotFound(err) {
		return connection.UsedState{}, false, nil
	}
	if err != nil {
		return connection.UsedState{}, false, err
	}
	u := connection.UsedState{Key: key, Tenant: GetS(it, "tenant"), Platform: platform.ID(GetS(it, "platform")),
		ReturnTo: GetS(it, "returnTo"), ExpiresAt: GetT(it, "expiresAt")}
	if !u.ExpiresAt.After(now) {
		return connection.UsedState{}, false, nil
	}
	return u, true, nil
}
