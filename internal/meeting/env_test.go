package meeting_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/switchboard-dev/switchboard/internal/connection"
	"github.com/switchboard-dev/switchboard/internal/dynamotest"
	"github.com/switchboard-dev/switchboard/internal/logging"
	"github.com/switchboard-dev/switchboard/internal/meeting"
	"github.com/switchboard-dev/switchboard/internal/oauthmock"
	"github.com/switchboard-dev/switchboard/internal/oauthtest"
	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/googlemeet"
	"github.com/switchboard-dev/switchboard/internal/platform/googlemeet/googlemeetfake"
	"github.com/switchboard-dev/switchboard/internal/platform/jitsi"
	"github.com/switchboard-dev/switchboard/internal/platform/jitsi/jitsitest"
	"github.com/switchboard-dev/switchboard/internal/platform/registry"
	"github.com/switchboard-dev/switchboard/internal/platform/teams"
	"github.com/switchboard-dev/switchboard/internal/platform/teams/teamsfake"
	"github.com/switchboard-dev/switchboard/internal/platform/zoom"
	"github.com/switchboard-dev/switchboard/internal/platform/zoom/zoomfake"
	"github.com/switchboard-dev/switchboard/internal/servicetest"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/testclock"
	"github.com/switchboard-dev/switchboard/internal/vault"
	"github.com/switchboard-dev/switchboard/internal/vault/vaulttest"
)

func TestMain(m *testing.M) { dynamotest.Run(m) }

// clock is the shared test clock (internal/testclock).
type clock = testclock.Clock

// clients are the meeting platforms' real clients against the fakes, as
// the app wires them; wrap lets a test put a gate in front of one.
type clients struct {
	meeters map[platform.ID]platform.Meeter
	jaasURL string
}

func (c clients) Meeter(p platform.ID) (platform.Meeter, bool) {
	m, ok := c.meeters[p]
	return m, ok
}

func (c clients) JaaS(creds connection.Credentials) (platform.Meeter, error) {
	jc, err := jitsi.ParseCredentials(creds.Secret)
	if err != nil {
		return nil, err
	}
	return jitsi.NewJaaS(jc, c.jaasURL), nil
}

// env is a meeting service on its own table, with a real connection
// service (OAuth through the shared OAuth mock, keys through the vault),
// and the platforms' clients on their fakes.
type env struct {
	t       *testing.T
	svc     *meeting.Service
	conns   *connection.Service
	store   *store.Store
	db      *dynamodb.Client
	table   string
	vault   *vault.Vault
	clock   *clock
	logs    *servicetest.Logs
	zoom    *zoomfake.Server
	meet    *googlemeetfake.Server
	teams   *teamsfake.Server
	clients clients
	cfg     meeting.Config
	tenant  string
	user    string
}

const (
	jitsiPublicURL = "https://meet.example.test"
	jaasURL        = "https://8x8.example.test"
)

func newEnv(t *testing.T) *env {
	t.Helper()
	f := dynamotest.New(t)
	oauth := oauthtest.Start(t)
	clientID := fmt.Sprintf("meet-%s-%d", strings.ReplaceAll(t.Name(), "/", "-"), time.Now().UnixNano())
	oauthtest.Configure(t, oauth, map[string]oauthmock.ClientConfig{clientID: {ClientSecret: "meeting-test-secret"}})
	e := &env{t: t, store: f.Store, db: f.DB, table: f.Table, vault: vaulttest.Local(t), clock: &clock{}, logs: &servicetest.Logs{},
		zoom: zoomfake.New(), meet: googlemeetfake.New(), teams: teamsfake.New(), tenant: "church-a", user: "pastor"}
	t.Cleanup(e.zoom.Close)
	t.Cleanup(e.meet.Close)
	t.Cleanup(e.teams.Close)

	hc := &http.Client{Timeout: 10 * time.Second}
	zc := zoom.New(hc, e.zoom.APIURL())
	mc := googlemeet.New(hc, e.meet.MeetURL(), e.meet.CalendarURL(), googlemeet.WithUserinfoURL(e.meet.UserinfoURL()),
		googlemeet.WithPolling(5*time.Millisecond, 6))
	tc := teams.New(hc, e.teams.APIURL())
	eps := map[platform.ID]platform.Endpoints{}
	for _, d := range registry.All() {
		ep := registry.LoadEndpoints(d.ID, func(string) string { return "" })
		if ep.AuthURL != "" {
			ep.AuthURL, ep.TokenURL, ep.RevokeURL = oauth.AuthorizeURL(), oauth.TokenURL(), oauth.RevokeURL()
			ep.ClientID, ep.ClientSecret = clientID, "meeting-test-secret"
			ep.CallbackURL = "https://api.switchboard.test/oauth/" + string(d.ID) + "/callback"
		}
		eps[d.ID] = ep
	}
	logger := logging.New(e.logs, "meetings", slog.LevelDebug)
	e.conns = connection.New(connection.Config{
		Repo: f.Store.Connections(), Vault: e.vault, Endpoints: eps,
		Accounts: map[platform.ID]connection.AccountReader{zoom.ID: zc, googlemeet.ID: mc, teams.ID: tc},
		Keys: map[platform.ID]connection.KeyVerifier{jitsi.ID: func(_ context.Context, c connection.Credentials) (platform.Account, error) {
			return jitsi.Verify(c.Secret)
		}},
		ReturnAllowlist: []string{"https://app.example.com"}, HTTP: hc, Logger: logger, Now: e.clock.Now,
	})
	e.clients = clients{
		meeters: map[platform.ID]platform.Meeter{zoom.ID: zc, googlemeet.ID: mc, teams.ID: tc,
			jitsi.ID: jitsi.NewPublicRooms(jitsiPublicURL)},
		jaasURL: jaasURL,
	}
	e.cfg = meeting.Config{Repo: f.Store.Meetings(registry.OfKind(platform.KindMeeting)...), Connections: e.conns, Clients: e.clients, Vault: e.vault,
		Series: f.Store.MeetingSeries(), Logger: logger, Now: e.clock.Now}
	e.svc = meeting.New(e.cfg)
	return e
}

