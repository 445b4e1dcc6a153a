package store

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/switchboard-dev/switchboard/internal/livestream"
	"github.com/switchboard-dev/switchboard/internal/platform"
)

// Livestreams are stored as
//
//	pk TENANT#<tenant>  sk LIVE#<id>  type livestream
//	duepk DUE#LIVE#<shard>  duesk <minute due, 2006-01-02T15:04Z>#<tenant>#<id>   (only while something is due)
//
// with the targets as a list of maps in the caller's order, and each
// target's stream key as a sealed value in a top-level attribute of its
// own, streamKey_<platform>, where the vault's re-wrap finds it. Ids are
// time-ordered, so a tenant's livestreams read in reverse key order come
// newest first.
const (
	livePrefix    = "LIVE#"
	dueLivePK     = "DUE#LIVE"
	keyAttrPrefix = "streamKey_"
	minuteLayout  = "2006-01-02T15:04Z"
)

// Livestreams gives the livestream service its storage.
func (s *Store) Livestreams() livestream.Repo { return liveRepo{s} }

type liveRepo struct{ s *Store }

func liveKey(tenant, id string) (string, string) { return TenantPK(tenant), livePrefix + Esc(id) }

// dueLiveKey is the index sort key of a livestream (or a series) due at t:
// its minute, then whose it is.
func dueLiveKey(t time.Time, tenant, id string) string {
	return livestream.Minute(t).Format(minuteLayout) + "#" + Esc(tenant) + "#" + Esc(id)
}

func (r liveRepo) Create(ctx context.Context, ls *livestream.Livestream) error {
	it := liveToItem(ls)
	it[AttrVersion] = N(1)
	for p, sealed := range ls.SealedKeys {
		it[keyAttrPrefix+string(p)] = Sealed(sealed, livestream.KeyContext(ls.Tenant, ls.ID, p))
	}
	if err := r.s.Put(ctx, it, NotExists()); err != nil {
		return err
	}
	ls.Version = 1
	return nil
}

func (r liveRepo) Get(ctx context.Context, tenant, id string) (*livestream.Livestream, error) {
	pk, sk := liveKey(tenant, id)
	it, err := r.s.Get(ctx, pk, sk)
	if err != nil {
		return nil, err
	}
	return liveFromItem(it), nil
}

// liveListAttrs are the attributes a list reads: all but the sealed
// stream keys (streamKey_<platform>), which no list shows.
var liveListAttrs = []string{
	"tenant", "id", "title", "description", "scheduledStart", "scheduledEnd", "status", "startedAt", "endedAt",
	"createdAt", "updatedAt", "createdBy", "dueAt", "claimOwner", "claimUntil", AttrVersion, "targets", "checkedAt", "seriesId",
}

// List pages through a tenant's livestreams, newest first, without their
// sealed stream keys: SealedKeys is nil in what it returns.
func (r liveRepo) List(ctx context.Context, tenant string, statuses []livestream.Status, cursor string, limit int) ([]*livestream.Livestream, string, error) {
	q := Query{PK: TenantPK(tenant), SKPrefix: livePrefix, Limit: limit, Cursor: cursor, Reverse: true, Attrs: liveListAttrs}
	if len(statuses) > 0 {
		f := &Cond{Names: map[string]string{"#st": "status"}, Values: Item{}}
		var in []string
		for i, st := range statuses {
			v := ":st" + strconv.Itoa(i)
			f.Values[v] = S(string(st))
			in = append(in, v)
		}
		f.Expr = "#st IN (" + strings.Join(in, ", ") + ")"
		q.Filter = f
	}
	return queryPage(ctx, r.s, q, liveFromItem)
}

