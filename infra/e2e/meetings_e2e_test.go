package e2e_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/dynamotest"
	"github.com/switchboard-dev/switchboard/internal/httpapi"
	"github.com/switchboard-dev/switchboard/internal/httpapi/apitest"
	"github.com/switchboard-dev/switchboard/internal/httpapi/openapitest"
	"github.com/switchboard-dev/switchboard/internal/platform/googlemeet/googlemeetfake"
	"github.com/switchboard-dev/switchboard/internal/platform/jitsi"
	"github.com/switchboard-dev/switchboard/internal/platform/jitsi/jitsitest"
	"github.com/switchboard-dev/switchboard/internal/platform/teams/teamsfake"
	"github.com/switchboard-dev/switchboard/internal/platform/zoom/zoomfake"
	"github.com/switchboard-dev/switchboard/internal/servicetest"
)

// meetingBody is a Meeting answer.
type meetingBody struct {
	ID, Title, Status, StartTime, Timezone, CreatedAt string
	DurationMinutes                                   int
	CancelledAt                                       *string
	Targets                                           []meetingTargetBody
}

type meetingTargetBody struct {
	Platform, Status          string
	Current                   bool
	JoinURL, ExternalID, Note *string
	LastError                 *struct{ Code, Message, At string }
}

func (m meetingBody) target(t *testing.T, p string) meetingTargetBody {
	t.Helper()
	for _, tg := range m.Targets {
		if tg.Platform == p {
			return tg
		}
	}
	t.Fatalf("meeting %s has no %s target: %+v", m.ID, p, m.Targets)
	return meetingTargetBody{}
}

func meetingRequest(platforms ...string) map[string]any {
	targets := make([]map[string]string, len(platforms))
	for i, p := range platforms {
		targets[i] = map[string]string{"platform": p}
	}
	return map[string]any{"title": "Elders' meeting", "startTime": time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339),
		"durationMinutes": 60, "timezone": "America/Chicago", "targets": targets}
}

var fourMeetingPlatforms = []string{"zoom", "google-meet", "microsoft-teams", "jitsi"}

// connectMeetingPlatforms connects Zoom, Google Meet and Teams by OAuth
// through real redirects, and Jitsi with 8x8 JaaS credentials (returning
// the verifier of its links) or, with jaas false, for public rooms.
func connectMeetingPlatforms(s *stack, tenant string, jaas bool) *jitsitest.Verifier {
	s.t.Helper()
	for _, p := range []string{"zoom", "google-meet", "microsoft-teams"} {
		if q := s.connectOAuth(tenant, p); q.Get("status") != "connected" {
			s.t.Fatalf("%s: back in the app with %v", p, q)
		}
	}
	creds := map[string]string{}
	var verifier *jitsitest.Verifier
	if jaas {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			s.t.Fatal(err)
		}
		const appID = "vpaas-magic-cookie-fedcba9876543210fedcba9876543210"
		creds = map[string]string{"appId": appID, "keyId": "k-e2e",
			"privateKey": string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))}
		verifier = jitsitest.NewVerifier(jitsi.Credentials{AppID: appID, KeyID: "k-e2e", PrivateKey: key})
	}
	var c connectionBody
	if r := s.call("POST", "/connections/jitsi", tenant, map[string]any{"credentials": creds}, &c); r.StatusCode != 201 {
		s.t.Fatalf("connect jitsi: %d %s", r.StatusCode, bodyOf(r))
	}
	return verifier
}

// callKeyed is stack.call with an Idempotency-Key.
func callKeyed(s *stack, path, tenant, key string, body any, out any) *http.Response {
	s.t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", s.gw.URL+path, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+s.token(tenant, "user-of-"+tenant))
	req.Header.Set("Idempotency-Key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			s.t.Fatalf("%s: %v: %s", path, err, b)
		}
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp
}

// rawItems is every item of the stack's table as DynamoDB holds it.
func rawItems(s *stack) string {
	s.t.Helper()
	db := dynamotest.Client(os.Getenv("AWS_ENDPOINT_URL_DYNAMODB"))
	out, err := db.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(s.table)})
	if err != nil {
		s.t.Fatal(err)
	}
	b, _ := json.Marshal(out.Items)
	return string(b)
}

