package gateway

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The issuer and audience dev tokens carry, and the local gateway accepts,
// unless configured otherwise.
const (
	DefaultIssuer      = "https://auth.switchboard.local/"
	DefaultAudience    = "switchboard"
	DefaultTenantClaim = "tenant_id"
)

// DevKey is the local development signing key: an ECDSA P-256 key that
// mints ES256 tokens for the local gateway, the way the real identity
// provider mints them for API Gateway.
type DevKey struct {
	Issuer      string // DefaultIssuer unless set
	Audience    string // DefaultAudience unless set
	TenantClaim string // DefaultTenantClaim unless set
	key         *ecdsa.PrivateKey
	kid         string
}

// NewDevKey generates a fresh key.
func NewDevKey() (*DevKey, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("gateway: generating the dev key: %w", err)
	}
	return newDevKey(k)
}

// LoadOrCreateDevKey reads a PKCS#8 PEM P-256 key from path, or generates one
// and writes it there (mode 0600, the folder 0700) so tokens outlive
// restarts.
// When two processes create it at once, both end up with the one that was
// written first.
func LoadOrCreateDevKey(path string) (*DevKey, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		k, genErr := NewDevKey()
		if genErr != nil {
			return nil, genErr
		}
		der, encErr := x509.MarshalPKCS8PrivateKey(k.key)
		if encErr != nil {
			return nil, fmt.Errorf("gateway: encoding the dev key: %w", encErr)
		}
		werr := writeNewFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
		if werr == nil {
			return k, nil
		}
		if !errors.Is(werr, fs.ErrExist) {
			return nil, fmt.Errorf("gateway: saving the dev key: %w", werr)
		}
		raw, err = os.ReadFile(path) // another process was first
	}
	if err != nil {
		return nil, fmt.Errorf("gateway: reading the dev key: %w", err)
	}
	block, _ := pem.Decode(raw)
	if block == nil {
		return nil, fmt.Errorf("gateway: %s holds no PEM block; delete it to get a new key", path)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		if parsed, err = x509.ParseECPrivateKey(block.Bytes); err != nil {
			return nil, fmt.Errorf("gateway: %s is not a PKCS#8 or SEC 1 private key: %w", path, err)
		}
	}
	k, ok := parsed.(*ecdsa.PrivateKey)
	if !ok || k.Curve != elliptic.P256() {
		return nil, fmt.Errorf("gateway: %s is not an ECDSA P-256 key (ES256 needs one); delete it to get a new key", path)
	}
	return newDevKey(k)
}

func newDevKey(k *ecdsa.PrivateKey) (*DevKey, error) {
	kid, err := thumbprint(&k.PublicKey)
	if err != nil {
		return nil, err
	}
	return &DevKey{Issuer: DefaultIssuer, Audience: DefaultAudience, TenantClaim: DefaultTenantClaim, key: k, kid: kid}, nil
}

// KeyID is the key's id, its RFC 7638 JWK thumbprint.
func (k *DevKey) KeyID() string { return k.kid }

// PublicKey is the verifying key.
func (k *DevKey) PublicKey() *ecdsa.PublicKey { return &k.key.PublicKey }

// Authorizer verifies what Token mints: this key, its issuer and audience.
func (k *DevKey) Authorizer() *Authorizer {
	return &Authorizer{
		Issuer:    k.Issuer,
		Audiences: []string{k.Audience},
		Keys:      map[string]*ecdsa.PublicKey{k.kid: k.PublicKey()},
	}
}

// Token mints an ES256 token for user sub of tenant, valid for ttl (a
// negative ttl gives an expired token, for tests). It carries iss, aud, sub,
// the tenant claim, iat, nbf, exp and a random jti; extra adds claims or
// replaces any of these, and a nil value in extra removes the claim.
func (k *DevKey) Token(sub, tenant string, ttl time.Duration, extra map[string]any) (string, error) {
	now := time.Now()
	claims := jwt.MapClaims{
		"iss": k.Issuer,
		"aud": k.Audience,
		"sub": sub,
		"iat": now.Unix(),
		"nbf": now.Unix(),
		"exp": now.Add(ttl).Unix(),
		"jti": NewUUID(),
	}
	if tenant != "" {
		claim := k.TenantClaim
		if claim == "" {
			claim = DefaultTenantClaim
		}
		claims[claim] = tenant
	}
	for c, v := range extra {
		if v == nil {
			delete(claims, c)
			continue
		}
		claims[c] = v
	}
	t := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	t.Header["kid"] = k.kid
	s, err := t.SignedString(k.key)
	if err != nil {
		return "", fmt.Errorf("gateway: signing a dev token: %w", err)
	}
	return s, nil
}

// jwk is a public EC key as a JSON Web Key.
type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	Kid string `json:"kid,omitempty"`
	Use string `json:"use,omitempty"`
	Alg string `json:"alg,omitempty"`
}

func publicJWK(pub *ecdsa.PublicKey) (jwk, error) {
	raw, err := pub.Bytes() // 0x04 || X || Y, 32 bytes each for P-256
	if err != nil {
		return jwk{}, fmt.Errorf("gateway: encoding the public key: %w", err)
	}
	enc := base64.RawURLEncoding
	return jwk{Kty: "EC", Crv: "P-256", X: enc.EncodeToString(raw[1:33]), Y: enc.EncodeToString(raw[33:65])}, nil
}

// JWKS is the public key as a JSON Web Key Set, what an identity provider
// serves at its jwks_uri.
func (k *DevKey) JWKS() ([]byte, error) {
	j, err := publicJWK(k.PublicKey())
	if err != nil {
		return nil, err
	}
	j.Kid, j.Use, j.Alg = k.kid, "sig", "ES256"
	return json.MarshalIndent(map[string][]jwk{"keys": {j}}, "", "  ")
}

func thumbprint(pub *ecdsa.PublicKey) (string, error) {
	j, err := publicJWK(pub)
	if err != nil {
		return "", err
	}
	// RFC 7638: the required members in lexicographic order, no spaces.
	canon := fmt.Sprintf(`{"crv":%q,"kty":%q,"x":%q,"y":%q}`, j.Crv, j.Kty, j.X, j.Y)
	sum := sha256.Sum256([]byte(canon))
	return base64.RawURLEncoding.EncodeToString(sum[:]), nil
}

// writeNewFile writes data to path with mode 0600, creating the folder with
// mode 0700. The file appears whole or not at all (a temporary file, then a
// hard link), and fs.ErrExist means path already exists.
func writeNewFile(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Link(f.Name(), path)
}