// Save rewrites the item but its keys and sealed stream keys with one
// UpdateItem (the stream-scheduler may update, never put), when g holds.
func (r liveRepo) Save(ctx context.Context, ls *livestream.Livestream, g livestream.Guard) error {
	it := liveToItem(ls)
	delete(it, AttrPK)
	delete(it, AttrSK)
	it[AttrVersion] = N(ls.Version + 1)
	names := map[string]string{}
	values := Item{}
	attrs := make([]string, 0, len(it))
	for a := range it {
		attrs = append(attrs, a)
	}
	sort.Strings(attrs) // a stable expression, for readable logs
	var set, remove []string
	for i, a := range attrs {
		n, v := "#a"+strconv.Itoa(i), ":a"+strconv.Itoa(i)
		names[n], values[v] = a, it[a]
		set = append(set, n+" = "+v)
	}
	// The attributes a livestream may lack are removed when it has no value.
	optional := []string{"description", "scheduledEnd", "startedAt", "endedAt", "createdBy",
		"claimOwner", "claimUntil", "dueAt", "checkedAt", AttrDuePK, AttrDueSK,
		AttrGSI1PK, AttrGSI1SK} // gsi1's keys: an item written before the due index leaves gsi1 on its next save
	for i, a := range optional {
		if _, ok := it[a]; !ok {
			n := "#r" + strconv.Itoa(i)
			names[n] = a
			remove = append(remove, n)
		}
	}
	expr := "SET " + strings.Join(set, ", ")
	if len(remove) > 0 {
		expr += " REMOVE " + strings.Join(remove, ", ")
	}
	var cond string
	names["#co"] = "claimOwner"
	if g.Owner != "" {
		cond = "#co = :owner"
		values[":owner"] = S(g.Owner)
	} else {
		cond = "#ver = :ver AND (attribute_not_exists(#co) OR #cu < :now)"
		names["#cu"], names["#ver"] = "claimUntil", AttrVersion
		values[":ver"], values[":now"] = N(g.Version), T(g.Now)
	}
	pk, sk := liveKey(ls.Tenant, ls.ID)
	if _, err := r.s.Update(ctx, Update{PK: pk, SK: sk, Expr: expr, Cond: cond, Names: names, Values: values}); err != nil {
		return err
	}
	ls.Version++
	return nil
}

func (r liveRepo) SaveTarget(ctx context.Context, tenant, id string, i int, t *livestream.Target, sealedKey []byte, owner string) error {
	pk, sk := liveKey(tenant, id)
	names := map[string]string{"#t": "targets", "#co": "claimOwner", "#u": "updatedAt"}
	values := Item{":t": targetToItem(t), ":o": S(owner), ":u": T(t.UpdatedAt)}
	expr := fmt.Sprintf("SET #t[%d] = :t, #u = :u", i)
	if sealedKey != nil {
		names["#k"] = keyAttrPrefix + string(t.Platform)
		values[":k"] = Sealed(sealedKey, livestream.KeyContext(tenant, id, t.Platform))
		expr += ", #k = :k"
	}
	_, err := r.s.Update(ctx, Update{PK: pk, SK: sk, Expr: expr, Cond: "#co = :o", Names: names, Values: values})
	return err
}

func (r liveRepo) Delete(ctx context.Context, tenant, id, owner string) error {
	pk, sk := liveKey(tenant, id)
	_, err := r.s.Delete(ctx, pk, sk, &Cond{Expr: "#co = :o", Names: map[string]string{"#co": "claimOwner"}, Values: Item{":o": S(owner)}})
	return err
}

func (r liveRepo) Due(ctx context.Context, at time.Time, cursor string, limit int) ([]livestream.DueRef, string, error) {
	// '$' sorts just after '#': everything due in the minute of at, or before.
	maxKey := livestream.Minute(at).Format(minuteLayout) + "$"
	items, next, err := r.s.queryDue(ctx, dueLivePK, maxKey, cursor, limit, []string{"tenant", "id"})
	if err != nil {
		return nil, "", err
	}
	out := make([]livestream.DueRef, 0, len(items))
	for _, it := range items {
		out = append(out, livestream.DueRef{Tenant: GetS(it, "tenant"), ID: GetS(it, "id")})
	}
	return out, next, nil
}

