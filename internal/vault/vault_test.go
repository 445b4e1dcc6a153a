package vault_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/vault"
	"github.com/switchboard-dev/switchboard/internal/vault/vaulttest"
)

var bg = context.Background()

func ecFor(record string) vault.EncryptionContext {
	return vault.Context("tenant-1", "youtube", vault.PurposeAccessToken, record)
}

// openErr is true when err is one of the errors Open gives for input that
// does not open.
func openErr(err error) bool {
	return errors.Is(err, vault.ErrCannotOpen) || errors.Is(err, vault.ErrMalformed) || errors.Is(err, vault.ErrUnknownVersion)
}

func TestSealThenOpenWithSameContextGivesPlaintextBack(t *testing.T) {
	t.Parallel()
	v := vaulttest.Local(t)
	tests := []struct {
		name      string
		plaintext []byte
	}{
		{"empty", []byte{}},
		{"one byte", []byte{0}},
		{"access token", []byte("ya29.a0AfB_byC-access-token")},
		{"binary", []byte{0xff, 0x00, 0x80, 0x7f}},
		{"largest allowed", bytes.Repeat([]byte("k"), vault.MaxPlaintext)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ec := ecFor(tt.name)
			sealed, err := v.Seal(bg, tt.plaintext, ec)
			if err != nil {
				t.Fatal(err)
			}
			if len(tt.plaintext) > 3 && bytes.Contains(sealed, tt.plaintext) {
				t.Fatal("envelope contains the plaintext")
			}
			got, err := v.Open(bg, sealed, ec)
			if err != nil {
				t.Fatal(err)
			}
			if got == nil || !bytes.Equal(got, tt.plaintext) {
				t.Fatalf("Open gave %d bytes, want %d", len(got), len(tt.plaintext))
			}
		})
	}
}

func TestOpenWithAnotherContextFailsWithErrCannotOpen(t *testing.T) {
	t.Parallel()
	v := vaulttest.Local(t)
	ec := vault.Context("tenant-1", "zoom", vault.PurposeRefreshToken, "conn-1")
	sealed, err := v.Seal(bg, []byte("refresh-token-value"), ec)
	if err != nil {
		t.Fatal(err)
	}
	// Open once with the right context so the data key is cached: the
	// cache must not let another context through.
	if _, err := v.Open(bg, sealed, ec); err != nil {
		t.Fatal(err)
	}
	with := func(k, val string) vault.EncryptionContext {
		c := ec.Clone()
		if val == "" {
			delete(c, k)
		} else {
			c[k] = val
		}
		return c
	}
	tests := []struct {
		name string
		ec   vault.EncryptionContext
	}{
		{"another tenant", with(vault.KeyTenant, "tenant-2")},
		{"another platform", with(vault.KeyPlatform, "youtube")},
		{"another purpose", with(vault.KeyPurpose, vault.PurposeAccessToken)},
		{"another record", with(vault.KeyRecord, "conn-2")},
		{"a missing pair", with(vault.KeyRecord, "")},
		{"an extra pair", with("extra", "x")},
		{"a key renamed", vault.EncryptionContext{"tenant": "tenant-1", "platform": "zoom", "purpose": "refresh_token", "recordx": "conn-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := v.Open(bg, sealed, tt.ec)
			if !errors.Is(err, vault.ErrCannotOpen) || got != nil {
				t.Fatalf("Open = %q, %v; want nil, ErrCannotOpen", got, err)
			}
			if !strings.Contains(err.Error(), "context") {
				t.Fatalf("error %q should say the context may be wrong", err)
			}
		})
	}
}

