package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/meeting"
	"github.com/switchboard-dev/switchboard/internal/platform"
)

// Meetings are stored one item each:
//
//	pk TENANT#<tenant>  sk MEET#<id>  type meeting
//	  id, tenant, title, timeZone, startTime, durationMinutes, createdBy, createdAt, cancelledAt?, seriesId?
//	  revision?, changingUntil? a change's count, and the lease of the change being sent (TimeLayout, fixed width)
//	  platforms                 [<platform>, ...]   the targets' order
//	  targets                   {<platform>: {status, externalId?, joinUrl?, lastError?, note?, extra?, updatedAt, revision?}}
//	  hostLink_<platform>       sealed host link (meeting.LinkContext, role host)
//	  joinLink_<platform>       sealed join link, when it is a credential (role join)
//
// Meeting ids sort by creation time, so a reverse query of the MEET#
// prefix lists newest first. Each target is its own map entry, written by
// a conditional update on its status alone, so targets created at once
// never overwrite each other. The sealed links are top-level attributes so
// that the vault's re-wrap (Envelopes) finds them.
const meetPrefix = "MEET#"

// Meetings gives the meeting service its storage. platforms are those a
// meeting can have targets on: a list reads their join links (it shows
// them), and a projection must name every attribute it reads.
func (s *Store) Meetings(platforms ...platform.ID) meeting.Repo {
	return meetRepo{s: s, platforms: platforms}
}

type meetRepo struct {
	s         *Store
	platforms []platform.ID
}

func meetKey(tenant, id string) (string, string) { return TenantPK(tenant), meetPrefix + id }

func hostLinkAttr(p platform.ID) string { return "hostLink_" + string(p) }
func joinLinkAttr(p platform.ID) string { return "joinLink_" + string(p) }

func (r meetRepo) Create(ctx context.Context, m *meeting.Meeting) error {
	pk, sk := meetKey(m.Tenant, m.ID)
	platforms := make([]types.AttributeValue, len(m.Targets))
	targets := Item{}
	it := Item{
		AttrPK: S(pk), AttrSK: S(sk), "type": S("meeting"),
		"id": S(m.ID), "tenant": S(m.Tenant), "title": S(m.Title), "timeZone": S(m.TimeZone),
		"startTime": T(m.Start), "durationMinutes": N(int64(m.DurationMinutes())),
		"createdBy": S(m.CreatedBy), "createdAt": T(m.CreatedAt),
	}
	for i, t := range m.Targets {
		platforms[i] = S(string(t.Platform))
		targets[string(t.Platform)] = targetToAttr(t)
		putLinks(it, m, t)
	}
	it["platforms"] = &types.AttributeValueMemberL{Value: platforms}
	it["targets"] = &types.AttributeValueMemberM{Value: targets}
	if !m.CancelledAt.IsZero() {
		it["cancelledAt"] = T(m.CancelledAt)
	}
	if m.SeriesID != "" {
		it["seriesId"] = S(m.SeriesID)
	}
	if m.Revision > 0 {
		it["revision"] = N(int64(m.Revision))
	}
	if !m.ChangingUntil.IsZero() {
		it["changingUntil"] = T(m.ChangingUntil)
	}
	return r.s.Put(ctx, it, NotExists())
}

func putLinks(it Item, m *meeting.Meeting, t meeting.Target) {
	if len(t.SealedHost) > 0 {
		it[hostLinkAttr(t.Platform)] = Sealed(t.SealedHost, meeting.LinkContext(m.Tenant, t.Platform, m.ID, meeting.LinkHost))
	}
	if len(t.SealedJoin) > 0 {
		it[joinLinkAttr(t.Platform)] = Sealed(t.SealedJoin, meeting.LinkContext(m.Tenant, t.Platform, m.ID, meeting.LinkJoin))
	}
}

func (r meetRepo) Get(ctx context.Context, tenant, id string) (*meeting.Meeting, error) {
	pk, sk := meetKey(tenant, id)
	it, err := r.s.Get(ctx, pk, sk)
	if err != nil {
		return nil, err
	}
	return meetingFromItem(it), nil
}