func liveToItem(ls *livestream.Livestream) Item {
	pk, sk := liveKey(ls.Tenant, ls.ID)
	it := Item{
		AttrPK: S(pk), AttrSK: S(sk), "type": S("livestream"),
		"tenant": S(ls.Tenant), "id": S(ls.ID), "title": S(ls.Title), "status": S(string(ls.Status)),
		"scheduledStart": T(ls.ScheduledStart), "createdAt": T(ls.CreatedAt), "updatedAt": T(ls.UpdatedAt),
	}
	putS, putT := setIfPresent(it)
	putS("description", ls.Description)
	putS("createdBy", ls.CreatedBy)
	putS("seriesId", ls.SeriesID)
	putS("claimOwner", ls.ClaimOwner)
	putT("scheduledEnd", ls.ScheduledEnd)
	putT("startedAt", ls.StartedAt)
	putT("endedAt", ls.EndedAt)
	putT("claimUntil", ls.ClaimUntil)
	putT("dueAt", ls.DueAt)
	putT("checkedAt", ls.CheckedAt)
	targets := make([]types.AttributeValue, len(ls.Targets))
	for i := range ls.Targets {
		targets[i] = targetToItem(&ls.Targets[i])
	}
	it["targets"] = &types.AttributeValueMemberL{Value: targets}
	if !ls.DueAt.IsZero() {
		it[AttrDuePK] = S(dueShardPK(dueLivePK, ls.Tenant+"#"+ls.ID))
		it[AttrDueSK] = S(dueLiveKey(ls.DueAt, ls.Tenant, ls.ID))
	}
	return it
}

func targetToItem(t *livestream.Target) types.AttributeValue {
	m := Item{"platform": S(string(t.Platform)), "status": S(string(t.Status))}
	putS, putT := setIfPresent(m)
	putS("privacy", t.Privacy)
	putS("destination", t.Destination)
	putS("externalId", t.ExternalID)
	putS("watchUrl", t.WatchURL)
	putS("ingestUrl", t.IngestURL)
	putS("step", string(t.Step))
	putS("keyNote", t.KeyNote)
	putT("nextAttemptAt", t.NextAttemptAt)
	putT("updatedAt", t.UpdatedAt)
	if t.UserIngest {
		m["userIngest"] = Bool(true)
	}
	if t.StableKey {
		m["stableKey"] = Bool(true)
	}
	if t.MadeForKids != nil {
		m["madeForKids"] = Bool(*t.MadeForKids)
	}
	if t.AutoStop {
		m["autoStop"] = Bool(true)
	}
	if t.Attempts > 0 {
		m["attempts"] = N(int64(t.Attempts))
	}
	if t.QuotaReserved > 0 {
		m["quotaReserved"] = N(t.QuotaReserved)
		putT("quotaReservedFor", t.QuotaReservedFor)
	}
	if len(t.Extra) > 0 {
		extra := Item{}
		for k, v := range t.Extra {
			extra[k] = S(v)
		}
		m["extra"] = &types.AttributeValueMemberM{Value: extra}
	}
	if t.LastError != nil {
		m["lastError"] = &types.AttributeValueMemberM{Value: Item{
			"code": S(t.LastError.Code), "message": S(t.LastError.Message), "at": T(t.LastError.At),
		}}
	}
	if u := t.PlatformUpdate; u != nil {
		pu := Item{"status": S(string(u.Status)), "at": T(u.At)}
		putU, _ := setIfPresent(pu)
		putU("code", u.Code)
		putU("message", u.Message)
		m["platformUpdate"] = &types.AttributeValueMemberM{Value: pu}
	}
	if len(t.Checks) > 0 {
		// checks: [{name, status, message, at}], the latest preflight's.
		checks := make([]types.AttributeValue, len(t.Checks))
		for i, c := range t.Checks {
			checks[i] = &types.AttributeValueMemberM{Value: Item{
				"name": S(c.Name), "status": S(string(c.Status)), "message": S(c.Message), "at": T(c.At),
			}}
		}
		m["checks"] = &types.AttributeValueMemberL{Value: checks}
	}
	return &types.AttributeValueMemberM{Value: m}
}

