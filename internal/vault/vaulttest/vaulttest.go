// Package vaulttest builds vaults for other packages' tests: one over a
// local keyring with a random key-encryption key, and one over the real
// AWS SDK KMS client talking to a kmsfake server on loopback.
package vaulttest

import (
	"crypto/rand"
	"encoding/hex"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/kmsfake"
	"github.com/switchboard-dev/switchboard/internal/vault"
)

// RandomKEK returns a fresh key-encryption key in the hex form LOCAL_KEK takes.
func RandomKEK(t testing.TB) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// Local returns a vault over a local keyring with a random KEK.
func Local(t testing.TB, opts ...vault.Option) *vault.Vault {
	t.Helper()
	kr, err := vault.NewLocalKeyring(RandomKEK(t))
	if err != nil {
		t.Fatal(err)
	}
	return vault.New(kr, opts...)
}

// KMS starts a kmsfake server (closed when the test ends) and returns a
// vault over a KMS keyring using its default key through the real SDK
// client, with the server for counting calls and checking contexts.
func KMS(t testing.TB, opts ...vault.Option) (*vault.Vault, *kmsfake.Server) {
	t.Helper()
	srv := kmsfake.Start(t)
	kr, err := vault.NewKMSKeyring(srv.Client(), srv.KeyID())
	if err != nil {
		t.Fatal(err)
	}
	return vault.New(kr, opts...), srv
}
