package jitsi

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/switchboard-dev/switchboard/internal/platform"
)

// AppIDPrefix starts every 8x8 JaaS app id ("vpaas-magic-cookie-" and 32
// hex digits, as the JaaS console shows it and 8x8's JWT examples use it).
const AppIDPrefix = "vpaas-magic-cookie-"

// MinKeyBits is the smallest RSA key accepted.
const MinKeyBits = 2048

// Credential keys in the map a user submits (POST /connections/jitsi
// {credentials:{appId, keyId, privateKey}}).
const (
	CredAppID      = "appId"
	CredKeyID      = "keyId"
	CredPrivateKey = "privateKey"
)

// Credentials are a JaaS app's signing credentials.
type Credentials struct {
	AppID string
	// KeyID is the API key's id as the JaaS console lists it; the JWT
	// header's kid is AppID + "/" + KeyID.
	KeyID      string
	PrivateKey *rsa.PrivateKey
}

// Kid is the JWT header's key id: "{appId}/{keyId}".
func (c Credentials) Kid() string { return c.AppID + "/" + c.KeyID }

func credError(msg string) error {
	return &platform.Error{Platform: ID, Op: "verify credentials", Reason: platform.ReasonInvalid, Message: msg}
}

// ParseCredentials reads and checks a JaaS app's credentials: appId must
// start with "vpaas-magic-cookie-"; keyId must be there (a full kid,
// "{appId}/{keyId}", is accepted too); privateKey must be a PEM RSA
// private key of at least 2048 bits, PKCS#1 ("RSA PRIVATE KEY") or PKCS#8
// ("PRIVATE KEY"), unencrypted. Literal "\n" sequences (a key pasted
// through JSON or an environment variable) are read as line breaks.
// Errors are *platform.Error with ReasonInvalid and never quote the key.
func ParseCredentials(m map[string]string) (Credentials, error) {
	appID := strings.TrimSpace(m[CredAppID])
	keyID := strings.TrimSpace(m[CredKeyID])
	keyPEM := strings.TrimSpace(m[CredPrivateKey])
	switch {
	case appID == "":
		return Credentials{}, credError("appId is missing")
	case !strings.HasPrefix(appID, AppIDPrefix) || len(appID) == len(AppIDPrefix) || strings.ContainsAny(appID, "/ ?#"):
		return Credentials{}, credError("appId is not an 8x8 JaaS app id (it starts with " + AppIDPrefix + ")")
	}
	keyID = strings.TrimPrefix(keyID, appID+"/")
	switch {
	case keyID == "":
		return Credentials{}, credError("keyId is missing")
	case strings.ContainsAny(keyID, "/ "):
		return Credentials{}, credError("keyId is not a JaaS API key id")
	case keyPEM == "":
		return Credentials{}, credError("privateKey is missing")
	}
	key, err := parseRSAKey(keyPEM)
	if err != nil {
		return Credentials{}, credError("privateKey: " + err.Error())
	}
	return Credentials{AppID: appID, KeyID: keyID, PrivateKey: key}, nil
}

func parseRSAKey(s string) (*rsa.PrivateKey, error) {
	if !strings.Contains(s, "\n") {
		s = strings.ReplaceAll(s, `\n`, "\n")
	}
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return nil, errors.New("not a PEM block (expected -----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----)")
	}
	if block.Headers["Proc-Type"] != "" {
		return nil, errors.New("the key is encrypted; give it without a passphrase")
	}
	var key *rsa.PrivateKey
	switch block.Type {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("not a valid PKCS#1 RSA private key")
		}
		key = k
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("not a valid PKCS#8 private key")
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("a %T, not an RSA key: JaaS signs with RS256", k)
		}
		key = rk
	case "PUBLIC KEY", "RSA PUBLIC KEY", "CERTIFICATE":
		return nil, errors.New("this is the public key; give the private key (the public one stays in the JaaS console)")
	default:
		return nil, fmt.Errorf("a PEM %q block, not an RSA private key", block.Type)
	}
	if bits := key.N.BitLen(); bits < MinKeyBits {
		return nil, fmt.Errorf("the RSA key has %d bits; at least %d are needed", bits, MinKeyBits)
	}
	if err := key.Validate(); err != nil {
		return nil, errors.New("the RSA key is inconsistent")
	}
	return key, nil
}

// User is context.user in a JaaS token.
type User struct {
	ID        string `json:"id"`
	Name      string `json:"name,omitempty"`
	Email     string `json:"email,omitempty"`
	Moderator string `json:"moderator"` // "true" or "false": JaaS takes strings
}

