package store

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/switchboard-dev/switchboard/internal/connection"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/vault"
)

// Connections are stored as
//
//	pk TENANT#<tenant>  sk CONN#<platform>  type connection
//	duepk DUE#CRED#<shard>  duesk <nextCheckAt>#<tenant>#<platform>   (only while a check is due some day; due.go)
//
// with the credentials in "creds" as a sealed value.
const (
	connPrefix  = "CONN#"
	dueCredPK   = "DUE#CRED"
	statePrefix = "OAUTHSTATE#"
)

// Connections gives the connection service its storage.
func (s *Store) Connections() connection.Repo { return connRepo{s} }

type connRepo struct{ s *Store }

func connKey(tenant string, p platform.ID) (string, string) {
	return TenantPK(tenant), connPrefix + string(p)
}

func (r connRepo) Get(ctx context.Context, tenant string, p platform.ID) (*connection.Connection, error) {
	pk, sk := connKey(tenant, p)
	it, err := r.s.Get(ctx, pk, sk)
	if err != nil {
		return nil, err
	}
	return connFromItem(it), nil
}

// View reads one connection without its credentials, for an answer:
// Sealed is empty in what it returns.
func (r connRepo) View(ctx context.Context, tenant string, p platform.ID) (*connection.Connection, error) {
	pk, sk := connKey(tenant, p)
	it, err := r.s.GetAttrs(ctx, pk, sk, connListAttrs...)
	if err != nil {
		return nil, err
	}
	return connFromItem(it), nil
}

// connListAttrs are the attributes a list or a View reads: all but the sealed
// credentials ("creds"), which no list shows; reading them cost a listing
// of ten connections a fifth of its CPU and a third of its allocations.
var connListAttrs = []string{
	"tenant", "platform", "status", "authType", "accountId", "accountName", "connectedBy",
	"connectedAt", "updatedAt", "statusChangedAt", "expiresAt", "lastRefreshedAt", "lastVerifiedAt",
	"nextCheckAt", "expiryNotice", AttrVersion, "leaseOwner", "leaseUntil", "scopes", "defaultWorkspace", "workspaces",
	"lastError", "history",
}

// List pages through a tenant's connections without their credentials:
// Sealed is empty in what it returns.
func (r connRepo) List(ctx context.Context, tenant, cursor string, limit int) ([]*connection.Connection, string, error) {
	return queryPage(ctx, r.s, Query{PK: TenantPK(tenant), SKPrefix: connPrefix, Limit: limit, Cursor: cursor, Attrs: connListAttrs}, connFromItem)
}

func (r connRepo) Save(ctx context.Context, c *connection.Connection, leaseOwner string) error {
	it := connToItem(c)
	cond := &Cond{Expr: "attribute_not_exists(pk)"}
	if c.Version > 0 {
		cond = &Cond{Expr: "#v = :v", Names: map[string]string{"#v": AttrVersion}, Values: Item{":v": N(c.Version)}}
	}
	if leaseOwner != "" {
		cond.Expr += " AND #lo = :lo"
		if cond.Names == nil {
			cond.Names = map[string]string{}
		}
		if cond.Values == nil {
			cond.Values = Item{}
		}
		cond.Names["#lo"], cond.Values[":lo"] = "leaseOwner", S(leaseOwner)
	}
	it[AttrVersion] = N(c.Version + 1)
	if err := r.s.Put(ctx, it, cond); err != nil {
		return err
	}
	c.Version++
	c.LeaseOwner, c.LeaseUntil = "", time.Time{}
	return nil
}

func (r connRepo) TakeLease(ctx context.Context, c *connection.Connection, owner string, until, now time.Time) error {
	pk, sk := connKey(c.Tenant, c.Platform)
	_, err := r.s.Update(ctx, Update{
		PK: pk, SK: sk,
		Expr:   "SET leaseOwner = :o, leaseUntil = :u",
		Cond:   "#v = :v AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now)",
		Names:  map[string]string{"#v": AttrVersion},
		Values: Item{":o": S(owner), ":u": T(until), ":v": N(c.Version), ":now": T(now)},
	})
	if err == nil {
		c.LeaseOwner, c.LeaseUntil = owner, until
	}
	return err
}

func (r connRepo) ReleaseLease(ctx context.Context, tenant string, p platform.ID, owner string) error {
	pk, sk := connKey(tenant, p)
	_, err := r.s.Update(ctx, Update{
		PK: pk, SK: sk,
		Expr: "REMOVE leaseOwner, leaseUntil", Cond: "leaseOwner = :o",
		Values: Item{":o": S(owner)},
	})
	return err
}

