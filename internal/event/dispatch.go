package event

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
	"github.com/switchboard-dev/switchboard/internal/run"
	"github.com/switchboard-dev/switchboard/internal/vault"
)

// DeliveryStatus is where a delivery stands.
type DeliveryStatus string

const (
	DeliveryPending   DeliveryStatus = "pending"   // not delivered yet; NextAttemptAt says when it is tried
	DeliverySucceeded DeliveryStatus = "succeeded" // the endpoint answered 2xx
	DeliveryFailed    DeliveryStatus = "failed"    // refused for good, retries used up, or the endpoint gone
)

// Delivery is one event on its way to one endpoint.
type Delivery struct {
	Tenant     string
	EndpointID string
	EventID    string
	EventType  Type
	EventKey   string // the event's feed order, which orders an endpoint's deliveries too
	Payload    []byte // the event as JSON, exactly as the feed shows it
	Status     DeliveryStatus
	Attempts   int
	// LastStatus is the last answer's HTTP status (0: none, e.g. a
	// timeout); LastError says why the last attempt failed.
	LastStatus    int
	LastError     string
	LastAttemptAt time.Time
	NextAttemptAt time.Time // zero unless pending
	CreatedAt     time.Time
}

// DeliveryRef names a delivery the due index listed.
type DeliveryRef struct {
	Tenant, EndpointID, EventKey string
}

// Repo is the events' storage (internal/store implements it).
type Repo interface {
	// Record writes an event to the feed (kept FeedRetention) and its
	// deliveries, all at once and only if the event is not there yet:
	// created is false when it was (a stream record delivered again).
	Record(ctx context.Context, e Event, payload []byte, deliveries []*Delivery) (created bool, err error)
	Feed(ctx context.Context, tenant string, types []Type, after string, limit int, now time.Time) ([]Event, string, error)

	CreateEndpoint(ctx context.Context, e *Endpoint) error
	Endpoint(ctx context.Context, tenant, id string) (*Endpoint, error)
	Endpoints(ctx context.Context, tenant string) ([]*Endpoint, error)
	DeleteEndpoint(ctx context.Context, tenant, id string) error
	// SaveEndpoint writes e when its stored version is e.Version.
	SaveEndpoint(ctx context.Context, e *Endpoint) error
	// SetFailing records when an endpoint began failing (zero: it works),
	// only while it is active.
	SetFailing(ctx context.Context, tenant, id string, since time.Time) error
	// Disable disables an active endpoint.
	Disable(ctx context.Context, tenant, id, reason string, at time.Time) error

	Delivery(ctx context.Context, ref DeliveryRef) (*Delivery, error)
	Deliveries(ctx context.Context, tenant, endpointID, cursor string, limit int) ([]*Delivery, string, error)
	DueDeliveries(ctx context.Context, before time.Time, cursor string, limit int) ([]DeliveryRef, string, error)
	// SaveAttempt writes d's attempt fields when its stored attempt count
	// is prevAttempts and it is still pending (another run did not get there).
	SaveAttempt(ctx context.Context, d *Delivery, prevAttempts int) error
	// Claim moves a due delivery's next attempt to until, when it is still
	// as read, so that one run tries it.
	Claim(ctx context.Context, d *Delivery, until time.Time) error
}

// Dispatcher turns committed changes into events and delivers them.
type Dispatcher struct {
	repo        Repo
	lookup      Lookup
	vault       vault.Sealer
	sender      *Sender
	now         func() time.Time
	jitter      func() float64
	log         *slog.Logger
	concurrency int
	// endpoints guards the endpoint records an invocation's concurrent
	// attempts share: their status and failing-since time.
	endpoints sync.Mutex
}

// DispatcherConfig is what a Dispatcher is built from.
type DispatcherConfig struct {
	Repo        Repo
	Lookup      Lookup
	Vault       vault.Sealer
	Sender      *Sender
	Now         func() time.Time // time.Now when nil
	Jitter      func() float64   // in [0,1); math/rand when nil
	Logger      *slog.Logger
	Concurrency int // deliveries attempted at once; 16 when zero
}

