package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/switchboard-dev/switchboard/infra/eventfile"
	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/livestream"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/registry"
)

// eventTenant is the tenant the sample events of events/ act for.
const eventTenant = "tenant-grace-church"

// prepareBoot readies the world for one cold start of a function and
// returns the event it is started with (event, or one made for this start).
type prepareBoot func(ctx context.Context, event []byte) ([]byte, error)

// eventBodies are the sample events whose bodies name the platforms the
// events use: a livestream's and a meeting's targets, a deployment's platform.
var eventBodies = []string{"livestreams-create.json", "meetings-create.json", "deployments-create.json"}

// seedFirstEvents connects the sample events' tenant to every platform the
// events name that takes an OAuth connection, so that each function's
// first event does its real work (creates at the platforms, not a refusal
// for want of a connection), and returns what must be done before each
// start of a function whose work one start uses up: a connection made due
// for token-refresher, a livestream (the sample's) made due for
// stream-scheduler.
func seedFirstEvents(ctx context.Context, s *stack, eventsDir string) (map[string]prepareBoot, error) {
	var oauth []string
	var liveBody, deployBody map[string]any
	for _, name := range eventBodies {
		raw, err := eventfile.Read(filepath.Join(eventsDir, name), time.Now())
		if err != nil {
			return nil, err
		}
		var ev struct{ Body string }
		var body struct {
			Platform string
			Targets  []struct{ Platform string }
		}
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if err := json.Unmarshal([]byte(ev.Body), &body); err != nil {
			return nil, fmt.Errorf("%s's body: %w", name, err)
		}
		switch name {
		case "livestreams-create.json":
			_ = json.Unmarshal([]byte(ev.Body), &liveBody)
		case "deployments-create.json":
			_ = json.Unmarshal([]byte(ev.Body), &deployBody)
		}
		ids := []string{body.Platform}
		for _, t := range body.Targets {
			ids = append(ids, t.Platform)
		}
		for _, id := range ids {
			if d, ok := registry.Lookup(id); ok && d.Accepts(platform.AuthOAuth2) && !slices.Contains(oauth, id) {
				oauth = append(oauth, id)
			}
		}
	}
	if len(oauth) == 0 || liveBody == nil || deployBody == nil {
		return nil, fmt.Errorf("the sample events name no OAuth platform, or no livestream or deployment")
	}
	for _, id := range oauth {
		if err := s.connect(ctx, eventTenant, id); err != nil {
			return nil, fmt.Errorf("connecting %s for %s: %w", id, eventTenant, err)
		}
	}
	s.eventOAuth, s.liveBody = oauth, liveBody
	conns := s.store.Connections()
	lives := s.store.Livestreams()
	deploys := 0
	return map[string]prepareBoot{
		app.TokenRefresher: func(ctx context.Context, event []byte) ([]byte, error) {
			c, err := conns.Get(ctx, eventTenant, platform.ID(oauth[0]))
			if err != nil {
				return nil, err
			}
			c.NextCheckAt = time.Now().Add(-time.Second)
			return event, conns.Save(ctx, c, "")
		},
		app.StreamSched: func(ctx context.Context, event []byte) ([]byte, error) {
			var made struct{ ID string }
			st, raw, err := s.call(ctx, "POST", "/livestreams", eventTenant, liveBody, &made)
			if err != nil {
				return nil, err
			}
			if st >= 300 || made.ID == "" {
				return nil, fmt.Errorf("POST /livestreams answered %d: %s", st, raw)
			}
			ls, err := lives.Get(ctx, eventTenant, made.ID)
			if err != nil {
				return nil, err
			}
			// Due now: the scheduler's run starts it at its platforms, whose
			// encoders push, as at a real start.
			s.w.sb.YouTube.PushAll()
			s.w.sb.Facebook.PushAll()
			s.w.sb.Restream.PushAll()
			now := time.Now()
			ls.ScheduledStart, ls.DueAt = now.Add(-time.Second), now.Add(-time.Second)
			return event, lives.Save(ctx, ls, livestream.Guard{Version: ls.Version, Now: now})
		},
		app.DeployWorker: func(ctx context.Context, event []byte) ([]byte, error) {
			// A deployment accepted by the API, and the sample stream record
			// naming it instead of the sample's id: the worker runs it to its end.
			// Each by its own user: a user may deploy 10 times an hour.
			var made struct{ ID string }
			deploys++
			st, raw, err := s.callAs(ctx, "POST", "/deployments", eventTenant, fmt.Sprintf("bench-deployer-%d", deploys), deployBody, &made)
			if err != nil {
				return nil, err
			}
			if st >= 300 || made.ID == "" {
				return nil, fmt.Errorf("POST /deployments answered %d: %s", st, raw)
			}
			return bytes.ReplaceAll(event, []byte(sampleDeploymentID), []byte(made.ID)), nil
		},
	}, nil
}

// sampleDeploymentID is the deployment events/deploy-worker.json names.
const sampleDeploymentID = "dpl_01JD6Y3K2V7R8S9T0A1B2C3D4E"

// retargetHTTPEvent makes an API Gateway HTTP API event for another route
// (method and path) out of a sample event, keeping its caller.
func retargetHTTPEvent(event []byte, method, path string) ([]byte, error) {
	var ev map[string]any
	if err := json.Unmarshal(event, &ev); err != nil {
		return nil, err
	}
	route := method + " " + path
	ev["routeKey"], ev["rawPath"], ev["rawQueryString"] = route, path, ""
	delete(ev, "body")
	rc, _ := ev["requestContext"].(map[string]any)
	if rc == nil {
		return nil, fmt.Errorf("the event has no requestContext")
	}
	rc["routeKey"] = route
	if h, ok := rc["http"].(map[string]any); ok {
		h["method"], h["path"] = method, path
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	err := enc.Encode(ev)
	return bytes.TrimSpace(out.Bytes()), err
}
