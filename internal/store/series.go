package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/switchboard-dev/switchboard/internal/livestream"
	"github.com/switchboard-dev/switchboard/internal/meeting"
	"github.com/switchboard-dev/switchboard/internal/series"
)

// A recurring series is stored as
//
//	pk TENANT#<tenant>  sk SERIES#<id>  type series                (a recurring livestream)
//	pk TENANT#<tenant>  sk MEETSERIES#<id>  type meeting_series    (a recurring meeting)
//	gsi1pk DUE#SERIES or DUE#MEETSERIES  gsi1sk <minute due>#<tenant>#<id>   (only while occurrences are to be made)
//
// with its template (title, description, targets: nothing secret) as JSON,
// its skipped occurrence starts as a list of times, the definitions a
// change replaced (earlier) as JSON and the occurrences still to withdraw
// as a set of livestream ids, and why the next occurrence could not be
// made (failure, JSON; only while it could not).
const (
	liveSeriesPrefix = "SERIES#"
	meetSeriesPrefix = "MEETSERIES#"
)

// Series gives the livestream service its recurring series.
func (s *Store) Series() livestream.SeriesRepo {
	return seriesRepo[livestream.CreateInput]{s: s, prefix: liveSeriesPrefix, duePK: "DUE#SERIES", kind: "series"}
}

// MeetingSeries gives the meeting service its recurring series.
func (s *Store) MeetingSeries() series.Repo[meeting.CreateInput] {
	return seriesRepo[meeting.CreateInput]{s: s, prefix: meetSeriesPrefix, duePK: "DUE#MEETSERIES", kind: "meeting_series"}
}

// seriesOrNil is a series item read from a stream image, nil when it
// cannot be read (an event deriver then sees no series).
func seriesOrNil[Tmpl any](it Item) *series.Series[Tmpl] {
	sr, err := seriesFromItem[Tmpl](it)
	if err != nil {
		return nil
	}
	return sr
}

// seriesRepo keeps one capability's series: their sort-key prefix, due
// partition and item type.
type seriesRepo[Tmpl any] struct {
	s                   *Store
	prefix, duePK, kind string
}

func (r seriesRepo[Tmpl]) key(tenant, id string) (string, string) {
	return TenantPK(tenant), r.prefix + Esc(id)
}

func (r seriesRepo[Tmpl]) CreateSeries(ctx context.Context, sr *series.Series[Tmpl]) error {
	it, err := r.toItem(sr, 1)
	if err != nil {
		return err
	}
	if err := r.s.Put(ctx, it, NotExists()); err != nil {
		return err
	}
	sr.Version = 1
	return nil
}

func (r seriesRepo[Tmpl]) GetSeries(ctx context.Context, tenant, id string) (*series.Series[Tmpl], error) {
	pk, sk := r.key(tenant, id)
	it, err := r.s.Get(ctx, pk, sk)
	if err != nil {
		return nil, err
	}
	return seriesFromItem[Tmpl](it)
}

func (r seriesRepo[Tmpl]) SaveSeries(ctx context.Context, sr *series.Series[Tmpl]) error {
	it, err := r.toItem(sr, sr.Version+1)
	if err != nil {
		return err
	}
	cond := &Cond{Expr: "#ver = :ver", Names: map[string]string{"#ver": AttrVersion}, Values: Item{":ver": N(sr.Version)}}
	if err := r.s.Put(ctx, it, cond); err != nil {
		return err
	}
	sr.Version++
	return nil
}

func (r seriesRepo[Tmpl]) DueSeries(ctx context.Context, at time.Time, cursor string, limit int) ([]series.Ref, string, error) {
	maxKey := livestream.Minute(at).Format(minuteLayout) + "$"
	// Only who is due: the run reads each series whole with GetSeries.
	return queryPage(ctx, r.s, Query{Index: IndexGSI1, PK: r.duePK, SKMax: maxKey, Limit: limit, Cursor: cursor,
		Attrs: []string{"tenant", "id"}}, func(it Item) series.Ref {
		return series.Ref{Tenant: GetS(it, "tenant"), ID: GetS(it, "id")}
	})
}

