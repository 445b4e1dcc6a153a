package main

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/switchboard-dev/switchboard/internal/kmsfake"
	"github.com/switchboard-dev/switchboard/internal/vault"
	"github.com/switchboard-dev/switchboard/internal/vault/vaulttest"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func legacyValue(t *testing.T, keyHex, plaintext string) string {
	t.Helper()
	key, _ := hex.DecodeString(keyHex)
	block, _ := aes.NewCipher(key)
	gcm, _ := cipher.NewGCMWithNonceSize(block, 16)
	iv := make([]byte, 16)
	_, _ = rand.Read(iv)
	out := gcm.Seal(nil, iv, []byte(plaintext), nil)
	return hex.EncodeToString(iv) + ":" + hex.EncodeToString(out[len(out)-16:]) + ":" + hex.EncodeToString(out[:len(out)-16])
}

func TestImportLegacySealsEachLineAndReportsBadOnes(t *testing.T) {
	t.Parallel()
	legacyKey, kek := vaulttest.RandomKEK(t), vaulttest.RandomKEK(t)
	env := envOf(map[string]string{"TOKEN_ENCRYPTION_KEY": legacyKey, "LOCAL_KEK": kek})
	var in strings.Builder
	lines := []legacyIn{
		{Tenant: "t1", Platform: "youtube", Purpose: "access_token", Record: "c1", Value: legacyValue(t, legacyKey, "ya29.first")},
		{Tenant: "t1", Platform: "zoom", Purpose: "refresh_token", Record: "c2", Value: legacyValue(t, legacyKey, "rt-second")},
		{Tenant: "t2", Platform: "zoom", Purpose: "refresh_token", Value: legacyValue(t, vaulttest.RandomKEK(t), "other-key-secret")},
		{Tenant: "t2", Platform: "zoom", Purpose: "tokens", Value: legacyValue(t, legacyKey, "bad-purpose-secret")},
		{Platform: "zoom", Purpose: "api_key", Value: legacyValue(t, legacyKey, "no-tenant-secret")},
	}
	for _, l := range lines {
		b, _ := json.Marshal(l)
		in.Write(b)
		in.WriteString("\n")
	}
	in.WriteString("\nnot json\n")
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"import-legacy"}, strings.NewReader(in.String()), &out, &errOut, env, deps{})
	if code != 1 {
		t.Fatalf("exit %d, want 1 (some lines failed); stderr: %s", code, errOut.String())
	}
	if !strings.Contains(errOut.String(), "2 sealed, 4 failed") {
		t.Fatalf("stderr %q", errOut.String())
	}
	for _, secret := range []string{"ya29.first", "rt-second", "other-key-secret", "bad-purpose-secret", "no-tenant-secret", legacyKey, kek} {
		if strings.Contains(out.String()+errOut.String(), secret) {
			t.Fatalf("output shows %q", secret)
		}
	}
	kr, _ := vault.NewLocalKeyring(kek)
	v := vault.New(kr)
	dec := json.NewDecoder(&out)
	var got []legacyOut
	for dec.More() {
		var o legacyOut
		if err := dec.Decode(&o); err != nil {
			t.Fatal(err)
		}
		got = append(got, o)
	}
	if len(got) != 6 {
		t.Fatalf("%d output lines, want 6", len(got))
	}
	for i, want := range []string{"ya29.first", "rt-second"} {
		o := got[i]
		pt, err := v.OpenString(context.Background(), o.Sealed, vault.Context(o.Tenant, o.Platform, o.Purpose, o.Record))
		if err != nil || string(pt) != want {
			t.Fatalf("line %d: %q, %v", o.Line, pt, err)
		}
	}
	wantErr := []string{"cannot open", "unknown purpose", "required", "not a JSON object"}
	for i, w := range wantErr {
		o := got[2+i]
		if o.Sealed != "" || !strings.Contains(o.Error, w) {
			t.Fatalf("output %d = %+v, want error with %q", 2+i, o, w)
		}
	}
	if got[5].Line != 7 {
		t.Fatalf("line numbers count blank lines: got %d, want 7", got[5].Line)
	}
}

func TestImportLegacyRefusesToStartWithoutKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"no legacy key", map[string]string{"LOCAL_KEK": strings.Repeat("ab", 32)}, "TOKEN_ENCRYPTION_KEY is not set"},
		{"legacy key not hex", map[string]string{"TOKEN_ENCRYPTION_KEY": "xyz", "LOCAL_KEK": strings.Repeat("ab", 32)}, "64 hex digits"},
		{"no keyring", map[string]string{"TOKEN_ENCRYPTION_KEY": strings.Repeat("ab", 32)}, "no keyring configured"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			if code := run(context.Background(), []string{"import-legacy"}, strings.NewReader(""), &out, &errOut, envOf(tt.env), deps{}); code != 2 {
				t.Fatalf("exit %d, want 2", code)
			}
			if !strings.Contains(errOut.String(), tt.want) {
				t.Fatalf("stderr %q, want %q", errOut.String(), tt.want)
			}
		})
	}
}

