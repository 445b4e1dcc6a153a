package jitsi_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/bits"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/switchboard-dev/switchboard/internal/platform"
	"github.com/switchboard-dev/switchboard/internal/platform/jitsi"
	"github.com/switchboard-dev/switchboard/internal/platform/jitsi/jitsitest"
)

const appID = "vpaas-magic-cookie-1fc542a3e4414a44b2611668195e2bfe"

var (
	keyOnce sync.Once
	rsaKey  *rsa.PrivateKey
)

func key(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		rsaKey = k
	})
	return rsaKey
}

func pkcs1(k *rsa.PrivateKey) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
}

func pkcs8(t *testing.T, k any) string {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func creds(t *testing.T) map[string]string {
	return map[string]string{"appId": appID, "keyId": "4f4910", "privateKey": pkcs8(t, key(t))}
}

func TestRoomNamesAreReadableAndCarry128RandomBits(t *testing.T) {
	t.Parallel()
	const n = 2000
	shape := regexp.MustCompile(`^sunday-service-10am-([a-z2-7]{26})$`)
	seen := map[string]bool{}
	var ones [128]int
	total := 0
	for range n {
		room, err := jitsi.RoomName("Sunday Service — 10am!")
		if err != nil {
			t.Fatal(err)
		}
		m := shape.FindStringSubmatch(room)
		if m == nil {
			t.Fatalf("room %q", room)
		}
		if seen[m[1]] {
			t.Fatalf("room %q repeated", room)
		}
		seen[m[1]] = true
		raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(m[1]))
		if err != nil || len(raw) != 16 {
			t.Fatalf("suffix %q: %d bytes, %v", m[1], len(raw), err)
		}
		for i, b := range raw {
			total += bits.OnesCount8(b)
			for j := range 8 {
				if b&(1<<j) != 0 {
					ones[i*8+j]++
				}
			}
		}
	}
	// Every one of the 128 bits must vary: a fixed or biased bit would cut
	// the search space. Fractions far outside 0.5 ± 0.1 (9 sigma at n=2000)
	// mean the bits are not random.
	for i, c := range ones {
		if f := float64(c) / n; f < 0.4 || f > 0.6 {
			t.Errorf("bit %d is set in %.2f of names", i, f)
		}
	}
	if f := float64(total) / (n * 128); f < 0.49 || f > 0.51 {
		t.Errorf("ones fraction %.4f", f)
	}
}

