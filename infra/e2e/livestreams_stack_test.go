package e2e_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/switchboard-dev/switchboard/infra/gateway"
	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/connection"
	"github.com/switchboard-dev/switchboard/internal/dynamotest"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/facebook/facebookfake"
	"github.com/switchboard-dev/switchboard/internal/platform/youtube/youtubefake"
	"github.com/switchboard-dev/switchboard/internal/servicetest"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/vault"
)

func (s *stack) liveGetenv(k string) string {
	if v, ok := s.env[k]; ok {
		return v
	}
	return os.Getenv(k)
}

// liveScheduler is stream-scheduler built from the same app wiring as the
// stack's functions (another instance, as another Lambda would be), with
// its logs kept. run drives it with the EventBridge event of a tick at at:
// the controllable clock of these tests.
type liveScheduler struct {
	t    *testing.T
	run  app.ScheduledHandler
	logs *servicetest.Logs
}

func (s *stack) newLiveScheduler() *liveScheduler {
	s.t.Helper()
	logs := &servicetest.Logs{}
	run, err := app.Scheduled(context.Background(), app.StreamSched, app.Options{Getenv: s.liveGetenv, Log: logs})
	if err != nil {
		s.t.Fatalf("building stream-scheduler: %v", err)
	}
	return &liveScheduler{t: s.t, run: run, logs: logs}
}

func (sc *liveScheduler) tick(at time.Time) app.RunReport {
	sc.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // the function's timeout
	defer cancel()
	rep, err := sc.run(ctx, gateway.ScheduledEvent(app.StreamSched, gateway.DefaultRegion, gateway.DefaultAccountID, at))
	if err != nil {
		sc.t.Fatalf("stream-scheduler at %s: %v", at.Format(time.RFC3339), err)
	}
	return rep
}

// livestreamBody is a Livestream answer.
type livestreamBody struct {
	ID, Title, Status, ScheduledStart string
	Description, ScheduledEnd         *string
	StartedAt, EndedAt                *string
	SeriesID                          *string
	Targets                           []struct {
		Platform, Status     string
		Destination          *string
		ExternalID, WatchURL *string
		Note, NextAttemptAt  *string
		Attempts             int
		LastError            *struct{ Code, Message, At string }
	}
}

func (l livestreamBody) target(t *testing.T, p string) int {
	t.Helper()
	for i, tg := range l.Targets {
		if tg.Platform == p {
			return i
		}
	}
	t.Fatalf("no %s target in %+v", p, l.Targets)
	return -1
}

type liveTarget struct {
	Platform  string `json:"platform"`
	Privacy   string `json:"privacy,omitempty"`
	RTMPURL   string `json:"rtmpUrl,omitempty"`
	StreamKey string `json:"streamKey,omitempty"`
	// Destination is a Facebook Page id (or me).
	Destination string `json:"destination,omitempty"`
	MadeForKids *bool  `json:"madeForKids,omitempty"`
	AutoStop    *bool  `json:"autoStop,omitempty"`
}

// youtubeTarget is a YouTube target with its required audience
// declaration: not made for kids.
func youtubeTarget(privacy string) liveTarget {
	return liveTarget{Platform: "youtube", Privacy: privacy, MadeForKids: new(false)}
}

// newLivestream is a create body starting at start, for an hour.
func newLivestream(start time.Time, targets ...liveTarget) map[string]any {
	return map[string]any{
		"title": "Sunday service", "description": "Live from Grace Church",
		"scheduledStart": start.UTC().Format(time.RFC3339), "scheduledEnd": start.Add(time.Hour).UTC().Format(time.RFC3339),
		"targets": targets,
	}
}

// liveStartIn is the start of the minute n minutes from now.
func liveStartIn(n int) time.Time {
	return time.Now().UTC().Truncate(time.Minute).Add(time.Duration(n) * time.Minute)
}