func TestOpenFailsWhenAnyByteOfTheEnvelopeIsFlipped(t *testing.T) {
	t.Parallel()
	for _, warm := range []bool{false, true} {
		t.Run(fmt.Sprintf("warm cache %v", warm), func(t *testing.T) {
			t.Parallel()
			v := vaulttest.Local(t)
			ec := ecFor("tamper")
			sealed, err := v.Seal(bg, []byte("stream-key-abcd-efgh"), ec)
			if err != nil {
				t.Fatal(err)
			}
			if warm {
				if _, err := v.Open(bg, sealed, ec); err != nil {
					t.Fatal(err)
				}
			}
			for i := range sealed {
				for _, mask := range []byte{0xff, 0x01, 0x80} {
					bad := bytes.Clone(sealed)
					bad[i] ^= mask
					if got, err := v.Open(bg, bad, ec); !openErr(err) || got != nil {
						t.Fatalf("byte %d ^ %#x: Open = %d bytes, %v", i, mask, len(got), err)
					}
				}
			}
			if _, err := v.Open(bg, sealed, ec); err != nil {
				t.Fatalf("the original no longer opens: %v", err)
			}
		})
	}
}

func TestOpenRejectsEmptyAndTruncatedInput(t *testing.T) {
	t.Parallel()
	v := vaulttest.Local(t)
	ec := ecFor("trunc")
	sealed, err := v.Seal(bg, []byte("api-key-123"), ec)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range [][]byte{nil, {}, []byte(vault.TextPrefix), []byte("sb1.!!")} {
		if _, err := v.Open(bg, in, ec); !errors.Is(err, vault.ErrMalformed) {
			t.Fatalf("Open(%q) = %v, want ErrMalformed", in, err)
		}
	}
	for n := range len(sealed) {
		if got, err := v.Open(bg, sealed[:n], ec); !openErr(err) || got != nil {
			t.Fatalf("first %d of %d bytes: %v", n, len(sealed), err)
		}
	}
	text := vault.EncodeString(sealed)
	for n := range len(text) {
		if _, err := v.OpenString(bg, text[:n], ec); !openErr(err) {
			t.Fatalf("first %d chars of the text form: %v", n, err)
		}
	}
	if _, err := v.Open(bg, append(bytes.Clone(sealed), 0), ec); !errors.Is(err, vault.ErrCannotOpen) {
		t.Fatalf("a byte appended: %v", err)
	}
}

func TestOpenRejectsUnknownVersion(t *testing.T) {
	t.Parallel()
	v := vaulttest.Local(t)
	ec := ecFor("version")
	sealed, err := v.Seal(bg, []byte("x"), ec)
	if err != nil {
		t.Fatal(err)
	}
	for _, ver := range []byte{0x00, 0x02, 0x7f, 0xff} {
		bad := bytes.Clone(sealed)
		bad[2] = ver
		if _, err := v.Open(bg, bad, ec); !errors.Is(err, vault.ErrUnknownVersion) {
			t.Fatalf("version %#x: %v", ver, err)
		}
		if _, err := vault.Inspect(bad); !errors.Is(err, vault.ErrUnknownVersion) {
			t.Fatalf("Inspect version %#x: %v", ver, err)
		}
	}
}

func TestOpenRejectsInputThatIsNotAnEnvelope(t *testing.T) {
	t.Parallel()
	v := vaulttest.Local(t)
	ec := ecFor("junk")
	for _, in := range []string{"S", "SB", "hello world", "iv:tag:ct", "{\"a\":1}", "SX\x01\x00\x01a"} {
		if _, err := v.Open(bg, []byte(in), ec); !errors.Is(err, vault.ErrMalformed) {
			t.Fatalf("Open(%q) = %v, want ErrMalformed", in, err)
		}
	}
}