func TestImportLegacyWithKMSUsesTheSDKConfig(t *testing.T) {
	t.Parallel()
	srv := kmsfake.Start(t)
	legacyKey := vaulttest.RandomKEK(t)
	env := envOf(map[string]string{"TOKEN_ENCRYPTION_KEY": legacyKey, "KMS_KEY_ID": srv.KeyID()})
	d := deps{loadAWS: func(context.Context) (aws.Config, error) { return srv.AWSConfig(), nil }}
	line, _ := json.Marshal(legacyIn{Tenant: "t", Platform: "render", Purpose: "api_key", Record: "r", Value: legacyValue(t, legacyKey, "rnd_key")})
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"import-legacy"}, bytes.NewReader(line), &out, &errOut, env, d); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if srv.Calls(kmsfake.OpGenerateDataKey) != 1 {
		t.Fatal("no data key was taken from KMS")
	}
}

// memStore is a one-page in-memory vault.EnvelopeStore.
type memStore struct {
	mu    sync.Mutex
	items []vault.StoredEnvelope
}

func (s *memStore) ListEnvelopes(context.Context, string) ([]vault.StoredEnvelope, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]vault.StoredEnvelope(nil), s.items...), "", nil
}

func (s *memStore) ReplaceEnvelope(_ context.Context, old vault.StoredEnvelope, sealed []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.items {
		if s.items[i].Ref == old.Ref && bytes.Equal(s.items[i].Sealed, old.Sealed) {
			s.items[i].Sealed = sealed
			return nil
		}
	}
	return vault.ErrEnvelopeChanged
}

func TestRewrapMovesTheStoresEnvelopesToTheTargetKMSKey(t *testing.T) {
	t.Parallel()
	srv := kmsfake.Start(t)
	kr, _ := vault.NewKMSKeyring(srv.Client(), srv.KeyID())
	v := vault.New(kr)
	st := &memStore{}
	for i := range 3 {
		ec := vault.Context("t", "zoom", vault.PurposeTokenSet, fmt.Sprint(i))
		sealed, err := v.Seal(context.Background(), []byte("secret"), ec)
		if err != nil {
			t.Fatal(err)
		}
		st.items = append(st.items, vault.StoredEnvelope{Ref: vault.ItemRef{PK: "p", SK: fmt.Sprint(i), Attr: "tokens"}, Context: ec, Sealed: sealed})
	}
	target := srv.AddKey("next")
	var gotTable string
	d := deps{
		loadAWS: func(context.Context) (aws.Config, error) { return srv.AWSConfig(), nil },
		openStore: func(_ context.Context, _ aws.Config, table string) (vault.EnvelopeStore, error) {
			gotTable = table
			return st, nil
		},
	}
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"rewrap", "-to", target}, nil, &out, &errOut, envOf(map[string]string{"TABLE_NAME": "switchboard"}), d)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var res rewrapSummary
	if err := json.Unmarshal(out.Bytes(), &res); err != nil || res.Moved != 3 || !res.Done || gotTable != "switchboard" {
		t.Fatalf("result %s (%v), table %q", out.String(), err, gotTable)
	}
	if !strings.Contains(errOut.String(), `"done":true`) {
		t.Fatalf("no progress line: %s", errOut.String())
	}
	if srv.Calls(kmsfake.OpReEncrypt) != 3 {
		t.Fatalf("%d ReEncrypt calls", srv.Calls(kmsfake.OpReEncrypt))
	}
}

func TestRewrapUsageAndUnwiredStore(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		d    deps
		code int
		want string
	}{
		{"no target", []string{"rewrap", "-table", "t"}, deps{}, 2, "-to"},
		{"no table", []string{"rewrap", "-to", "arn:k"}, deps{}, 2, "table"},
		{"store not wired", []string{"rewrap", "-table", "t", "-to", "arn:k"}, deps{}, 2, "rewrap store not wired"},
		{"no command", nil, deps{}, 2, "usage"},
		{"unknown command", []string{"rotate"}, deps{}, 2, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			if code := run(context.Background(), tt.args, nil, &out, &errOut, envOf(nil), tt.d); code != tt.code || !strings.Contains(errOut.String(), tt.want) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, errOut.String(), tt.code, tt.want)
			}
		})
	}
}