// createLivestream schedules a livestream for a tenant through the API.
func (s *stack) createLivestream(tenant string, body map[string]any) livestreamBody {
	s.t.Helper()
	var ls livestreamBody
	if r := s.call("POST", "/livestreams", tenant, body, &ls); r.StatusCode != http.StatusCreated {
		s.t.Fatalf("create: %d %s", r.StatusCode, bodyOf(r))
	}
	return ls
}

func (s *stack) getLivestream(tenant, id string) livestreamBody {
	s.t.Helper()
	var ls livestreamBody
	if r := s.call("GET", "/livestreams/"+id, tenant, nil, &ls); r.StatusCode != http.StatusOK {
		s.t.Fatalf("get: %d %s", r.StatusCode, bodyOf(r))
	}
	return ls
}

// liveGoLives counts the go-live calls YouTube and Facebook received.
func (s *stack) liveGoLives() (youtube, facebook int) {
	for _, r := range s.sb.YouTube.Requests() {
		if r.Op == youtubefake.OpBroadcastTransition && r.Query.Get("broadcastStatus") == "live" {
			youtube++
		}
	}
	for _, r := range s.sb.Facebook.Requests() {
		if r.Op == facebookfake.OpUpdate && r.Form.Get("status") == "LIVE_NOW" {
			facebook++
		}
	}
	return youtube, facebook
}

// liveRawTable is every item of the stack's table as DynamoDB holds it.
func (s *stack) liveRawTable() string {
	s.t.Helper()
	db := dynamotest.Client(os.Getenv("AWS_ENDPOINT_URL_DYNAMODB"))
	out, err := db.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(s.table)})
	if err != nil {
		s.t.Fatal(err)
	}
	raw, _ := json.Marshal(out.Items)
	return string(raw)
}

// noLiveSecret fails when any of the secrets appears in what.
func noLiveSecret(t *testing.T, where, what string, secrets []string) {
	t.Helper()
	for _, sec := range secrets {
		if len(sec) >= 8 && strings.Contains(what, sec) {
			t.Errorf("a secret (%s…) appears in %s", sec[:6], where)
		}
	}
}

// liveEvent is an HTTP API event for the livestreams function, as the gateway
// would deliver it with verified claims.
func liveEvent(method, path, tenant string, body any, headers map[string]string) events.APIGatewayV2HTTPRequest {
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "$default", RawPath: path,
		Headers: map[string]string{"content-type": "application/json"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RequestID: "req-" + method,
			HTTP:      events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path},
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
				JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: map[string]string{"sub": "user-of-" + tenant, "tenant_id": tenant}},
			},
		},
	}
	for k, v := range headers {
		ev.Headers[strings.ToLower(k)] = v
	}
	if body != nil {
		raw, _ := json.Marshal(body)
		ev.Body = string(raw)
	}
	return ev
}

// liveAccessTokens opens the access tokens the tenant's connections hold,
// as the connection service would, for scanning.
func (s *stack) liveAccessTokens(tenant string, platforms ...string) []string {
	s.t.Helper()
	ctx := context.Background()
	kr, err := vault.NewLocalKeyring(s.env["LOCAL_KEK"])
	if err != nil {
		s.t.Fatal(err)
	}
	v := vault.New(kr)
	st := store.New(dynamotest.Client(os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")), s.table)
	var out []string
	for _, p := range platforms {
		c, err := st.Connections().Get(ctx, tenant, platform.ID(p))
		if err != nil {
			s.t.Fatal(err)
		}
		raw, err := v.Open(ctx, c.Sealed, vault.Context(tenant, p, vault.PurposeTokenSet, "connection"))
		if err != nil {
			s.t.Fatal(err)
		}
		var creds connection.Credentials
		if err := json.Unmarshal(raw, &creds); err != nil || creds.AccessToken == "" {
			s.t.Fatalf("%s credentials: %v", p, err)
		}
		out = append(out, creds.AccessToken)
	}
	return out
}