// meetingTargets is the plain (not sealed) part of a meeting's item.
func meetingTargets(s *stack, tenant, id string) string {
	s.t.Helper()
	db := dynamotest.Client(os.Getenv("AWS_ENDPOINT_URL_DYNAMODB"))
	out, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(s.table),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "TENANT#" + tenant},
			"sk": &types.AttributeValueMemberS{Value: "MEET#" + id}}})
	if err != nil || len(out.Item) == 0 {
		s.t.Fatalf("the meeting's item: %v", err)
	}
	b, _ := json.Marshal(out.Item["targets"])
	return string(b)
}

func TestAMeetingOnAllFourMeetingPlatformsReturnsFourJoinURLs(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	jaas := connectMeetingPlatforms(s, "church-1", true)
	req := meetingRequest(fourMeetingPlatforms...)
	var m meetingBody
	r := callKeyed(s, "/meetings", "church-1", "create-elders-1", req, &m)
	if r.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", r.StatusCode, bodyOf(r))
	}
	if m.Status != "scheduled" || m.Title != "Elders' meeting" || m.DurationMinutes != 60 || m.Timezone != "America/Chicago" || len(m.Targets) != 4 {
		t.Fatalf("meeting %+v", m)
	}
	joins := map[string]string{}
	for i, p := range fourMeetingPlatforms {
		tg := m.Targets[i]
		if tg.Platform != p || tg.Status != "ready" || tg.JoinURL == nil || tg.ExternalID == nil || tg.LastError != nil {
			t.Fatalf("target %d: %+v, want %s ready with a join URL", i, tg, p)
		}
		joins[p] = *tg.JoinURL
	}
	if len(joins) != 4 {
		t.Fatalf("join URLs %v", joins)
	}
	zid, _ := strconv.ParseInt(*m.target(t, "zoom").ExternalID, 10, 64)
	zm, ok := s.sb.Zoom.Meeting(zid)
	if !ok || zm.JoinURL != joins["zoom"] {
		t.Errorf("zoom holds %+v", zm)
	}
	if ev, ok := s.sb.Meet.Event(*m.target(t, "google-meet").ExternalID); !ok || ev.HangoutLink != joins["google-meet"] {
		t.Errorf("calendar holds %+v", ev)
	}
	if tm, ok := s.sb.Teams.Meeting(*m.target(t, "microsoft-teams").ExternalID); !ok || tm.JoinWebURL != joins["microsoft-teams"] {
		t.Errorf("teams holds %+v", tm)
	}
	start, _ := time.Parse(time.RFC3339, m.StartTime)
	if c, err := jaas.VerifyLink(joins["jitsi"], start); err != nil || c.Context.User.Moderator != "false" {
		t.Errorf("the JaaS join link: %v", err)
	}

	// The same key and body replays the answer and creates nothing again;
	// the same key with another body is refused.
	var replay meetingBody
	r = callKeyed(s, "/meetings", "church-1", "create-elders-1", req, &replay)
	if r.StatusCode != http.StatusCreated || r.Header.Get("Idempotent-Replayed") != "true" || replay.ID != m.ID {
		t.Fatalf("replay: %d %s", r.StatusCode, bodyOf(r))
	}
	for i, tg := range replay.Targets {
		if tg.JoinURL == nil || *tg.JoinURL != joins[fourMeetingPlatforms[i]] {
			t.Errorf("the replay's %s join URL is %v", tg.Platform, tg.JoinURL)
		}
	}
	if n := s.sb.Zoom.Calls(zoomfake.OpCreateMeeting); n != 1 {
		t.Fatalf("zoom saw %d creates", n)
	}
	other := meetingRequest("zoom")
	if r = callKeyed(s, "/meetings", "church-1", "create-elders-1", other, nil); r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("the key with another body: %d %s", r.StatusCode, bodyOf(r))
	}

	// Read and list: the same four links, newest first.
	var got meetingBody
	if r = s.call("GET", "/meetings/"+m.ID, "church-1", nil, &got); r.StatusCode != 200 {
		t.Fatalf("get: %d %s", r.StatusCode, bodyOf(r))
	}
	for _, tg := range got.Targets {
		if *tg.JoinURL != joins[tg.Platform] {
			t.Errorf("GET gives %s for %s", *tg.JoinURL, tg.Platform)
		}
	}
	var second meetingBody
	if r = s.call("POST", "/meetings", "church-1", meetingRequest("jitsi"), &second); r.StatusCode != 201 {
		t.Fatalf("second create: %d %s", r.StatusCode, bodyOf(r))
	}
	var page struct {
		Items      []meetingBody
		NextCursor string
	}
	if r = s.call("GET", "/meetings?limit=1", "church-1", nil, &page); r.StatusCode != 200 || len(page.Items) != 1 || page.Items[0].ID != second.ID || page.NextCursor == "" {
		t.Fatalf("first page: %d %s", r.StatusCode, bodyOf(r))
	}
	if r = s.call("GET", "/meetings?limit=1&cursor="+page.NextCursor, "church-1", nil, &page); r.StatusCode != 200 || len(page.Items) != 1 || page.Items[0].ID != m.ID {
		t.Fatalf("second page: %d %s", r.StatusCode, bodyOf(r))
	}

	// Nothing stored holds Zoom's host token or a JaaS token in the clear.
	raw := rawItems(s)
	zak := zm.StartURL[strings.Index(zm.StartURL, "zak=")+4:]
	jwt := joins["jitsi"][strings.Index(joins["jitsi"], "jwt=")+4:]
	if strings.Contains(raw, zak) || strings.Contains(raw, jwt) || strings.Contains(meetingTargets(s, "church-1", m.ID), "eyJ") {
		t.Fatal("a meeting secret is stored in the clear")
	}
	if strings.Contains(bodyOf(s.call("GET", "/meetings/"+m.ID, "church-1", nil, nil)), zak) {
		t.Fatal("the answer carries Zoom's host token")
	}
}