func (r connRepo) Due(ctx context.Context, before time.Time, cursor string, limit int) ([]connection.DueRef, string, error) {
	items, next, err := r.s.queryDue(ctx, dueCredPK, FormatTime(before)+"~", cursor, limit, []string{"tenant", "platform", "nextCheckAt"})
	if err != nil {
		return nil, "", err
	}
	out := make([]connection.DueRef, 0, len(items))
	for _, it := range items {
		out = append(out, connection.DueRef{
			Tenant: GetS(it, "tenant"), Platform: platform.ID(GetS(it, "platform")), DueAt: GetT(it, "nextCheckAt"),
		})
	}
	return out, next, nil
}

func (r connRepo) PutState(ctx context.Context, st *connection.OAuthState) error {
	it := Item{
		AttrPK: S(statePrefix + st.Key), AttrSK: S("STATE"), "type": S("oauth_state"),
		"tenant": S(st.Tenant), "user": S(st.User), "platform": S(string(st.Platform)),
		"createdAt": T(st.CreatedAt), "expiresAt": T(st.ExpiresAt),
		// DynamoDB removes it some day after this; TakeState checks expiresAt itself.
		AttrTTL: N(st.ExpiresAt.Unix()),
	}
	if st.ReturnTo != "" {
		it["returnTo"] = S(st.ReturnTo)
	}
	if len(st.SealedReturnTo) > 0 {
		it["returnToSealed"] = Sealed(st.SealedReturnTo, vault.Context(st.Tenant, string(st.Platform), vault.PurposeConnectLink, st.Key))
	}
	if len(st.SealedVerifier) > 0 {
		it["verifier"] = Sealed(st.SealedVerifier, vault.Context(st.Tenant, string(st.Platform), vault.PurposePKCEVerifier, st.Key))
	}
	return r.s.Put(ctx, it, NotExists())
}

func (r connRepo) TakeState(ctx context.Context, key string, p platform.ID, now time.Time) (*connection.OAuthState, error) {
	pk := statePrefix + key
	old, err := r.s.Delete(ctx, pk, "STATE", &Cond{
		Expr:   "attribute_exists(pk) AND #p = :p AND expiresAt > :now",
		Names:  map[string]string{"#p": "platform"},
		Values: Item{":p": S(string(p)), ":now": T(now)},
	})
	if IsConditionFailed(err) {
		// Nothing was deleted; read once to say why.
		it, gerr := r.s.Get(ctx, pk, "STATE")
		switch {
		case IsNotFound(gerr):
			return nil, connection.ErrStateUnknown
		case gerr != nil:
			return nil, gerr
		case GetS(it, "platform") != string(p):
			return nil, connection.ErrStateMismatch
		default:
			return nil, connection.ErrStateExpired
		}
	}
	if err != nil {
		return nil, err
	}
	if old == nil {
		return nil, connection.ErrStateUnknown
	}
	st := &connection.OAuthState{
		Key: key, Tenant: GetS(old, "tenant"), User: GetS(old, "user"), Platform: platform.ID(GetS(old, "platform")),
		ReturnTo: GetS(old, "returnTo"), CreatedAt: GetT(old, "createdAt"), ExpiresAt: GetT(old, "expiresAt"),
	}
	if env, _, ok := GetSealed(old, "returnToSealed"); ok {
		st.SealedReturnTo = env
	}
	if env, _, ok := GetSealed(old, "verifier"); ok {
		st.SealedVerifier = env
	}
	return st, nil
}