// NewDispatcher builds a Dispatcher.
func NewDispatcher(c DispatcherConfig) *Dispatcher {
	d := &Dispatcher{repo: c.Repo, lookup: c.Lookup, vault: c.Vault, sender: c.Sender, now: c.Now, jitter: c.Jitter,
		log: c.Logger, concurrency: c.Concurrency}
	if d.now == nil {
		d.now = time.Now
	}
	if d.jitter == nil {
		d.jitter = randJitter
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	if d.concurrency <= 0 {
		d.concurrency = 16
	}
	return d
}

// Stats are what one call did, for the logs (alarm on failed and
// storeFailed) and the benchmark.
type Stats struct {
	Changes, Events, Duplicates, Deliveries, Delivered, Retrying, Failed int
	Deferred                                                             int // not tried in this call's budget: left due
}

// Dispatch records the events of changes, then tries each new delivery
// once, at once. A tenant's changes are recorded one after another, in
// order (a feed reader's cursor must never pass an event not yet written);
// different tenants' at the same time. It returns the index of the first
// change whose events could not be recorded (-1: all were), so that the
// stream delivers it, and what follows it, again; a delivery's failure is
// never such an error: the due index retries it.
func (d *Dispatcher) Dispatch(ctx context.Context, changes []Change) (int, Stats, error) {
	st := Stats{Changes: len(changes)}
	byTenant := map[string][]int{}
	var tenants []string
	for i, c := range changes {
		if _, ok := byTenant[c.Tenant]; !ok {
			tenants = append(tenants, c.Tenant)
		}
		byTenant[c.Tenant] = append(byTenant[c.Tenant], i)
	}
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		sem      = make(chan struct{}, d.concurrency)
		fresh    []*Delivery
		byID     = map[string]*Endpoint{}
		failedAt = -1
		firstErr error
	)
	for _, tenant := range tenants {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			var local Stats
			var mine []*Delivery
			// The tenant's endpoints are read when a change first yields an
			// event: most changes (progress writes, claims) yield none.
			var eps []*Endpoint
			loaded := false
			endpoints := func() ([]*Endpoint, error) {
				if !loaded {
					got, err := d.repo.Endpoints(ctx, tenant)
					if err != nil {
						return nil, err
					}
					eps, loaded = got, true
				}
				return eps, nil
			}
			failed := -1
			var err error
			for _, i := range byTenant[tenant] {
				n, dels, rerr := d.record(ctx, changes[i], endpoints, &local)
				mine = append(mine, dels...)
				local.Events += n
				if rerr != nil {
					failed, err = i, rerr
					break
				}
			}
			mu.Lock()
			defer mu.Unlock()
			st.Events += local.Events
			st.Duplicates += local.Duplicates
			st.Deliveries += local.Deliveries
			fresh = append(fresh, mine...)
			for _, e := range eps {
				byID[e.Tenant+"\x00"+e.ID] = e
			}
			if failed >= 0 && (failedAt < 0 || failed < failedAt) {
				failedAt, firstErr = failed, err
			}
		})
	}
	wg.Wait()
	d.attemptAll(ctx, fresh, func(del *Delivery) *Endpoint { return byID[del.Tenant+"\x00"+del.EndpointID] }, &st)
	d.log.Info("events dispatched", slog.Int("changes", st.Changes), slog.Int("events", st.Events),
		slog.Int("duplicates", st.Duplicates), slog.Int("deliveries", st.Deliveries), slog.Int("delivered", st.Delivered),
		slog.Int("retrying", st.Retrying), slog.Int("failed", st.Failed), slog.Int("deferred", st.Deferred), slog.Bool("store_failed", firstErr != nil))
	if firstErr != nil {
		d.log.Error("events could not be recorded; the stream delivers the records again", slog.Int("from", failedAt), slog.String("error", firstErr.Error()))
	}
	return failedAt, st, firstErr
}

// record writes one change's events and their deliveries to the
// tenant's endpoints (read by endpoints, once an event needs them); it
// answers the deliveries it made (none for an event recorded before).
func (d *Dispatcher) record(ctx context.Context, c Change, endpoints func() ([]*Endpoint, error), st *Stats) (int, []*Delivery, error) {
	evs, err := Derive(ctx, c, d.lookup)
	if err != nil || len(evs) == 0 {
		return 0, nil, err
	}
	eps, err := endpoints()
	if err != nil {
		return 0, nil, err
	}
	var fresh []*Delivery
	for i, e := range evs {
		payload, err := json.Marshal(e)
		if err != nil {
			return i, fresh, fmt.Errorf("event: encoding %s: %w", e.Type, err)
		}
		var dels []*Delivery
		for _, ep := range eps {
			if ep.Wants(e.Type) {
				dels = append(dels, &Delivery{Tenant: e.Tenant, EndpointID: ep.ID, EventID: e.ID, EventType: e.Type, EventKey: e.Key,
					Payload: payload, Status: DeliveryPending, NextAttemptAt: d.now().UTC().Add(claimFor), CreatedAt: d.now().UTC()})
			}
		}
		created, err := d.repo.Record(ctx, e, payload, dels)
		if err != nil {
			return i, fresh, err
		}
		if !created {
			st.Duplicates++
			continue
		}
		st.Deliveries += len(dels)
		fresh = append(fresh, dels...)
	}
	return len(evs), fresh, nil
}

