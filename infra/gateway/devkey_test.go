package gateway_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/infra/gateway"
)

func mustKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestDevKeyIsKeptSoTokensOutliveARestart(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "dev", "jwt-es256.pem")
	first, err := gateway.LoadOrCreateDevKey(path)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := first.Token("u1", "t1", time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	second, err := gateway.LoadOrCreateDevKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if second.KeyID() != first.KeyID() {
		t.Fatalf("kid changed across loads: %s then %s", first.KeyID(), second.KeyID())
	}
	jwt, err := second.Authorizer().Verify("Bearer " + tok)
	if err != nil {
		t.Fatal(err)
	}
	if jwt.Claims["sub"] != "u1" || jwt.Claims["tenant_id"] != "t1" {
		t.Fatalf("claims %v", jwt.Claims)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", info.Mode().Perm())
	}
}

func TestConcurrentFirstLoadsAgreeOnOneKey(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "jwt-es256.pem")
	kids := make([]string, 8)
	var wg sync.WaitGroup
	for i := range kids {
		wg.Go(func() {
			k, err := gateway.LoadOrCreateDevKey(path)
			if err != nil {
				t.Error(err)
				return
			}
			kids[i] = k.KeyID()
		})
	}
	wg.Wait()
	for _, k := range kids[1:] {
		if k != kids[0] {
			t.Fatalf("loads disagree: %v", kids)
		}
	}
}

func TestLoadOrCreateDevKeyRefusesAFileThatIsNotAP256Key(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "jwt-es256.pem")
	if err := os.WriteFile(path, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := gateway.LoadOrCreateDevKey(path); err == nil {
		t.Fatal("loaded garbage as a key")
	}
}

func TestJWKSPublishesThePublicKeyUnderItsKid(t *testing.T) {
	t.Parallel()
	k, err := gateway.NewDevKey()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := k.JWKS()
	if err != nil {
		t.Fatal(err)
	}
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(raw, &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("%v %s", err, raw)
	}
	j := set.Keys[0]
	if j["kty"] != "EC" || j["crv"] != "P-256" || j["alg"] != "ES256" || j["kid"] != k.KeyID() || len(j["x"]) != 43 || len(j["y"]) != 43 {
		t.Fatalf("jwk %v", j)
	}
	if _, ok := j["d"]; ok {
		t.Fatal("the JWKS holds the private key")
	}
}

func TestTokenCarriesTheTenantUnderTheConfiguredClaim(t *testing.T) {
	t.Parallel()
	k, _ := gateway.NewDevKey()
	k.TenantClaim = "org"
	tok, err := k.Token("u", "acme", time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	jwt, err := k.Authorizer().Verify("bearer " + tok)
	if err != nil {
		t.Fatal(err)
	}
	if jwt.Claims["org"] != "acme" || jwt.Claims["tenant_id"] != "" {
		t.Fatalf("claims %v", jwt.Claims)
	}
}

func TestStringifyClaimFollowsAPIGateway(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   any
		want string
	}{
		{"plain", "plain"},
		{json.Number("1795341600"), "1795341600"},
		{json.Number("1.5"), "1.5"},
		{true, "true"},
		{[]any{"a", "b", json.Number("3")}, "[a b 3]"},
		{[]any{}, "[]"},
		{map[string]any{"b": "2", "a": []any{"x"}}, "map[a:[x] b:2]"},
		{nil, ""},
	}
	for _, c := range cases {
		if got := gateway.StringifyClaim(c.in); got != c.want {
			t.Errorf("StringifyClaim(%#v) = %q, want %q", c.in, got, c.want)
		}
	}
}