// Context is a JaaS token's context claim.
type Context struct {
	User     User              `json:"user"`
	Features map[string]string `json:"features,omitempty"`
}

// Claims are a JaaS token's claims. aud is a single string ("jitsi"), as
// JaaS expects, not the array golang-jwt would write for
// RegisteredClaims.
type Claims struct {
	Aud     string  `json:"aud"`
	Iss     string  `json:"iss"`
	Sub     string  `json:"sub"`
	Room    string  `json:"room"`
	Exp     int64   `json:"exp"`
	Nbf     int64   `json:"nbf"`
	Iat     int64   `json:"iat,omitempty"`
	Context Context `json:"context"`
}

func (c Claims) GetExpirationTime() (*jwt.NumericDate, error) { return unix(c.Exp), nil }
func (c Claims) GetIssuedAt() (*jwt.NumericDate, error)       { return unix(c.Iat), nil }
func (c Claims) GetNotBefore() (*jwt.NumericDate, error)      { return unix(c.Nbf), nil }
func (c Claims) GetIssuer() (string, error)                   { return c.Iss, nil }
func (c Claims) GetSubject() (string, error)                  { return c.Sub, nil }
func (c Claims) GetAudience() (jwt.ClaimStrings, error)       { return jwt.ClaimStrings{c.Aud}, nil }

func unix(s int64) *jwt.NumericDate {
	if s == 0 {
		return nil
	}
	return jwt.NewNumericDate(time.Unix(s, 0))
}

// Token timing around the meeting.
const (
	EarlyJoin  = 10 * time.Minute // nbf: the start less this
	LateExpiry = time.Hour        // exp: the end plus this
)

// JaaS makes 8x8 JaaS meetings with an app's credentials.
type JaaS struct {
	creds Credentials
	base  string
	now   func() time.Time
}

var _ platform.Meeter = (*JaaS)(nil)

// JaaSOption changes a JaaS.
type JaaSOption func(*JaaS)

// WithClock sets the clock (tests).
func WithClock(now func() time.Time) JaaSOption { return func(j *JaaS) { j.now = now } }

// NewJaaS makes meetings for the app under baseURL ("" for
// https://8x8.vc; JITSI_API_URL).
func NewJaaS(creds Credentials, baseURL string, opts ...JaaSOption) *JaaS {
	if baseURL == "" {
		baseURL = DefaultJaaSURL
	}
	j := &JaaS{creds: creds, base: strings.TrimSuffix(baseURL, "/"), now: time.Now}
	for _, o := range opts {
		o(j)
	}
	return j
}

// Verify checks credentials as a connection is made: they parse (see
// ParseCredentials), and a test token signed with the private key verifies
// with its public key. It is the account the credentials are for.
func Verify(m map[string]string) (platform.Account, error) {
	creds, err := ParseCredentials(m)
	if err != nil {
		return platform.Account{}, err
	}
	j := NewJaaS(creds, "")
	now := time.Now()
	tok, err := j.sign(Claims{Room: "*", Nbf: now.Add(-time.Minute).Unix(), Exp: now.Add(time.Minute).Unix(),
		Context: Context{User: User{ID: "switchboard-verify", Moderator: "false"}}})
	if err != nil {
		return platform.Account{}, credError("privateKey cannot sign: " + err.Error())
	}
	if _, err := j.VerifyToken(tok, now); err != nil {
		return platform.Account{}, credError("a token signed with privateKey does not verify with its public key")
	}
	return j.Whoami(context.Background(), "")
}

// Whoami is the app: ID the app id, Name "8x8 JaaS <appId>".
func (j *JaaS) Whoami(context.Context, string) (platform.Account, error) {
	return platform.Account{ID: j.creds.AppID, Name: "8x8 JaaS " + j.creds.AppID,
		Extra: map[string]string{"keyId": j.creds.KeyID}}, nil
}

// CreateMeeting makes a room and two signed links to it,
// <base>/<appId>/<room>?jwt=<token>: HostURL with a moderator token (the
// host's name and e-mail from the spec; live streaming and recording
// allowed) and JoinURL with a participant token. Both are valid from ten
// minutes before the start until an hour after the end. Nothing is sent to
// 8x8.
func (j *JaaS) CreateMeeting(_ context.Context, _ string, spec platform.MeetingSpec) (platform.Meeting, error) {
	spec, err := spec.Normalize(ID, j.now())
	if err != nil {
		return platform.Meeting{}, err
	}
	room, err := RoomName(spec.Title)
	if err != nil {
		return platform.Meeting{}, err
	}
	return j.links(room, spec)
}