func TestSealRejectsInvalidContextAndOversizedPlaintext(t *testing.T) {
	t.Parallel()
	v := vaulttest.Local(t)
	many := vault.EncryptionContext{}
	for i := range 17 {
		many[fmt.Sprint("k", i)] = "v"
	}
	tests := []struct {
		name string
		ec   vault.EncryptionContext
		pt   []byte
		want error
	}{
		{"nil context", nil, []byte("x"), vault.ErrInvalidContext},
		{"empty context", vault.EncryptionContext{}, []byte("x"), vault.ErrInvalidContext},
		{"empty key", vault.EncryptionContext{"": "v"}, []byte("x"), vault.ErrInvalidContext},
		{"empty value", vault.EncryptionContext{"k": ""}, []byte("x"), vault.ErrInvalidContext},
		{"long key", vault.EncryptionContext{strings.Repeat("k", 129): "v"}, []byte("x"), vault.ErrInvalidContext},
		{"long value", vault.EncryptionContext{"k": strings.Repeat("v", 1025)}, []byte("x"), vault.ErrInvalidContext},
		{"not UTF-8", vault.EncryptionContext{"k": "\xff"}, []byte("x"), vault.ErrInvalidContext},
		{"17 pairs", many, []byte("x"), vault.ErrInvalidContext},
		{"plaintext too large", ecFor("big"), make([]byte, vault.MaxPlaintext+1), vault.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := v.Seal(bg, tt.pt, tt.ec); !errors.Is(err, tt.want) {
				t.Fatalf("Seal: %v, want %v", err, tt.want)
			}
		})
	}
	if s := v.Stats(); s.KeyringCalls != 0 {
		t.Fatalf("rejected Seals made %d keyring calls", s.KeyringCalls)
	}
}

func TestEachSealUsesAFreshDataKeyAndNonce(t *testing.T) {
	t.Parallel()
	v := vaulttest.Local(t)
	ec := ecFor("fresh")
	a, err := v.Seal(bg, []byte("same"), ec)
	if err != nil {
		t.Fatal(err)
	}
	b, err := v.Seal(bg, []byte("same"), ec)
	if err != nil {
		t.Fatal(err)
	}
	pa, pb := parse(t, a), parse(t, b)
	if bytes.Equal(pa.edk, pb.edk) || bytes.Equal(pa.nonce, pb.nonce) || bytes.Equal(pa.body, pb.body) {
		t.Fatal("two Seals shared a data key, nonce or body")
	}
	if got := v.Stats().KeyringCalls; got != 2 {
		t.Fatalf("keyring calls = %d, want 2", got)
	}
}

func TestTextFormRoundTripsAndOpens(t *testing.T) {
	t.Parallel()
	v := vaulttest.Local(t)
	ec := ecFor("text")
	s, err := v.SealString(bg, []byte("pkce-verifier"), ec)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s, "sb1.") || strings.ContainsAny(s, "+/=") {
		t.Fatalf("text form %q is not sb1. + unpadded base64url", s)
	}
	got, err := v.OpenString(bg, s, ec)
	if err != nil || string(got) != "pkce-verifier" {
		t.Fatalf("OpenString = %q, %v", got, err)
	}
	raw, err := vault.DecodeString(s)
	if err != nil || vault.EncodeString(raw) != s {
		t.Fatalf("DecodeString: %v", err)
	}
	if got, err := v.Open(bg, raw, ec); err != nil || string(got) != "pkce-verifier" {
		t.Fatalf("Open(binary) = %q, %v", got, err)
	}
}

// parsed follows the layout in the package doc, independently of the
// package's own parser.
type parsed struct {
	version      byte
	keyID        string
	edk, nonce   []byte
	body         []byte
	headerLength int
}

func parse(t *testing.T, b []byte) parsed {
	t.Helper()
	if b[0] != 'S' || b[1] != 'B' {
		t.Fatalf("magic %q", b[:2])
	}
	l := int(binary.BigEndian.Uint16(b[3:5]))
	keyID := string(b[5 : 5+l])
	e := int(binary.BigEndian.Uint16(b[5+l : 7+l]))
	edk := b[7+l : 7+l+e]
	nonce := b[7+l+e : 19+l+e]
	return parsed{version: b[2], keyID: keyID, edk: edk, nonce: nonce, body: b[19+l+e:], headerLength: 19 + l + e}
}

// spyKeyring records the data keys it hands out.
type spyKeyring struct {
	vault.Keyring
	keys [][]byte // copies
}

func (s *spyKeyring) GenerateDataKey(ctx context.Context, ec vault.EncryptionContext) (vault.DataKey, error) {
	dk, err := s.Keyring.GenerateDataKey(ctx, ec)
	s.keys = append(s.keys, bytes.Clone(dk.Plaintext))
	return dk, err
}