// meetListAttrs are the attributes a list reads: all but the sealed host
// links, which no list shows (a list shows the join links, so it reads
// those sealed, of any platform: a projection names attributes, it cannot
// leave some out).
func (r meetRepo) meetListAttrs() []string {
	attrs := []string{"tenant", "id", "title", "timeZone", "startTime", "durationMinutes", "createdBy", "createdAt", "cancelledAt", "seriesId",
		"revision", "changingUntil", "platforms", "targets"}
	for _, p := range r.platforms {
		attrs = append(attrs, joinLinkAttr(p))
	}
	return attrs
}

// List pages through a tenant's meetings, newest first, without their
// sealed host links: SealedHost is empty in what it returns.
func (r meetRepo) List(ctx context.Context, tenant, cursor string, limit int) ([]*meeting.Meeting, string, error) {
	return queryPage(ctx, r.s, Query{PK: TenantPK(tenant), SKPrefix: meetPrefix, Limit: limit, Cursor: cursor, Reverse: true, Attrs: r.meetListAttrs()}, meetingFromItem)
}

func (r meetRepo) SetTarget(ctx context.Context, tenant, id string, t meeting.Target, from meeting.TargetStatus, whileOpen bool) error {
	pk, sk := meetKey(tenant, id)
	m := &meeting.Meeting{Tenant: tenant, ID: id}
	links := Item{}
	putLinks(links, m, t)
	expr := "SET #ts.#p = :t"
	names := map[string]string{"#ts": "targets", "#p": string(t.Platform), "#st": "status"}
	values := Item{":t": targetToAttr(t), ":from": S(string(from))}
	i := 0
	for name, v := range links {
		i++
		expr += fmt.Sprintf(", #l%d = :l%d", i, i)
		names[fmt.Sprintf("#l%d", i)], values[fmt.Sprintf(":l%d", i)] = name, v
	}
	cond := "#ts.#p.#st = :from"
	if whileOpen {
		cond += " AND attribute_not_exists(cancelledAt)"
	}
	_, err := r.s.Update(ctx, Update{PK: pk, SK: sk, Expr: expr, Cond: cond, Names: names, Values: values})
	if IsConditionFailed(err) {
		return fmt.Errorf("%w: meeting %s target %s: %w", meeting.ErrChanged, id, t.Platform, err)
	}
	return err
}

func (r meetRepo) Change(ctx context.Context, m *meeting.Meeting, now time.Time) error {
	pk, sk := meetKey(m.Tenant, m.ID)
	// Every attribute by placeholder: some names are DynamoDB reserved words.
	names := map[string]string{"#ti": "title", "#st": "startTime", "#du": "durationMinutes", "#tz": "timeZone", "#rv": "revision", "#cu": "changingUntil"}
	cond := "attribute_exists(pk) AND attribute_not_exists(cancelledAt) AND (attribute_not_exists(#cu) OR #cu <= :now)"
	values := Item{":title": S(m.Title), ":start": T(m.Start), ":dur": N(int64(m.DurationMinutes())), ":tz": S(m.TimeZone),
		":rev": N(int64(m.Revision)), ":prev": N(int64(m.Revision - 1)), ":until": T(m.ChangingUntil), ":now": T(now)}
	if m.Revision == 1 {
		cond += " AND (attribute_not_exists(#rv) OR #rv = :prev)"
	} else {
		cond += " AND #rv = :prev"
	}
	_, err := r.s.Update(ctx, Update{PK: pk, SK: sk,
		Expr: "SET #ti = :title, #st = :start, #du = :dur, #tz = :tz, #rv = :rev, #cu = :until",
		Cond: cond, Names: names, Values: values})
	if IsConditionFailed(err) {
		return fmt.Errorf("%w: meeting %s revision %d: %w", meeting.ErrChanged, m.ID, m.Revision, err)
	}
	return err
}

func (r meetRepo) EndChange(ctx context.Context, tenant, id string, rev int) error {
	pk, sk := meetKey(tenant, id)
	_, err := r.s.Update(ctx, Update{PK: pk, SK: sk, Expr: "REMOVE #cu", Cond: "#rv = :rev",
		Names: map[string]string{"#cu": "changingUntil", "#rv": "revision"}, Values: Item{":rev": N(int64(rev))}})
	if IsConditionFailed(err) {
		return nil // a later change holds the meeting now, or it is gone
	}
	return err
}