// UpdateMeeting signs the room's two links again for the changed times:
// their tokens are valid only from ten minutes before the start until an
// hour after the end (nbf and exp), so links signed for the old times
// would not open the moved meeting. The room stays, so the room name
// keeps the old title's slug; nothing is sent to 8x8. The old links stay
// valid until their own exp: a signed JWT cannot be revoked.
// Evidence: PLATFORMS.md Jitsi (JaaS claims exp, nbf); VerifyToken checks both, as JaaS does.
func (j *JaaS) UpdateMeeting(_ context.Context, _ string, m platform.Meeting, spec platform.MeetingSpec) (platform.Meeting, error) {
	spec, err := spec.NormalizeChange(ID)
	if err != nil {
		return m, err
	}
	if m.ExternalID == "" {
		return m, &platform.Error{Platform: ID, Op: "update meeting", Reason: platform.ReasonInvalid, Message: "no room name"}
	}
	return j.links(m.ExternalID, spec)
}

// links are the meeting in room: its moderator and participant links,
// signed for the spec's times.
func (j *JaaS) links(room string, spec platform.MeetingSpec) (platform.Meeting, error) {
	base := Claims{Room: room, Nbf: spec.Start.Add(-EarlyJoin).Unix(), Exp: spec.End().Add(LateExpiry).Unix(), Iat: j.now().Unix()}

	host := base
	hostID := spec.HostEmail
	if hostID == "" {
		hostID = "host"
	}
	host.Context = Context{
		User:     User{ID: hostID, Name: spec.HostName, Email: spec.HostEmail, Moderator: "true"},
		Features: map[string]string{"livestreaming": "true", "recording": "true"},
	}
	guest := base
	guest.Context = Context{
		User:     User{ID: "participant", Moderator: "false"},
		Features: map[string]string{"livestreaming": "false", "recording": "false"},
	}
	hostTok, err := j.sign(host)
	if err != nil {
		return platform.Meeting{}, err
	}
	guestTok, err := j.sign(guest)
	if err != nil {
		return platform.Meeting{}, err
	}
	roomURL := j.base + "/" + url.PathEscape(j.creds.AppID) + "/" + room
	return platform.Meeting{ExternalID: room, JoinURL: roomURL + "?jwt=" + guestTok, HostURL: roomURL + "?jwt=" + hostTok,
		Extra: map[string]string{"room": room, "appId": j.creds.AppID, "roomUrl": roomURL}}, nil
}

// sign fills aud, iss and sub and signs RS256 with kid {appId}/{keyId}.
func (j *JaaS) sign(c Claims) (string, error) {
	c.Aud, c.Iss, c.Sub = "jitsi", "chat", j.creds.AppID
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	t.Header["kid"] = j.creds.Kid()
	s, err := t.SignedString(j.creds.PrivateKey)
	if err != nil {
		return "", &platform.Error{Platform: ID, Op: "sign token", Reason: platform.ReasonInvalid, Message: "the private key cannot sign"}
	}
	return s, nil
}

// VerifyToken checks a token as JaaS would at time at: RS256 only, signed
// by this app's key (kid {appId}/{keyId}), aud "jitsi", iss "chat", sub the
// app id, within nbf and exp.
func (j *JaaS) VerifyToken(tok string, at time.Time) (*Claims, error) {
	var c Claims
	t, err := jwt.ParseWithClaims(tok, &c, func(t *jwt.Token) (any, error) {
		if kid, _ := t.Header["kid"].(string); kid != j.creds.Kid() {
			return nil, fmt.Errorf("kid %q is not this app's key %q", kid, j.creds.Kid())
		}
		return &j.creds.PrivateKey.PublicKey, nil
	}, jwt.WithValidMethods([]string{jwt.SigningMethodRS256.Alg()}), jwt.WithAudience("jitsi"), jwt.WithIssuer("chat"),
		jwt.WithSubject(j.creds.AppID), jwt.WithTimeFunc(func() time.Time { return at }),
		jwt.WithExpirationRequired(), jwt.WithNotBeforeRequired())
	if err != nil {
		return nil, fmt.Errorf("jitsi: token: %w", err)
	}
	if !t.Valid {
		return nil, errors.New("jitsi: token not valid")
	}
	return &c, nil
}