// rebuild makes the service again after a change to e.clients or e.cfg.
func (e *env) rebuild() {
	e.cfg.Clients = e.clients
	e.svc = meeting.New(e.cfg)
}

// connect connects a platform for the env's tenant: OAuth through the
// mock, or Jitsi with JaaS credentials (jaas) or none.
func (e *env) connect(tenant string, p platform.ID) {
	e.t.Helper()
	ctx := context.Background()
	id := connection.Identity{Tenant: tenant, User: e.user}
	start, err := e.conns.StartOAuth(ctx, id, string(p), "https://app.example.com/settings")
	if err != nil {
		e.t.Fatalf("start %s: %v", p, err)
	}
	code, state := oauthtest.Authorize(e.t, start.AuthorizeURL)
	res, err := e.conns.Callback(ctx, string(p), url.Values{"code": {code}, "state": {state}})
	if err != nil || res.Connected == nil {
		e.t.Fatalf("callback %s: %v %s %v", p, err, res.ErrorCode, res.ErrorCause)
	}
}

// jaasKey is one RSA key for every JaaS test: generating one costs
// tenths of a second.
var jaasKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

const jaasAppID = "vpaas-magic-cookie-0123456789abcdef0123456789abcdef"

// connectJaaS connects Jitsi with 8x8 JaaS credentials and returns the
// verifier of its links.
func (e *env) connectJaaS(tenant string) *jitsitest.Verifier {
	e.t.Helper()
	der := x509.MarshalPKCS1PrivateKey(jaasKey())
	keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der}))
	_, err := e.conns.ConnectWithKey(context.Background(), connection.Identity{Tenant: tenant, User: e.user}, "jitsi",
		map[string]string{"appId": jaasAppID, "keyId": "key-1", "privateKey": keyPEM})
	if err != nil {
		e.t.Fatalf("connect JaaS: %v", err)
	}
	return jitsitest.NewVerifier(jitsi.Credentials{AppID: jaasAppID, KeyID: "key-1", PrivateKey: jaasKey()})
}

func (e *env) connectAll(tenant string) *jitsitest.Verifier {
	e.t.Helper()
	for _, p := range []platform.ID{zoom.ID, googlemeet.ID, teams.ID} {
		e.connect(tenant, p)
	}
	return e.connectJaaS(tenant)
}

func str(s string) *string { return &s }

// input is a good meeting request an hour from the env's now.
func (e *env) input(platforms ...string) meeting.CreateInput {
	return meeting.CreateInput{Title: "Elders' meeting", StartTime: e.clock.Now().Add(time.Hour).UTC().Format(time.RFC3339),
		DurationMinutes: 45, TimeZone: str("America/Chicago"), Platforms: platforms}
}

func (e *env) create(in meeting.CreateInput) *meeting.Meeting {
	e.t.Helper()
	m, err := e.svc.Create(context.Background(), e.tenant, e.user, in)
	if err != nil {
		e.t.Fatalf("create: %v", err)
	}
	return m
}

func (e *env) get(id string) *meeting.Meeting {
	e.t.Helper()
	m, err := e.svc.Get(context.Background(), e.tenant, id)
	if err != nil {
		e.t.Fatalf("get: %v", err)
	}
	return m
}

func target(t *testing.T, m *meeting.Meeting, p platform.ID) meeting.Target {
	t.Helper()
	tg, ok := m.Target(p)
	if !ok {
		t.Fatalf("meeting %s has no %s target: %+v", m.ID, p, m.Targets)
	}
	return *tg
}

// rawTable is every item of the table exactly as DynamoDB holds it, as
// JSON.
func (e *env) rawTable() string {
	e.t.Helper()
	b, _ := json.Marshal(dynamotest.Items(e.t, e.db, e.table))
	return string(b)
}

// rawMeeting is the meeting's item as DynamoDB holds it.
func (e *env) rawMeeting(tenant, id string) store.Item {
	e.t.Helper()
	it, err := e.store.Get(context.Background(), store.TenantPK(tenant), "MEET#"+id)
	if err != nil {
		e.t.Fatal(err)
	}
	return it
}
