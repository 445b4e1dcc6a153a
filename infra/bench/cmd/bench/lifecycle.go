package main

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/switchboard-dev/switchboard/infra/bench/roundtrip"
	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/livestream"
)

// lifeStep is one step of a livestream's life, counted: its create, the
// scheduler run that starts it, the one that ends it.
type lifeStep struct {
	name   string
	calls  roundtrip.Calls
	answer string
	err    error
}

// measureLivestreamLife runs the sample livestream (events/
// livestreams-create.json: three targets) through its life in this
// process and counts each step: POST /livestreams (second create in the
// instance, data keys cached), then a stream-scheduler run that starts it
// (the encoders pushing, as at a real start) and one that ends it, each
// run by a scheduler instance that has done nothing before (its data-key
// cache empty, as in a scheduler instance that has not opened these
// connections yet).
func measureLivestreamLife(ctx context.Context, s *stack) []lifeStep {
	steps := []lifeStep{{name: "create (POST /livestreams)"}, {name: "start (stream-scheduler run)"}, {name: "end (stream-scheduler run)"}}
	fail := func(from int, err error) []lifeStep {
		for i := from; i < len(steps); i++ {
			steps[i].err = err
		}
		return steps
	}
	create := func() (string, error) {
		var made struct{ ID string }
		st, raw, err := s.call(ctx, "POST", "/livestreams", eventTenant, s.liveBody, &made)
		if err == nil && (st >= 300 || made.ID == "") {
			err = fmt.Errorf("POST /livestreams answered %d: %s", st, raw)
		}
		return made.ID, err
	}
	if _, err := create(); err != nil { // warms the livestreams function's data-key cache
		return fail(0, err)
	}
	s.w.counter.Take()
	id, err := create()
	steps[0].calls, steps[0].answer = s.w.counter.Take(), "201"
	if err != nil {
		return fail(0, err)
	}
	lives := s.store.Livestreams()
	for i, move := range []func(ls *livestream.Livestream, at time.Time){
		func(ls *livestream.Livestream, at time.Time) { ls.ScheduledStart, ls.DueAt = at, at },
		func(ls *livestream.Livestream, at time.Time) { ls.ScheduledEnd, ls.DueAt = at, at },
	} {
		step := &steps[i+1]
		ls, err := lives.Get(ctx, eventTenant, id)
		if err != nil {
			return fail(i+1, err)
		}
		now := time.Now()
		move(ls, now.Add(-time.Second))
		if err := lives.Save(ctx, ls, livestream.Guard{Version: ls.Version, Now: now}); err != nil {
			return fail(i+1, err)
		}
		s.w.sb.YouTube.PushAll()
		s.w.sb.Facebook.PushAll()
		s.w.sb.Restream.PushAll()
		run, err := app.Scheduled(ctx, app.StreamSched, s.opts)
		if err != nil {
			return fail(i+1, err)
		}
		s.w.counter.Take()
		rep, err := run(ctx, events.EventBridgeEvent{ID: "bench-life", DetailType: "Scheduled Event", Source: "aws.events", Time: now})
		step.calls = s.w.counter.Take()
		step.answer = fmt.Sprintf("found %d, done %d, failed %d", rep.Found, rep.Done, rep.Failed)
		if err == nil && (rep.Done != 1 || rep.Failed != 0) {
			err = fmt.Errorf("the run reported %s", step.answer)
		}
		if err != nil {
			return fail(i+1, err)
		}
	}
	return steps
}