func TestEnvelopeLayoutMatchesThePackageDoc(t *testing.T) {
	t.Parallel()
	local, err := vault.NewLocalKeyring(vaulttest.RandomKEK(t))
	if err != nil {
		t.Fatal(err)
	}
	spy := &spyKeyring{Keyring: local}
	v := vault.New(spy)
	ec := vault.Context("t", "jitsi", vault.PurposePrivateKey, "r")
	plaintext := []byte("-----BEGIN PRIVATE KEY-----")
	sealed, err := v.Seal(bg, plaintext, ec)
	if err != nil {
		t.Fatal(err)
	}
	p := parse(t, sealed)
	if p.version != 1 || p.keyID != local.KeyID() || !strings.HasPrefix(p.keyID, "local:") || len(p.keyID) != len("local:")+16 {
		t.Fatalf("version %d key id %q", p.version, p.keyID)
	}
	if len(p.edk) != 12+32+16 || len(p.body) != len(plaintext)+16 || len(sealed) != p.headerLength+len(plaintext)+16 {
		t.Fatalf("edk %d body %d total %d", len(p.edk), len(p.body), len(sealed))
	}
	// Decrypt the body by hand: AES-256-GCM, AAD = label, version, canonical context.
	block, _ := aes.NewCipher(spy.keys[0])
	gcm, _ := cipher.NewGCM(block)
	aad := append([]byte("switchboard/vault\x00\x01"), ec.Canonical()...)
	got, err := gcm.Open(nil, p.nonce, p.body, aad)
	if err != nil || !bytes.Equal(got, plaintext) {
		t.Fatalf("body does not open as documented: %v", err)
	}
	info, err := vault.Inspect(sealed)
	if err != nil || info.KeyID != p.keyID || info.Size != len(plaintext) || info.Version != 1 {
		t.Fatalf("Inspect = %+v, %v", info, err)
	}
}

func TestCanonicalContextEncodingIsSortedAndLengthPrefixed(t *testing.T) {
	t.Parallel()
	ec := vault.EncryptionContext{"purpose": "api_key", "a": "xy"}
	want := []byte{0, 2, 0, 1, 'a', 0, 2, 'x', 'y', 0, 7, 'p', 'u', 'r', 'p', 'o', 's', 'e', 0, 7, 'a', 'p', 'i', '_', 'k', 'e', 'y'}
	if got := ec.Canonical(); !bytes.Equal(got, want) {
		t.Fatalf("Canonical = %v, want %v", got, want)
	}
}

func TestContextHelperSetsTheFourKeysAndOmitsEmptyOnes(t *testing.T) {
	t.Parallel()
	got := vault.Context("t1", "vercel", vault.PurposeAPIKey, "")
	if len(got) != 3 || got["tenant"] != "t1" || got["platform"] != "vercel" || got["purpose"] != "api_key" {
		t.Fatalf("Context = %v", got)
	}
	if got := vault.Context("t1", "render", vault.PurposeDatabaseURL, "dep-1"); got["record"] != "dep-1" || len(got) != 4 {
		t.Fatalf("Context = %v", got)
	}
	for _, p := range []string{vault.PurposeAccessToken, vault.PurposeRefreshToken, vault.PurposeAPIKey, vault.PurposePrivateKey,
		vault.PurposeStreamKey, vault.PurposePKCEVerifier, vault.PurposeDatabaseURL, vault.PurposeTokenSet} {
		if p == "" || strings.ToLower(p) != p {
			t.Fatalf("purpose %q", p)
		}
	}
}

func TestDataKeyFormattingRedactsThePlaintextKey(t *testing.T) {
	t.Parallel()
	dk := vault.DataKey{KeyID: "local:x", Plaintext: []byte("SECRETKEYMATERIAL"), Encrypted: []byte{1, 2}}
	for _, s := range []string{fmt.Sprint(dk), fmt.Sprintf("%v %+v %#v %s %x %q", dk, dk, dk, dk, dk, dk), dk.LogValue().String()} {
		if strings.Contains(s, "SECRET") || strings.Contains(s, fmt.Sprintf("%x", "SECRET")) {
			t.Fatalf("formatted DataKey shows the key: %s", s)
		}
	}
}