func TestDeletingAMeetingCancelsItAtEveryPlatform(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	connectMeetingPlatforms(s, "church-1", false)
	var m meetingBody
	if r := s.call("POST", "/meetings", "church-1", meetingRequest(fourMeetingPlatforms...), &m); r.StatusCode != 201 || m.Status != "scheduled" {
		t.Fatalf("create: %d %s", r.StatusCode, bodyOf(r))
	}
	if j := *m.target(t, "jitsi").JoinURL; !strings.HasPrefix(j, jitsi.DefaultPublicURL+"/elders-meeting-") {
		t.Fatalf("a public Jitsi room: %s", j)
	}

	// Another tenant: 404 for everything, and nothing changes.
	for _, method := range []string{"GET", "DELETE"} {
		if r := s.call(method, "/meetings/"+m.ID, "church-2", nil, nil); r.StatusCode != 404 {
			t.Fatalf("%s as another tenant: %d %s", method, r.StatusCode, bodyOf(r))
		}
	}
	var list struct{ Items []meetingBody }
	if s.call("GET", "/meetings", "church-2", nil, &list); len(list.Items) != 0 {
		t.Fatalf("another tenant lists %+v", list.Items)
	}
	deletes := func() int {
		return s.sb.Zoom.Calls(zoomfake.OpDeleteMeeting) + s.sb.Meet.Calls(googlemeetfake.OpEventsDelete) + s.sb.Teams.Calls(teamsfake.OpDelete)
	}
	if deletes() != 0 {
		t.Fatal("another tenant's DELETE reached a platform")
	}

	if r := s.call("DELETE", "/meetings/"+m.ID, "church-1", nil, nil); r.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.StatusCode, bodyOf(r))
	}
	if zd, md, td := s.sb.Zoom.Calls(zoomfake.OpDeleteMeeting), s.sb.Meet.Calls(googlemeetfake.OpEventsDelete), s.sb.Teams.Calls(teamsfake.OpDelete); zd != 1 || md != 1 || td != 1 {
		t.Fatalf("deletes at zoom %d, calendar %d, teams %d", zd, md, td)
	}
	zid, _ := strconv.ParseInt(*m.target(t, "zoom").ExternalID, 10, 64)
	if zm, _ := s.sb.Zoom.Meeting(zid); zm.Status != zoomfake.StatusDeleted {
		t.Errorf("zoom: %s", zm.Status)
	}
	if ev, _ := s.sb.Meet.Event(*m.target(t, "google-meet").ExternalID); ev.Status != "cancelled" {
		t.Errorf("calendar: %s", ev.Status)
	}
	if s.sb.Teams.Meetings() != 0 {
		t.Errorf("teams holds %d meetings", s.sb.Teams.Meetings())
	}
	var got meetingBody
	s.call("GET", "/meetings/"+m.ID, "church-1", nil, &got)
	if got.Status != "cancelled" || got.CancelledAt == nil {
		t.Fatalf("after delete: %+v", got)
	}
	for _, tg := range got.Targets {
		if tg.Status != "cancelled" || tg.LastError != nil {
			t.Errorf("%s: %+v", tg.Platform, tg)
		}
	}
	if n := got.target(t, "jitsi").Note; n == nil || !strings.Contains(*n, "no call that deletes a room") {
		t.Errorf("jitsi note %v", n)
	}
	// DELETE again: 204, and no platform is called again.
	if r := s.call("DELETE", "/meetings/"+m.ID, "church-1", nil, nil); r.StatusCode != http.StatusNoContent || deletes() != 3 {
		t.Fatalf("second delete: %d, %d platform deletes", r.StatusCode, deletes())
	}
}

