package vault_test

import (
	"bytes"
	"errors"
	"maps"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/kmsfake"
	"github.com/switchboard-dev/switchboard/internal/vault"
	"github.com/switchboard-dev/switchboard/internal/vault/vaulttest"
)

func kmsVault(t *testing.T, srv *kmsfake.Server, keyID string, opts ...vault.Option) *vault.Vault {
	t.Helper()
	kr, err := vault.NewKMSKeyring(srv.Client(), keyID)
	if err != nil {
		t.Fatal(err)
	}
	return vault.New(kr, opts...)
}

func TestKMSKeyringSendsTheContextToKMSAndRoundTrips(t *testing.T) {
	t.Parallel()
	v, srv := vaulttest.KMS(t)
	ec := vault.Context("tenant-9", "restream", vault.PurposeRefreshToken, "conn-9")
	sealed, err := v.Seal(bg, []byte("rt-secret"), ec)
	if err != nil {
		t.Fatal(err)
	}
	if info, _ := vault.Inspect(sealed); info.KeyID != srv.KeyID() {
		t.Fatalf("envelope key id %q, want the key ARN %q", info.KeyID, srv.KeyID())
	}
	got, err := v.Open(bg, sealed, ec)
	if err != nil || string(got) != "rt-secret" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 || reqs[0].Op != kmsfake.OpGenerateDataKey || reqs[1].Op != kmsfake.OpDecrypt {
		t.Fatalf("requests %+v", reqs)
	}
	for _, r := range reqs {
		if !maps.Equal(r.EncryptionContext, ec) {
			t.Fatalf("%s sent context %v, want %v", r.Op, r.EncryptionContext, ec)
		}
	}
	if reqs[1].KeyID != srv.KeyID() {
		t.Fatalf("Decrypt named key %q, want the envelope's %q", reqs[1].KeyID, srv.KeyID())
	}
}

func TestKMSRefusesToUnwrapUnderAnotherContext(t *testing.T) {
	t.Parallel()
	srv := kmsfake.Start(t)
	v := kmsVault(t, srv, srv.KeyID())
	ec := vault.Context("tenant-1", "zoom", vault.PurposeAccessToken, "c1")
	sealed, err := v.Seal(bg, []byte("at-secret"), ec)
	if err != nil {
		t.Fatal(err)
	}
	other := vault.Context("tenant-2", "zoom", vault.PurposeAccessToken, "c1")
	if _, err := v.Open(bg, sealed, other); !errors.Is(err, vault.ErrCannotOpen) {
		t.Fatalf("Open with another tenant: %v, want ErrCannotOpen", err)
	}
	last := srv.Requests()[len(srv.Requests())-1]
	if last.Op != kmsfake.OpDecrypt || last.ErrorType != kmsfake.ErrInvalidCiphertext || !maps.Equal(last.EncryptionContext, other) {
		t.Fatalf("KMS saw %+v; want a Decrypt with the other context refused", last)
	}
}

func TestKMSOpenFailsWhenAnyByteOfTheEnvelopeIsFlipped(t *testing.T) {
	t.Parallel()
	v, _ := vaulttest.KMS(t)
	ec := ecFor("kms-tamper")
	sealed, err := v.Seal(bg, []byte("secret"), ec)
	if err != nil {
		t.Fatal(err)
	}
	for i := range sealed {
		bad := bytes.Clone(sealed)
		bad[i] ^= 0xff
		if got, err := v.Open(bg, bad, ec); !openErr(err) || got != nil {
			t.Fatalf("byte %d flipped: Open = %d bytes, %v", i, len(got), err)
		}
	}
}

func TestKMSOutagesAreErrKeyringNotErrCannotOpen(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(*kmsfake.Server)
	}{
		{"throttled", func(s *kmsfake.Server) { s.FailNext(kmsfake.OpDecrypt, kmsfake.ErrThrottling, 400, 1) }},
		{"internal error", func(s *kmsfake.Server) { s.FailNext(kmsfake.OpDecrypt, kmsfake.ErrInternal, 500, 1) }},
		{"key disabled", func(s *kmsfake.Server) { _ = s.SetEnabled(kmsfake.DefaultKeyID, false) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := kmsfake.Start(t)
			v := kmsVault(t, srv, srv.KeyID())
			ec := ecFor("outage")
			sealed, err := v.Seal(bg, []byte("secret"), ec)
			if err != nil {
				t.Fatal(err)
			}
			tt.setup(srv)
			_, err = v.Open(bg, sealed, ec)
			if !errors.Is(err, vault.ErrKeyring) || errors.Is(err, vault.ErrCannotOpen) {
				t.Fatalf("Open = %v, want ErrKeyring", err)
			}
		})
	}
	t.Run("seal with an unknown key", func(t *testing.T) {
		t.Parallel()
		srv := kmsfake.Start(t)
		v := kmsVault(t, srv, "alias/missing")
		if _, err := v.Seal(bg, []byte("x"), ecFor("x")); !errors.Is(err, vault.ErrKeyring) {
			t.Fatalf("Seal = %v, want ErrKeyring", err)
		}
	})
}

func TestEnvelopesUnderAnOlderKMSKeyStillOpenAfterTheKeyChanges(t *testing.T) {
	t.Parallel()
	srv := kmsfake.Start(t)
	next := srv.AddKey("next")
	ec := ecFor("rotate")
	old, err := kmsVault(t, srv, srv.KeyID()).Seal(bg, []byte("old-secret"), ec)
	if err != nil {
		t.Fatal(err)
	}
	v2 := kmsVault(t, srv, next) // KMS_KEY_ID now names another key
	fresh, err := v2.Seal(bg, []byte("new-secret"), ec)
	if err != nil {
		t.Fatal(err)
	}
	if info, _ := vault.Inspect(fresh); info.KeyID != next {
		t.Fatalf("new envelope under %q, want %q", info.KeyID, next)
	}
	if got, err := v2.Open(bg, old, ec); err != nil || string(got) != "old-secret" {
		t.Fatalf("old envelope: %q, %v", got, err)
	}
}

func TestKMSKeyringRejectsMissingClientOrKey(t *testing.T) {
	t.Parallel()
	if _, err := vault.NewKMSKeyring(nil, "k"); !errors.Is(err, vault.ErrConfig) {
		t.Fatalf("nil client: %v", err)
	}
	srv := kmsfake.Start(t)
	if _, err := vault.NewKMSKeyring(srv.Client(), ""); !errors.Is(err, vault.ErrConfig) {
		t.Fatalf("empty key: %v", err)
	}
}