func connToItem(c *connection.Connection) Item {
	pk, sk := connKey(c.Tenant, c.Platform)
	it := Item{
		AttrPK: S(pk), AttrSK: S(sk), "type": S("connection"),
		"tenant": S(c.Tenant), "platform": S(string(c.Platform)),
		"status": S(string(c.Status)), "authType": S(string(c.AuthType)),
	}
	putS, putT := setIfPresent(it)
	putS("accountId", c.AccountID)
	putS("accountName", c.AccountName)
	putS("connectedBy", c.ConnectedBy)
	putT("connectedAt", c.ConnectedAt)
	putT("updatedAt", c.UpdatedAt)
	putT("statusChangedAt", c.StatusChangedAt)
	putT("expiresAt", c.ExpiresAt)
	putT("lastRefreshedAt", c.LastRefreshedAt)
	putT("lastVerifiedAt", c.LastVerifiedAt)
	putT("nextCheckAt", c.NextCheckAt)
	if len(c.Scopes) > 0 {
		l := make([]types.AttributeValue, len(c.Scopes))
		for i, s := range c.Scopes {
			l[i] = S(s)
		}
		it["scopes"] = &types.AttributeValueMemberL{Value: l}
	}
	putS("defaultWorkspace", c.DefaultWorkspace)
	putS("expiryNotice", c.ExpiryNotice)
	if len(c.Workspaces) > 0 {
		l := make([]types.AttributeValue, len(c.Workspaces))
		for i, w := range c.Workspaces {
			l[i] = &types.AttributeValueMemberM{Value: Item{"id": S(w.ID), "name": S(w.Name)}}
		}
		it["workspaces"] = &types.AttributeValueMemberL{Value: l}
	}
	if c.LastError != nil {
		it["lastError"] = &types.AttributeValueMemberM{Value: Item{
			"code": S(c.LastError.Code), "message": S(c.LastError.Message), "at": T(c.LastError.At),
		}}
	}
	if len(c.History) > 0 {
		l := make([]types.AttributeValue, len(c.History))
		for i, h := range c.History {
			m := Item{"status": S(string(h.Status)), "at": T(h.At)}
			if h.Reason != "" {
				m["reason"] = S(h.Reason)
			}
			l[i] = &types.AttributeValueMemberM{Value: m}
		}
		it["history"] = &types.AttributeValueMemberL{Value: l}
	}
	if len(c.Sealed) > 0 {
		it["creds"] = Sealed(c.Sealed, vault.Context(c.Tenant, string(c.Platform), vault.PurposeTokenSet, "connection"))
	}
	if !c.NextCheckAt.IsZero() {
		it[AttrDuePK] = S(dueShardPK(dueCredPK, c.Tenant+"#"+string(c.Platform)))
		it[AttrDueSK] = S(FormatTime(c.NextCheckAt) + "#" + Esc(c.Tenant) + "#" + string(c.Platform))
	}
	return it
}

func connFromItem(it Item) *connection.Connection {
	c := &connection.Connection{
		Tenant: GetS(it, "tenant"), Platform: platform.ID(GetS(it, "platform")),
		Status: connection.Status(GetS(it, "status")), AuthType: connection.AuthType(GetS(it, "authType")),
		AccountID: GetS(it, "accountId"), AccountName: GetS(it, "accountName"), ConnectedBy: GetS(it, "connectedBy"),
		ConnectedAt: GetT(it, "connectedAt"), UpdatedAt: GetT(it, "updatedAt"), StatusChangedAt: GetT(it, "statusChangedAt"),
		ExpiresAt: GetT(it, "expiresAt"), LastRefreshedAt: GetT(it, "lastRefreshedAt"), LastVerifiedAt: GetT(it, "lastVerifiedAt"),
		NextCheckAt: GetT(it, "nextCheckAt"), Version: GetN(it, AttrVersion),
		LeaseOwner: GetS(it, "leaseOwner"), LeaseUntil: GetT(it, "leaseUntil"),
	}
	if l, ok := it["scopes"].(*types.AttributeValueMemberL); ok {
		for _, v := range l.Value {
			if s, ok := v.(*types.AttributeValueMemberS); ok {
				c.Scopes = append(c.Scopes, s.Value)
			}
		}
	}
	c.DefaultWorkspace = GetS(it, "defaultWorkspace")
	c.ExpiryNotice = GetS(it, "expiryNotice")
	if l, ok := it["workspaces"].(*types.AttributeValueMemberL); ok {
		for _, v := range l.Value {
			if m, ok := v.(*types.AttributeValueMemberM); ok {
				c.Workspaces = append(c.Workspaces, platform.Workspace{ID: GetS(m.Value, "id"), Name: GetS(m.Value, "name")})
			}
		}
	}
	if m, ok := it["lastError"].(*types.AttributeValueMemberM); ok {
		c.LastError = &connection.LastError{Code: GetS(m.Value, "code"), Message: GetS(m.Value, "message"), At: GetT(m.Value, "at")}
	}
	if l, ok := it["history"].(*types.AttributeValueMemberL); ok {
		for _, v := range l.Value {
			if m, ok := v.(*types.AttributeValueMemberM); ok {
				c.History = append(c.History, connection.Transition{
					Status: connection.Status(GetS(m.Value, "status")), At: GetT(m.Value, "at"), Reason: GetS(m.Value, "reason"),
				})
			}
		}
	}
	if env, _, ok := GetSealed(it, "creds"); ok {
		c.Sealed = env
	}
	return c
}