func liveFromItem(it Item) *livestream.Livestream {
	ls := &livestream.Livestream{
		Tenant: GetS(it, "tenant"), ID: GetS(it, "id"), Title: GetS(it, "title"), Description: GetS(it, "description"),
		ScheduledStart: GetT(it, "scheduledStart"), ScheduledEnd: GetT(it, "scheduledEnd"),
		Status:    livestream.Status(GetS(it, "status")),
		StartedAt: GetT(it, "startedAt"), EndedAt: GetT(it, "endedAt"),
		CreatedAt: GetT(it, "createdAt"), UpdatedAt: GetT(it, "updatedAt"), CreatedBy: GetS(it, "createdBy"),
		DueAt: GetT(it, "dueAt"), ClaimOwner: GetS(it, "claimOwner"), ClaimUntil: GetT(it, "claimUntil"),
		CheckedAt: GetT(it, "checkedAt"), SeriesID: GetS(it, "seriesId"),
		Version: GetN(it, AttrVersion),
	}
	if l, ok := it["targets"].(*types.AttributeValueMemberL); ok {
		for _, v := range l.Value {
			if m, ok := v.(*types.AttributeValueMemberM); ok {
				ls.Targets = append(ls.Targets, targetFromItem(m.Value))
			}
		}
	}
	for name := range it {
		p, ok := strings.CutPrefix(name, keyAttrPrefix)
		if !ok {
			continue
		}
		if env, _, ok := GetSealed(it, name); ok {
			if ls.SealedKeys == nil {
				ls.SealedKeys = map[platform.ID][]byte{}
			}
			ls.SealedKeys[platform.ID(p)] = env
		}
	}
	return ls
}

func targetFromItem(m Item) livestream.Target {
	t := livestream.Target{
		Platform: platform.ID(GetS(m, "platform")), Status: livestream.TargetStatus(GetS(m, "status")),
		Privacy: GetS(m, "privacy"), Destination: GetS(m, "destination"), ExternalID: GetS(m, "externalId"), WatchURL: GetS(m, "watchUrl"),
		IngestURL: GetS(m, "ingestUrl"), UserIngest: GetBool(m, "userIngest"), Step: livestream.Step(GetS(m, "step")),
		Attempts: int(GetN(m, "attempts")), NextAttemptAt: GetT(m, "nextAttemptAt"), UpdatedAt: GetT(m, "updatedAt"),
		AutoStop: GetBool(m, "autoStop"), StableKey: GetBool(m, "stableKey"),
		KeyNote: GetS(m, "keyNote"), QuotaReserved: GetN(m, "quotaReserved"), QuotaReservedFor: GetT(m, "quotaReservedFor"),
	}
	if v, ok := m["madeForKids"].(*types.AttributeValueMemberBOOL); ok {
		kids := v.Value
		t.MadeForKids = &kids
	}
	if e, ok := m["extra"].(*types.AttributeValueMemberM); ok {
		t.Extra = map[string]string{}
		for k := range e.Value {
			t.Extra[k] = GetS(e.Value, k)
		}
	}
	if e, ok := m["lastError"].(*types.AttributeValueMemberM); ok {
		t.LastError = &livestream.LastError{Code: GetS(e.Value, "code"), Message: GetS(e.Value, "message"), At: GetT(e.Value, "at")}
	}
	if u, ok := m["platformUpdate"].(*types.AttributeValueMemberM); ok {
		t.PlatformUpdate = &livestream.PlatformUpdate{Status: livestream.UpdateStatus(GetS(u.Value, "status")),
			Code: GetS(u.Value, "code"), Message: GetS(u.Value, "message"), At: GetT(u.Value, "at")}
	}
	if l, ok := m["checks"].(*types.AttributeValueMemberL); ok {
		for _, v := range l.Value {
			if c, ok := v.(*types.AttributeValueMemberM); ok {
				t.Checks = append(t.Checks, livestream.Check{Name: GetS(c.Value, "name"), Status: livestream.CheckStatus(GetS(c.Value, "status")),
					Message: GetS(c.Value, "message"), At: GetT(c.Value, "at")})
			}
		}
	}
	return t
}