func (r meetRepo) Cancel(ctx context.Context, tenant, id string, at time.Time) (*meeting.Meeting, error) {
	pk, sk := meetKey(tenant, id)
	it, err := r.s.Update(ctx, Update{PK: pk, SK: sk,
		Expr: "SET cancelledAt = if_not_exists(cancelledAt, :at)", Cond: "attribute_exists(pk)",
		Values: Item{":at": T(at)}, ReturnNew: true})
	if IsConditionFailed(err) {
		return nil, apperr.Wrap(apperr.NotFound, apperr.CodeNotFound, "", ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	return meetingFromItem(it), nil
}

func targetToAttr(t meeting.Target) types.AttributeValue {
	m := Item{"status": S(string(t.Status)), "updatedAt": T(t.UpdatedAt)}
	putS, _ := setIfPresent(m)
	putS("externalId", t.ExternalID)
	if len(t.SealedJoin) == 0 {
		// A join link that is a credential is held only sealed, whatever
		// the caller left in JoinURL.
		putS("joinUrl", t.JoinURL)
	}
	putS("note", t.Note)
	if t.Revision > 0 {
		m["revision"] = N(int64(t.Revision))
	}
	if t.LastError != nil {
		m["lastError"] = &types.AttributeValueMemberM{Value: Item{
			"code": S(t.LastError.Code), "message": S(t.LastError.Message), "at": T(t.LastError.At),
		}}
	}
	if len(t.Extra) > 0 {
		extra := Item{}
		for k, v := range t.Extra {
			extra[k] = S(v)
		}
		m["extra"] = &types.AttributeValueMemberM{Value: extra}
	}
	return &types.AttributeValueMemberM{Value: m}
}

func meetingFromItem(it Item) *meeting.Meeting {
	m := &meeting.Meeting{
		Tenant: GetS(it, "tenant"), ID: GetS(it, "id"), Title: GetS(it, "title"), TimeZone: GetS(it, "timeZone"),
		Start: GetT(it, "startTime"), Duration: time.Duration(GetN(it, "durationMinutes")) * time.Minute,
		CreatedBy: GetS(it, "createdBy"), CreatedAt: GetT(it, "createdAt"), CancelledAt: GetT(it, "cancelledAt"), SeriesID: GetS(it, "seriesId"),
		Revision: int(GetN(it, "revision")), ChangingUntil: GetT(it, "changingUntil"),
	}
	targets, _ := it["targets"].(*types.AttributeValueMemberM)
	order, _ := it["platforms"].(*types.AttributeValueMemberL)
	if targets == nil || order == nil {
		return m
	}
	for _, v := range order.Value {
		s, ok := v.(*types.AttributeValueMemberS)
		if !ok {
			continue
		}
		p := platform.ID(s.Value)
		tm, ok := targets.Value[s.Value].(*types.AttributeValueMemberM)
		if !ok {
			continue
		}
		t := meeting.Target{
			Platform: p, Status: meeting.TargetStatus(GetS(tm.Value, "status")), ExternalID: GetS(tm.Value, "externalId"),
			JoinURL: GetS(tm.Value, "joinUrl"), Note: GetS(tm.Value, "note"), UpdatedAt: GetT(tm.Value, "updatedAt"),
			Revision: int(GetN(tm.Value, "revision")),
		}
		if le, ok := tm.Value["lastError"].(*types.AttributeValueMemberM); ok {
			t.LastError = &meeting.LastError{Code: GetS(le.Value, "code"), Message: GetS(le.Value, "message"), At: GetT(le.Value, "at")}
		}
		if ex, ok := tm.Value["extra"].(*types.AttributeValueMemberM); ok {
			t.Extra = map[string]string{}
			for k := range ex.Value {
				t.Extra[k] = GetS(ex.Value, k)
			}
		}
		if env, _, ok := GetSealed(it, hostLinkAttr(p)); ok {
			t.SealedHost = env
		}
		if env, _, ok := GetSealed(it, joinLinkAttr(p)); ok {
			t.SealedJoin = env
		}
		m.Targets = append(m.Targets, t)
	}
	return m
}