func TestOneMeetingPlatformFailingLeavesTheOthersAndSaysWhy(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	connectMeetingPlatforms(s, "church-1", false)
	s.sb.Zoom.FailNext(zoomfake.OpCreateMeeting, http.StatusForbidden, "3161", 1)
	var m meetingBody
	if r := s.call("POST", "/meetings", "church-1", meetingRequest(fourMeetingPlatforms...), &m); r.StatusCode != 201 {
		t.Fatalf("create: %d %s", r.StatusCode, bodyOf(r))
	}
	z := m.target(t, "zoom")
	if m.Status != "scheduled" || z.Status != "failed" || z.JoinURL != nil || z.LastError == nil ||
		z.LastError.Code != "not_eligible" || !strings.Contains(z.LastError.Message, "hosting and scheduling capabilities are not allowed") {
		t.Fatalf("meeting %s, zoom %+v %+v", m.Status, z, z.LastError)
	}
	for _, p := range []string{"google-meet", "microsoft-teams", "jitsi"} {
		if tg := m.target(t, p); tg.Status != "ready" || tg.JoinURL == nil {
			t.Errorf("%s: %+v", p, tg)
		}
	}
	// DELETE does not call Zoom for a meeting Zoom never made.
	if r := s.call("DELETE", "/meetings/"+m.ID, "church-1", nil, nil); r.StatusCode != 204 || s.sb.Zoom.Calls(zoomfake.OpDeleteMeeting) != 0 {
		t.Fatalf("delete: %d, zoom deletes %d", r.StatusCode, s.sb.Zoom.Calls(zoomfake.OpDeleteMeeting))
	}
}

func TestMeetingRequestsThatCannotBeServedChangeNothing(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	s.connectOAuth("church-1", "zoom")
	for _, c := range []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"no title", map[string]any{"startTime": time.Now().Add(time.Hour).UTC().Format(time.RFC3339), "durationMinutes": 30,
			"targets": []map[string]string{{"platform": "zoom"}}}, 400, "invalid_meeting"},
		{"a livestream platform", meetingRequest("youtube"), 400, "wrong_platform_kind"},
		{"an unknown platform", meetingRequest("myspace"), 400, "unknown_platform"},
		{"an unknown field", map[string]any{"title": "x", "hostKey": "y"}, 400, "invalid_body"},
		{"a platform that is not connected", meetingRequest("zoom", "microsoft-teams"), 409, "target_not_connected"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var p struct{ Code, Detail string }
			if r := s.call("POST", "/meetings", "church-1", c.body, &p); r.StatusCode != c.status || p.Code != c.code || p.Detail == "" ||
				r.Header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("%d %s", r.StatusCode, bodyOf(r))
			}
		})
	}
	var list struct{ Items []meetingBody }
	if s.call("GET", "/meetings", "church-1", nil, &list); len(list.Items) != 0 || s.sb.Zoom.Calls(zoomfake.OpCreateMeeting) != 0 {
		t.Fatalf("a refused request changed something: %+v", list.Items)
	}
	for _, path := range []string{"/meetings/not-an-id", "/meetings/mtg_00000000000000000000000000"} {
		if r := s.call("GET", path, "church-1", nil, nil); r.StatusCode != 404 {
			t.Errorf("GET %s: %d", path, r.StatusCode)
		}
	}
}