func (r seriesRepo[Tmpl]) toItem(sr *series.Series[Tmpl], version int64) (Item, error) {
	tmpl, err := json.Marshal(sr.Template)
	if err != nil {
		return nil, err
	}
	pk, sk := r.key(sr.Tenant, sr.ID)
	it := Item{
		AttrPK: S(pk), AttrSK: S(sk), "type": S(r.kind), "tenant": S(sr.Tenant), "id": S(sr.ID),
		"rule": S(sr.Rule), "timeZone": S(sr.TimeZone), "firstStart": T(sr.FirstStart), "durationSeconds": N(int64(sr.Duration / time.Second)),
		"template": S(string(tmpl)), "status": S(string(sr.Status)), "createdAt": T(sr.CreatedAt), "updatedAt": T(sr.UpdatedAt),
		AttrVersion: N(version),
	}
	putS, putT := setIfPresent(it)
	putS("createdBy", sr.CreatedBy)
	putT("from", sr.From)
	if sr.Revision > 0 {
		it["revision"] = N(int64(sr.Revision))
	}
	if len(sr.Earlier) > 0 {
		earlier, err := json.Marshal(sr.Earlier)
		if err != nil {
			return nil, err
		}
		it["earlier"] = S(string(earlier))
	}
	if len(sr.Withdraw) > 0 {
		it["withdraw"] = &types.AttributeValueMemberSS{Value: sr.Withdraw}
	}
	if sr.Failure != nil {
		f, err := json.Marshal(sr.Failure)
		if err != nil {
			return nil, err
		}
		it["failure"] = S(string(f))
	}
	putT("until", sr.Until)
	putT("dueAt", sr.DueAt)
	putT("endedAt", sr.EndedAt)
	if len(sr.Skipped) > 0 {
		skipped := make([]string, len(sr.Skipped))
		for i, t := range sr.Skipped {
			skipped[i] = t.UTC().Format(time.RFC3339)
		}
		it["skipped"] = &types.AttributeValueMemberSS{Value: skipped}
	}
	if !sr.DueAt.IsZero() {
		it[AttrGSI1PK] = S(r.duePK)
		it[AttrGSI1SK] = S(dueLiveKey(sr.DueAt, sr.Tenant, sr.ID))
	}
	return it, nil
}

func seriesFromItem[Tmpl any](it Item) (*series.Series[Tmpl], error) {
	sr := &series.Series[Tmpl]{
		Tenant: GetS(it, "tenant"), ID: GetS(it, "id"), Definition: series.Definition[Tmpl]{
			From: GetT(it, "from"), Revision: int(GetN(it, "revision")), Rule: GetS(it, "rule"), TimeZone: GetS(it, "timeZone"),
			FirstStart: GetT(it, "firstStart"), Duration: time.Duration(GetN(it, "durationSeconds")) * time.Second,
		},
		Status: series.Status(GetS(it, "status")), Until: GetT(it, "until"), DueAt: GetT(it, "dueAt"),
		CreatedAt: GetT(it, "createdAt"), UpdatedAt: GetT(it, "updatedAt"), CreatedBy: GetS(it, "createdBy"),
		EndedAt: GetT(it, "endedAt"), Version: GetN(it, AttrVersion),
	}
	if err := json.Unmarshal([]byte(GetS(it, "template")), &sr.Template); err != nil {
		return nil, err
	}
	if earlier := GetS(it, "earlier"); earlier != "" {
		if err := json.Unmarshal([]byte(earlier), &sr.Earlier); err != nil {
			return nil, err
		}
	}
	if f := GetS(it, "failure"); f != "" {
		if err := json.Unmarshal([]byte(f), &sr.Failure); err != nil {
			return nil, err
		}
	}
	if ss, ok := it["withdraw"].(*types.AttributeValueMemberSS); ok {
		sr.Withdraw = ss.Value
	}
	if ss, ok := it["skipped"].(*types.AttributeValueMemberSS); ok {
		for _, s := range ss.Value {
			if t, err := time.Parse(time.RFC3339, s); err == nil {
				sr.Skipped = append(sr.Skipped, t)
			}
		}
	}
	return sr, nil
}
