package vault_test

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/vault"
	"github.com/switchboard-dev/switchboard/internal/vault/vaulttest"
)

// legacyKey is the key of the Node vectors below.
const legacyKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

// Vectors made once with Node 20.20 and kept here (tests do not run Node):
//
//	node -e 'const c=require("crypto"); const key=Buffer.from(K,"hex");
//	  for (const n of [16,12]) { const iv=c.randomBytes(n);
//	    const x=c.createCipheriv("aes-256-gcm",key,iv);
//	    let e=x.update("ya29.legacy-access-token","utf8","hex"); e+=x.final("hex");
//	    console.log(`${iv.toString("hex")}:${x.getAuthTag().toString("hex")}:${e}`) }'
const (
	nodeVector16 = "1e9149d1eccc1c1c3bf779827bc69b2d:6c64c3dc9e9322fab6e3c48ea71932f8:56c05b98e6a84c39d6e89c4b39449bb5564a1466d99c6a0b"
	nodeVector12 = "9930efe8dc2630b1908aab0a:48ae7b64a25b35d87038e7301b5d2d0b:7fa841a8ac0ebc7d3913f5c0c79bfe6f6df3843b363a0740"
	nodePlain    = "ya29.legacy-access-token"
)

// legacySeal encrypts as the earlier system's Node code did: AES-256-GCM,
// the tag kept apart, three hex fields.
func legacySeal(t *testing.T, keyHex string, ivLen int, plaintext string) string {
	t.Helper()
	key, _ := hex.DecodeString(keyHex)
	block, _ := aes.NewCipher(key)
	gcm, err := cipher.NewGCMWithNonceSize(block, ivLen)
	if err != nil {
		t.Fatal(err)
	}
	iv := make([]byte, ivLen)
	_, _ = rand.Read(iv)
	out := gcm.Seal(nil, iv, []byte(plaintext), nil)
	ct, tag := out[:len(out)-16], out[len(out)-16:]
	return hex.EncodeToString(iv) + ":" + hex.EncodeToString(tag) + ":" + hex.EncodeToString(ct)
}

func TestOpenLegacyReadsValuesMadeByNode(t *testing.T) {
	t.Parallel()
	for name, vec := range map[string]string{"16-byte IV": nodeVector16, "12-byte IV": nodeVector12} {
		got, err := vault.OpenLegacy(legacyKey, vec)
		if err != nil || string(got) != nodePlain {
			t.Fatalf("%s: %q, %v", name, got, err)
		}
	}
	if got, err := vault.OpenLegacy(strings.ToUpper(legacyKey), strings.ToUpper(nodeVector12)+"\n"); err != nil || string(got) != nodePlain {
		t.Fatalf("upper-case hex and a trailing newline: %q, %v", got, err)
	}
}

func TestOpenLegacyReadsValuesMadeTheNodeWay(t *testing.T) {
	t.Parallel()
	key := vaulttest.RandomKEK(t)
	for _, ivLen := range []int{12, 16} {
		for _, pt := range []string{"", "x", "1//0gLongRefreshToken-value", strings.Repeat("ü", 500)} {
			got, err := vault.OpenLegacy(key, legacySeal(t, key, ivLen, pt))
			if err != nil || string(got) != pt {
				t.Fatalf("iv %d, %d-byte value: %v", ivLen, len(pt), err)
			}
		}
	}
}

func TestOpenLegacyRejectsWrongKeysAndMalformedValues(t *testing.T) {
	t.Parallel()
	parts := strings.Split(nodeVector12, ":")
	flipped := []byte(parts[2])
	flipped[0] ^= 1 // '7' -> '6'
	tests := []struct {
		name, key, value string
		want             error
	}{
		{"wrong key", strings.Repeat("ab", 32), nodeVector12, vault.ErrCannotOpen},
		{"changed ciphertext", legacyKey, parts[0] + ":" + parts[1] + ":" + string(flipped), vault.ErrCannotOpen},
		{"changed tag", legacyKey, parts[0] + ":" + strings.Repeat("0", 32) + ":" + parts[2], vault.ErrCannotOpen},
		{"swapped fields", legacyKey, parts[1] + ":" + parts[0] + ":" + parts[2], vault.ErrLegacyMalformed},
		{"two fields", legacyKey, parts[0] + ":" + parts[2], vault.ErrLegacyMalformed},
		{"four fields", legacyKey, nodeVector12 + ":00", vault.ErrLegacyMalformed},
		{"not hex", legacyKey, "zz:" + parts[1] + ":" + parts[2], vault.ErrLegacyMalformed},
		{"8-byte IV", legacyKey, "0011223344556677:" + parts[1] + ":" + parts[2], vault.ErrLegacyMalformed},
		{"short tag", legacyKey, parts[0] + ":00ff:" + parts[2], vault.ErrLegacyMalformed},
		{"empty", legacyKey, "", vault.ErrLegacyMalformed},
		{"short key", "0011", nodeVector12, vault.ErrLegacyMalformed},
		{"key not hex", strings.Repeat("g", 64), nodeVector12, vault.ErrLegacyMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := vault.OpenLegacy(tt.key, tt.value)
			if !errors.Is(err, tt.want) || got != nil {
				t.Fatalf("OpenLegacy = %q, %v; want %v", got, err, tt.want)
			}
			if strings.Contains(err.Error(), nodePlain) || strings.Contains(err.Error(), tt.key) {
				t.Fatal("error shows the plaintext or key")
			}
		})
	}
}

func TestImportLegacySealsTheOldValueUnderTheGivenContext(t *testing.T) {
	t.Parallel()
	v, srv := vaulttest.KMS(t)
	ec := vault.Context("tenant-1", "youtube", vault.PurposeAccessToken, "conn-1")
	sealed, err := vault.ImportLegacy(bg, v, legacyKey, nodeVector16, ec)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(sealed), nodePlain) {
		t.Fatal("envelope shows the plaintext")
	}
	got, err := v.Open(bg, sealed, ec)
	if err != nil || string(got) != nodePlain {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if srv.Calls("GenerateDataKey") != 1 {
		t.Fatal("import did not take a data key from KMS")
	}
	if _, err := vault.ImportLegacy(bg, v, strings.Repeat("ab", 32), nodeVector16, ec); !errors.Is(err, vault.ErrCannotOpen) {
		t.Fatalf("import with the wrong key: %v", err)
	}
}