// attemptBudget is how long an invocation starts attempts for: what is
// not started by then stays pending and due, for the next retry run, so a
// batch of slow endpoints cannot outlast the function's timeout.
const attemptBudget = 30 * time.Second

// attemptAll tries each delivery once, d.concurrency at a time, starting
// attempts for attemptBudget at most.
func (d *Dispatcher) attemptAll(ctx context.Context, dels []*Delivery, endpoint func(*Delivery) *Endpoint, st *Stats) {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		sem      = make(chan struct{}, d.concurrency)
		deadline = time.Now().Add(attemptBudget)
	)
	for _, del := range dels {
		sem <- struct{}{}
		if time.Now().After(deadline) || ctx.Err() != nil {
			<-sem
			st.Deferred++
			continue
		}
		wg.Go(func() {
			defer func() { <-sem }()
			res := d.attempt(ctx, del, endpoint(del))
			mu.Lock()
			defer mu.Unlock()
			switch res {
			case DeliverySucceeded:
				st.Delivered++
			case DeliveryPending:
				st.Retrying++
			default:
				st.Failed++
			}
		})
	}
	wg.Wait()
}

// attempt makes one attempt of del at ep (nil: deleted) and records it.
func (d *Dispatcher) attempt(ctx context.Context, del *Delivery, ep *Endpoint) DeliveryStatus {
	prev := del.Attempts
	now := d.now().UTC()
	d.endpoints.Lock()
	active := ep != nil && ep.Status == EndpointActive
	d.endpoints.Unlock()
	var o Outcome
	ours := false // the attempt failed on our side: not the endpoint's attempt
	switch {
	case ep == nil:
		o = Outcome{Error: "the endpoint was deleted"}
	case !active:
		o = Outcome{Error: "the endpoint is disabled"}
	default:
		secrets, err := d.secrets(ctx, ep, now)
		if err != nil {
			d.log.Error("webhook secret could not be opened; the delivery is tried again", slog.String("webhook", ep.ID), slog.String("error", err.Error()))
			o, ours = Outcome{Retry: true, Error: "not sent: our signing secret could not be opened; tried again shortly"}, true
			break
		}
		o = d.sender.Send(ctx, ep.URL, del.EventID, now, del.Payload, secrets)
		del.Attempts++
		del.LastAttemptAt, del.LastStatus = now, o.Status
	}
	del.LastError = o.Error
	switch wait, again := nextDelay(del.Attempts, o.RetryAfter, d.jitter); {
	case ours:
		// Nothing was sent: the endpoint's retries and health are untouched.
		del.Status, del.NextAttemptAt = DeliveryPending, now.Add(claimFor)
	case o.OK:
		del.Status, del.NextAttemptAt, del.LastError = DeliverySucceeded, time.Time{}, ""
	case o.Retry && again:
		del.Status, del.NextAttemptAt = DeliveryPending, now.Add(wait)
	default:
		del.Status, del.NextAttemptAt = DeliveryFailed, time.Time{}
	}
	if err := d.repo.SaveAttempt(ctx, del, prev); err != nil && !errors.Is(err, apperr.ErrConditionFailed) {
		d.log.Error("delivery attempt could not be recorded", slog.String("webhook", del.EndpointID), slog.String("event", del.EventID), slog.String("error", err.Error()))
	}
	if active && del.Attempts > prev {
		d.health(ctx, ep, o.OK, now)
	}
	d.log.Info("webhook delivery", slog.String("webhook", del.EndpointID), slog.String("event", del.EventID),
		slog.String("type", string(del.EventType)), slog.Int("attempt", del.Attempts), slog.Int("status", o.Status),
		slog.String("outcome", string(del.Status)), slog.String("error", o.Error))
	return del.Status
}