func TestSlugKeepsTitlesReadable(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"Sunday Service — 10am!":  "sunday-service-10am",
		"Café Crème":              "cafe-creme",
		"":                        "meeting",
		"!!!":                     "meeting",
		"日本語":                     "meeting",
		strings.Repeat("ab ", 40): "ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-ab",
		strings.Repeat("x", 50):   strings.Repeat("x", 40),
	}
	for in, want := range cases {
		if got := jitsi.Slug(in); got != want {
			t.Errorf("Slug(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPublicRoomIsAMeetJitSiURLThatCannotBeEnded(t *testing.T) {
	t.Parallel()
	p := jitsi.NewPublicRooms("")
	ctx := context.Background()
	m, err := p.CreateMeeting(ctx, "", platform.MeetingSpec{Title: "Choir practice", Start: time.Now().Add(time.Hour), Duration: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^https://meet\.jit\.si/choir-practice-[a-z2-7]{26}$`).MatchString(m.JoinURL) || m.HostURL != "" ||
		!strings.HasSuffix(m.JoinURL, "/"+m.ExternalID) {
		t.Errorf("%+v", m)
	}
	noEndOrDelete(t, p)
	other, _ := jitsi.NewPublicRooms("https://jitsi.example.org/").CreateMeeting(ctx, "", platform.MeetingSpec{Instant: true})
	if !strings.HasPrefix(other.JoinURL, "https://jitsi.example.org/meeting-") {
		t.Errorf("configured base: %q", other.JoinURL)
	}
	a, _ := p.Whoami(ctx, "")
	if a.ID != "meet.jit.si" {
		t.Errorf("%+v", a)
	}
}

func decodeSegment(t *testing.T, seg string, v any) {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatal(err)
	}
}

func TestJaaSLinksCarryAnRS256TokenThatVerifiesWithThePublicKey(t *testing.T) {
	t.Parallel()
	c, err := jitsi.ParseCredentials(creds(t))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	j := jitsi.NewJaaS(c, "", jitsi.WithClock(func() time.Time { return now }))
	start := time.Date(2030, 1, 5, 18, 0, 0, 0, time.UTC)
	spec := platform.MeetingSpec{Title: "Board", Start: start, Duration: 90 * time.Minute,
		HostName: "Pat Pastor", HostEmail: "pat@example.org"}
	m, err := j.CreateMeeting(context.Background(), "", spec)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(m.HostURL)
	if u.Scheme != "https" || u.Host != "8x8.vc" || u.Path != "/"+appID+"/"+m.ExternalID {
		t.Errorf("host URL %s", u.Redacted())
	}

	// The header, read raw: alg RS256 and kid {appId}/{keyId}.
	tok := u.Query().Get("jwt")
	parts := strings.Split(tok, ".")
	var hdr map[string]any
	decodeSegment(t, parts[0], &hdr)
	if hdr["alg"] != "RS256" || hdr["kid"] != appID+"/4f4910" {
		t.Errorf("header %v", hdr)
	}
	// The claims, read raw: aud a plain string, moderator and features strings.
	var raw map[string]any
	decodeSegment(t, parts[1], &raw)
	if raw["aud"] != "jitsi" || raw["iss"] != "chat" || raw["sub"] != appID || raw["room"] != m.ExternalID {
		t.Errorf("claims %v", raw)
	}
	// Verified with the public key alone, as JaaS does.
	var claims jitsi.Claims
	pub := &key(t).PublicKey
	verify := func(tok string) {
		t.Helper()
		if _, err := parseRS256(tok, pub, start, &claims); err != nil {
			t.Fatalf("verify with the public key: %v", err)
		}
	}
	verify(tok)
	if claims.Nbf != start.Add(-10*time.Minute).Unix() || claims.Exp != start.Add(90*time.Minute+time.Hour).Unix() {
		t.Errorf("nbf %d exp %d", claims.Nbf, claims.Exp)
	}
	want := jitsi.User{ID: "pat@example.org", Name: "Pat Pastor", Email: "pat@example.org", Moderator: "true"}
	if claims.Context.User != want || claims.Context.Features["livestreaming"] != "true" || claims.Context.Features["recording"] != "true" {
		t.Errorf("context %+v", claims.Context)
	}

	// The participant link: same room, not a moderator.
	ju, _ := url.Parse(m.JoinURL)
	verify(ju.Query().Get("jwt"))
	if claims.Room != m.ExternalID || claims.Context.User.Moderator != "false" || claims.Context.Features["recording"] != "false" {
		t.Errorf("participant claims %+v", claims)
	}

	// The link verifier: valid in the window, not before nor after it.
	v := jitsitest.NewVerifier(c)
	if _, err := v.VerifyLink(m.HostURL, start); err != nil {
		t.Errorf("VerifyLink at the start: %v", err)
	}
	if _, err := v.VerifyLink(m.HostURL, start.Add(-time.Hour)); err == nil {
		t.Error("token valid an hour before the start")
	}
	if _, err := v.VerifyLink(m.HostURL, start.Add(3*time.Hour)); err == nil {
		t.Error("token valid after exp")
	}
	// A link whose room was changed does not verify.
	forged := strings.Replace(m.HostURL, "/"+m.ExternalID+"?", "/board-aaaaaaaaaaaaaaaaaaaaaaaaaa?", 1)
	if _, err := v.VerifyLink(forged, start); err == nil {
		t.Error("a token for another room verified")
	}
	noEndOrDelete(t, j)
}

func TestJaaSTokenFromAnotherKeyIsRefused(t *testing.T) {
	t.Parallel()
	c, err := jitsi.ParseCredentials(creds(t))
	if err != nil {
		t.Fatal(err)
	}
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	other := c
	other.PrivateKey = otherKey
	m, err := jitsi.NewJaaS(other, "").CreateMeeting(context.Background(), "", platform.MeetingSpec{Instant: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jitsitest.NewVerifier(c).VerifyLink(m.HostURL, time.Now()); err == nil {
		t.Fatal("a link signed by another key verified")
	}
}

func TestParseCredentialsAcceptsPKCS1AndPKCS8AndAFullKid(t *testing.T) {
	t.Parallel()
	for name, m := range map[string]map[string]string{
		"pkcs8":            creds(t),
		"pkcs1":            {"appId": appID, "keyId": "4f4910", "privateKey": pkcs1(key(t))},
		"full kid":         {"appId": appID, "keyId": appID + "/4f4910", "privateKey": pkcs1(key(t))},
		"escaped newlines": {"appId": appID, "keyId": "4f4910", "privateKey": strings.ReplaceAll(pkcs8(t, key(t)), "\n", `\n`)},
	} {
		c, err := jitsi.ParseCredentials(m)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if c.Kid() != appID+"/4f4910" {
			t.Errorf("%s: kid %q", name, c.Kid())
		}
	}
	a, err := jitsi.Verify(creds(t))
	if err != nil || a.ID != appID || a.Name != "8x8 JaaS "+appID {
		t.Fatalf("Verify: %+v, %v", a, err)
	}
}

func TestBadJaaSCredentialsAreRefusedWithAClearErrorThatQuotesNoKey(t *testing.T) {
	t.Parallel()
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, _ := x509.MarshalPKIXPublicKey(&key(t).PublicKey)
	good := pkcs8(t, key(t))
	cases := []struct {
		name string
		m    map[string]string
		want string
	}{
		{"no app id", map[string]string{"keyId": "k", "privateKey": good}, "appId is missing"},
		{"not a JaaS app id", map[string]string{"appId": "my-app", "keyId": "k", "privateKey": good}, "vpaas-magic-cookie-"},
		{"no key id", map[string]string{"appId": appID, "privateKey": good}, "keyId is missing"},
		{"no key", map[string]string{"appId": appID, "keyId": "k"}, "privateKey is missing"},
		{"not PEM", map[string]string{"appId": appID, "keyId": "k", "privateKey": "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"}, "not a PEM block"},
		{"1024-bit key", map[string]string{"appId": appID, "keyId": "k", "privateKey": pkcs1(small)}, "1024 bits; at least 2048"},
		{"EC key", map[string]string{"appId": appID, "keyId": "k", "privateKey": pkcs8(t, ec)}, "not an RSA key"},
		{"public key", map[string]string{"appId": appID, "keyId": "k",
			"privateKey": string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}))}, "this is the public key"},
		{"corrupt key", map[string]string{"appId": appID, "keyId": "k",
			"privateKey": string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: []byte("garbage")}))}, "not a valid PKCS#1"},
	}
	for _, tc := range cases {
		_, err := jitsi.Verify(tc.m)
		pe, ok := platform.AsError(err)
		if !ok || pe.Reason != platform.ReasonInvalid || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
			continue
		}
		if k := tc.m["privateKey"]; len(k) > 20 && strings.Contains(err.Error(), k[len(k)/2:len(k)/2+16]) {
			t.Errorf("%s: the error quotes the key", tc.name)
		}
	}
}

