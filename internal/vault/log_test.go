package vault_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log"
	"log/slog"
	"strings"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/kmsfake"
	"github.com/switchboard-dev/switchboard/internal/vault"
	"github.com/switchboard-dev/switchboard/internal/vault/vaulttest"
)

// secretForms are the ways a secret could leak into text.
func secretForms(secret []byte) []string {
	return []string{
		string(secret),
		hex.EncodeToString(secret),
		strings.ToUpper(hex.EncodeToString(secret)),
		base64.StdEncoding.EncodeToString(secret),
		base64.RawStdEncoding.EncodeToString(secret),
		base64.RawURLEncoding.EncodeToString(secret),
		fmt.Sprint(secret),
		fmt.Sprintf("%q", secret),
	}
}

// recordingKeyring remembers the data keys it hands out, to look for them.
type recordingKeyring struct {
	vault.Keyring
	keys *[][]byte
}

func (r recordingKeyring) GenerateDataKey(ctx context.Context, ec vault.EncryptionContext) (vault.DataKey, error) {
	dk, err := r.Keyring.GenerateDataKey(ctx, ec)
	*r.keys = append(*r.keys, bytes.Clone(dk.Plaintext))
	return dk, err
}

// Not parallel: it swaps the process-wide loggers to see that the package
// writes nothing to them, and looks at every error it gives.
func TestNoPlaintextOrKeyInAnyErrorOrLog(t *testing.T) {
	var logs bytes.Buffer
	prevSlog, prevLog := slog.Default(), log.Writer()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	log.SetOutput(&logs)
	t.Cleanup(func() { slog.SetDefault(prevSlog); log.SetOutput(prevLog) })

	plaintext := []byte("SUPERSECRET-refresh-token-0123456789")
	var keys [][]byte
	kek := vaulttest.RandomKEK(t)
	local, _ := vault.NewLocalKeyring(kek)
	srv := kmsfake.Start(t)
	kmsKR, _ := vault.NewKMSKeyring(srv.Client(), srv.KeyID())
	var errs []error
	note := func(_ []byte, err error) {
		if err == nil {
			t.Fatal("expected an error")
		}
		errs = append(errs, err)
	}
	for _, kr := range []vault.Keyring{local, kmsKR} {
		v := vault.New(recordingKeyring{Keyring: kr, keys: &keys})
		ec := ecFor("leak")
		sealed, err := v.Seal(bg, plaintext, ec)
		if err != nil {
			t.Fatal(err)
		}
		note(v.Open(bg, sealed, vault.Context("other", "zoom", "x", "y")))
		for i := range sealed {
			bad := bytes.Clone(sealed)
			bad[i] ^= 0x55
			note(v.Open(bg, bad, ec))
		}
		note(v.Open(bg, sealed[:len(sealed)/2], ec))
		note(v.Open(bg, nil, ec))
		note(v.Seal(bg, plaintext, vault.EncryptionContext{"k": ""}))
		note(v.Seal(bg, append(bytes.Repeat([]byte{'a'}, vault.MaxPlaintext), plaintext...), ec))
		ctx, cancel := context.WithCancel(bg)
		cancel()
		note(v.Seal(ctx, plaintext, ec))
	}
	srv.FailNext(kmsfake.OpDecrypt, kmsfake.ErrInternal, 500, 1)
	kv := vault.New(kmsKR, vault.WithCacheSize(0))
	sealed, _ := kv.Seal(bg, plaintext, ecFor("leak"))
	note(kv.Open(bg, sealed, ecFor("leak")))

	legacy := legacySeal(t, legacyKey, 12, string(plaintext))
	note(vault.OpenLegacy(strings.Repeat("cd", 32), legacy))
	note(vault.OpenLegacy(legacyKey, legacy+"00"))
	note(vault.OpenLegacy(legacyKey[:60], legacy))
	_, err := vault.NewLocalKeyring(kek[:62] + "zz")
	note(nil, err)

	secrets := append([][]byte{plaintext, []byte(kek), []byte(legacyKey)}, keys...)
	if logs.Len() != 0 {
		t.Fatalf("the package logged: %q", logs.String())
	}
	for _, err := range errs {
		msg := err.Error() + fmt.Sprintf(" %+v %#v", err, err)
		for _, s := range secrets {
			for _, form := range secretForms(s) {
				if len(form) >= 8 && strings.Contains(msg, form) {
					t.Fatalf("error %q shows a secret", msg)
				}
			}
		}
	}
	if len(errs) < 100 {
		t.Fatalf("only %d errors looked at", len(errs))
	}
}