// loggedMeetings is the meetings function as Lambda runs it, on the
// stack's table and sandbox, with its logs kept for the test to read.
type loggedMeetings struct {
	t    *testing.T
	api  *httpapi.API
	logs *servicetest.Logs
}

func meetingsWithLogs(s *stack) *loggedMeetings {
	s.t.Helper()
	l := &loggedMeetings{t: s.t, logs: &servicetest.Logs{}}
	getenv := func(k string) string {
		if v, ok := s.env[k]; ok {
			return v
		}
		return os.Getenv(k)
	}
	api, err := app.HTTP(context.Background(), app.Meetings, app.Options{Getenv: getenv, Log: l.logs})
	if err != nil {
		s.t.Fatal(err)
	}
	l.api = api
	return l
}

func (l *loggedMeetings) call(method, path, tenant string, body, out any) events.APIGatewayV2HTTPResponse {
	l.t.Helper()
	opts := []apitest.Option{apitest.As(tenant, "user-of-"+tenant)}
	if body != nil {
		opts = append(opts, apitest.Body(body))
	}
	ev := apitest.Event(method, path, opts...)
	resp, _ := l.api.Handle(context.Background(), ev)
	openapitest.Check(l.t, ev, resp)
	if out != nil && resp.Body != "" {
		if err := json.Unmarshal([]byte(resp.Body), out); err != nil {
			l.t.Fatalf("%s %s: %v: %s", method, path, err, resp.Body)
		}
	}
	return resp
}

func TestNoMeetingSecretIsLoggedStoredOrAnsweredInTheClear(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	connectMeetingPlatforms(s, "church-1", true)
	fn := meetingsWithLogs(s)
	s.sb.Teams.FailNext(teamsfake.OpCreateOrGet, http.StatusForbidden, "Forbidden", 1) // a failure is logged too
	var m meetingBody
	if r := fn.call("POST", "/meetings", "church-1", meetingRequest(fourMeetingPlatforms...), &m); r.StatusCode != 201 {
		t.Fatalf("create: %d %s", r.StatusCode, r.Body)
	}
	var list struct{ Items []meetingBody }
	fn.call("GET", "/meetings", "church-1", nil, &list)
	if r := fn.call("DELETE", "/meetings/"+m.ID, "church-1", nil, nil); r.StatusCode != 204 {
		t.Fatalf("delete: %d %s", r.StatusCode, r.Body)
	}
	answers := func() string {
		var b strings.Builder
		for _, p := range []string{"/meetings/" + m.ID, "/meetings"} {
			b.WriteString(fn.call("GET", p, "church-1", nil, nil).Body)
		}
		return b.String()
	}()

	zid, _ := strconv.ParseInt(*m.target(t, "zoom").ExternalID, 10, 64)
	zm, _ := s.sb.Zoom.Meeting(zid)
	zak := zm.StartURL[strings.Index(zm.StartURL, "zak=")+4:]
	join := *m.target(t, "jitsi").JoinURL
	jwt := join[strings.Index(join, "jwt=")+4:]
	logs, raw := fn.logs.String(), rawItems(s)
	if !strings.Contains(logs, `"platform":"microsoft-teams"`) || !strings.Contains(logs, `"route":"POST /meetings"`) {
		t.Fatalf("the function's logs were not captured:\n%s", logs)
	}
	for name, where := range map[string]string{"logs": logs, "stored items": raw, "answers": answers} {
		if strings.Contains(where, zak) {
			t.Errorf("Zoom's host token is in the %s", name)
		}
		if name != "answers" && strings.Contains(where, jwt) {
			t.Errorf("the JaaS token is in the %s", name)
		}
	}
	if strings.Contains(logs, "eyJ") || strings.Contains(meetingTargets(s, "church-1", m.ID), "eyJ") {
		t.Error("a JWT is logged or stored in the clear")
	}
	// The participant link is for the tenant's own answers; no JaaS
	// moderator link is ever part of one.
	if !strings.Contains(answers, jwt) || strings.Count(answers, "jwt=") != 2 {
		t.Errorf("the answers carry %d JaaS links", strings.Count(answers, "jwt="))
	}
}