func TestJaaSWhoamiIsTheApp(t *testing.T) {
	t.Parallel()
	c, err := jitsi.ParseCredentials(creds(t))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := jitsi.NewJaaS(c, "").Whoami(context.Background(), "")
	if a.ID != appID || a.Name != "8x8 JaaS "+appID {
		t.Errorf("%+v", a)
	}
}

// parseRS256 verifies a token the way JaaS does, with the public key only:
// RS256, aud jitsi, iss chat, sub the app id, at a time inside nbf..exp.
func parseRS256(tok string, pub *rsa.PublicKey, at time.Time, c *jitsi.Claims) (*jwt.Token, error) {
	*c = jitsi.Claims{}
	return jwt.ParseWithClaims(tok, c, func(*jwt.Token) (any, error) { return pub, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithAudience("jitsi"), jwt.WithIssuer("chat"), jwt.WithSubject(appID),
		jwt.WithTimeFunc(func() time.Time { return at }), jwt.WithExpirationRequired(), jwt.WithNotBeforeRequired())
}

// noEndOrDelete checks that a Jitsi client has neither optional meeting
// operation: no API ends a Jitsi room or deletes one (a room is its URL or
// its signed links).
func noEndOrDelete(t *testing.T, m platform.Meeter) {
	t.Helper()
	if _, ok := m.(platform.MeetingEnder); ok {
		t.Errorf("%T has EndMeeting, but no Jitsi API ends a meeting", m)
	}
	if _, ok := m.(platform.MeetingDeleter); ok {
		t.Errorf("%T has DeleteMeeting, but there is nothing at Jitsi to delete", m)
	}
}

// A JaaS link's token is valid only around the meeting's times, so a
// moved meeting's links are signed again: same room, new nbf and exp.
func TestJaaSUpdateSignsTheRoomsLinksAgainForTheNewTimes(t *testing.T) {
	t.Parallel()
	c, err := jitsi.ParseCredentials(creds(t))
	if err != nil {
		t.Fatal(err)
	}
	j := jitsi.NewJaaS(c, "")
	start := time.Date(2030, 1, 5, 18, 0, 0, 0, time.UTC)
	m, err := j.CreateMeeting(context.Background(), "", platform.MeetingSpec{Title: "Board", Start: start, Duration: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	moved := start.Add(48 * time.Hour)
	got, err := j.UpdateMeeting(context.Background(), "", m, platform.MeetingSpec{Title: "Board (moved)", Start: moved, Duration: 30 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if got.ExternalID != m.ExternalID || got.JoinURL == m.JoinURL || got.HostURL == m.HostURL || got.Extra["roomUrl"] != m.Extra["roomUrl"] {
		t.Fatalf("want the same room with new links: %+v", got.Extra)
	}
	v := jitsitest.NewVerifier(c)
	for _, link := range []string{got.JoinURL, got.HostURL} {
		claims, err := v.VerifyLink(link, moved)
		if err != nil {
			t.Fatalf("a new link at the new start: %v", err)
		}
		if claims.Room != m.ExternalID || claims.Nbf != moved.Add(-10*time.Minute).Unix() || claims.Exp != moved.Add(90*time.Minute).Unix() {
			t.Errorf("claims %+v", claims)
		}
	}
	if _, err := v.VerifyLink(m.JoinURL, moved); err == nil {
		t.Error("the old link opened the moved meeting: nothing needed signing again")
	}
	if _, err := j.UpdateMeeting(context.Background(), "", platform.Meeting{}, platform.MeetingSpec{Start: moved, Duration: time.Hour}); platform.ReasonOf(err) != platform.ReasonInvalid {
		t.Errorf("no room: %v", err)
	}
}

// A public room is only a link: there is nothing at Jitsi to change.
func TestPublicRoomsHaveNoUpdateButANoteSaysWhy(t *testing.T) {
	t.Parallel()
	if _, ok := any(jitsi.NewPublicRooms("")).(platform.MeetingUpdater); ok {
		t.Error("PublicRooms has UpdateMeeting, but a public room holds no title or time")
	}
	if jitsi.Registration().NoMeetingUpdateNote == "" {
		t.Error("no note says why a changed public room is not sent anything")
	}
}