// health keeps an endpoint's failing-since time, and disables an endpoint
// that has failed for DisableAfter (the write's stream record becomes the
// webhook.endpoint_disabled event).
func (d *Dispatcher) health(ctx context.Context, ep *Endpoint, ok bool, now time.Time) {
	d.endpoints.Lock()
	defer d.endpoints.Unlock()
	var err error
	switch {
	case ok && !ep.FailingSince.IsZero():
		err = d.repo.SetFailing(ctx, ep.Tenant, ep.ID, time.Time{})
		ep.FailingSince = time.Time{}
	case !ok && ep.FailingSince.IsZero():
		err = d.repo.SetFailing(ctx, ep.Tenant, ep.ID, now)
		ep.FailingSince = now
	case !ok && now.Sub(ep.FailingSince) >= DisableAfter:
		err = d.repo.Disable(ctx, ep.Tenant, ep.ID, "every delivery failed since "+ep.FailingSince.Format(time.RFC3339), now)
		ep.Status = EndpointDisabled
		d.log.Warn("webhook endpoint disabled", slog.String("webhook", ep.ID), slog.Time("failing_since", ep.FailingSince))
	}
	if err != nil && !errors.Is(err, apperr.ErrConditionFailed) {
		d.log.Error("webhook endpoint health could not be recorded", slog.String("webhook", ep.ID), slog.String("error", err.Error()))
	}
}

// secrets opens the endpoint's signing secrets: the current one, and the
// previous one while its overlap lasts.
func (d *Dispatcher) secrets(ctx context.Context, ep *Endpoint, now time.Time) ([]string, error) {
	ec := SecretContext(ep.Tenant, ep.ID)
	cur, err := d.vault.Open(ctx, ep.SealedSecret, ec)
	if err != nil {
		return nil, err
	}
	out := []string{string(cur)}
	if len(ep.SealedPrevious) > 0 && now.Before(ep.PreviousUntil) {
		prev, err := d.vault.Open(ctx, ep.SealedPrevious, ec)
		if err != nil {
			return nil, err
		}
		out = append(out, string(prev))
	}
	return out, nil
}

// claimFor is how long a run holds a due delivery it is trying.
const claimFor = 2 * time.Minute

// RetryDue tries every delivery due by at (the schedule's tick) again,
// once: the scheduled half of delivery.
func (d *Dispatcher) RetryDue(ctx context.Context, at time.Time) (run.Report, error) {
	var rep run.Report
	now := at.UTC()
	endpoints := map[string]*Endpoint{}
	var due []*Delivery
	cursor := ""
	for {
		refs, next, err := d.repo.DueDeliveries(ctx, now, cursor, 100)
		if err != nil {
			return rep, err
		}
		for _, ref := range refs {
			rep.Found++
			del, err := d.repo.Delivery(ctx, ref)
			if err == nil && (del.Status != DeliveryPending || del.NextAttemptAt.After(now)) {
				rep.Unchanged++
				continue
			}
			if err == nil {
				err = d.repo.Claim(ctx, del, now.Add(claimFor))
			}
			if errors.Is(err, apperr.ErrConditionFailed) {
				rep.Unchanged++
				continue
			}
			if err != nil {
				rep.Failed++
				d.log.Error("due delivery could not be read", slog.String("webhook", ref.EndpointID), slog.String("error", err.Error()))
				continue
			}
			key := ref.Tenant + "\x00" + ref.EndpointID
			if _, ok := endpoints[key]; !ok {
				ep, err := d.repo.Endpoint(ctx, ref.Tenant, ref.EndpointID)
				if err != nil && !apperr.Is(err, apperr.NotFound) {
					rep.Failed++ // claimed: tried again when the claim lapses
					d.log.Error("due delivery's endpoint could not be read", slog.String("webhook", ref.EndpointID), slog.String("error", err.Error()))
					continue
				}
				endpoints[key] = ep
			}
			due = append(due, del)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	var st Stats
	d.attemptAll(ctx, due, func(del *Delivery) *Endpoint { return endpoints[del.Tenant+"\x00"+del.EndpointID] }, &st)
	rep.Done += st.Delivered + st.Retrying + st.Failed
	d.log.Info("webhook retries", slog.Int("found", rep.Found), slog.Int("delivered", st.Delivered),
		slog.Int("retrying", st.Retrying), slog.Int("failed", st.Failed))
	return rep, nil
}
