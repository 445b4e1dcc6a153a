package vault_test

import (
	"bytes"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/kmsfake"
	"github.com/switchboard-dev/switchboard/internal/vault"
	"github.com/switchboard-dev/switchboard/internal/vault/vaulttest"
)

// A token-sized secret.
var benchPlaintext = bytes.Repeat([]byte("t"), 256)

func benchKMSVault(b *testing.B, opts ...vault.Option) (*vault.Vault, *kmsfake.Server) {
	b.Helper()
	srv := kmsfake.Start(b)
	kr, err := vault.NewKMSKeyring(srv.Client(), srv.KeyID())
	if err != nil {
		b.Fatal(err)
	}
	return vault.New(kr, opts...), srv
}

// BenchmarkSeal: one GenerateDataKey and one AES-GCM encryption per Seal.
// "local" is the vault's own cost; "kms" adds a KMS request through the
// real SDK client to kmsfake on loopback.
func BenchmarkSeal(b *testing.B) {
	ec := vault.Context("tenant-1", "youtube", vault.PurposeAccessToken, "conn-1")
	b.Run("local", func(b *testing.B) {
		v := vaulttest.Local(b)
		b.ReportAllocs()
		b.SetBytes(int64(len(benchPlaintext)))
		for b.Loop() {
			if _, err := v.Seal(bg, benchPlaintext, ec); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("kms", func(b *testing.B) {
		v, srv := benchKMSVault(b)
		b.ReportAllocs()
		b.SetBytes(int64(len(benchPlaintext)))
		srv.Reset()
		n := 0
		for b.Loop() {
			if _, err := v.Seal(bg, benchPlaintext, ec); err != nil {
				b.Fatal(err)
			}
			n++
		}
		b.ReportMetric(float64(srv.Calls(kmsfake.OpGenerateDataKey))/float64(n), "kms-calls/op")
	})
}

// BenchmarkOpenWarmCache: Open of a record whose data key is cached; the
// KMS calls per Open are counted at the fake server (expected 0).
func BenchmarkOpenWarmCache(b *testing.B) {
	ec := vault.Context("tenant-1", "youtube", vault.PurposeAccessToken, "conn-1")
	v, srv := benchKMSVault(b)
	sealed, err := v.Seal(bg, benchPlaintext, ec)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := v.Open(bg, sealed, ec); err != nil {
		b.Fatal(err)
	}
	srv.Reset()
	b.ReportAllocs()
	b.SetBytes(int64(len(benchPlaintext)))
	n := 0
	for b.Loop() {
		if _, err := v.Open(bg, sealed, ec); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(srv.TotalCalls())/float64(n), "kms-calls/op")
}

// BenchmarkOpenColdCache: Open with the cache off, so each costs a KMS
// Decrypt over loopback; the price the cache saves.
func BenchmarkOpenColdCache(b *testing.B) {
	ec := vault.Context("tenant-1", "youtube", vault.PurposeAccessToken, "conn-1")
	v, srv := benchKMSVault(b, vault.WithCacheSize(0))
	sealed, err := v.Seal(bg, benchPlaintext, ec)
	if err != nil {
		b.Fatal(err)
	}
	srv.Reset()
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if _, err := v.Open(bg, sealed, ec); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(srv.Calls(kmsfake.OpDecrypt))/float64(n), "kms-calls/op")
}

// BenchmarkKMSCallsPer1000Opens: a fresh vault (a cold Lambda) opens one
// record 1,000 times; the KMS requests that reach the fake server are
// counted (target: 1).
func BenchmarkKMSCallsPer1000Opens(b *testing.B) {
	ec := vault.Context("tenant-1", "zoom", vault.PurposeRefreshToken, "conn-2")
	srv := kmsfake.Start(b)
	kr, err := vault.NewKMSKeyring(srv.Client(), srv.KeyID())
	if err != nil {
		b.Fatal(err)
	}
	sealed, err := vault.New(kr).Seal(bg, benchPlaintext, ec)
	if err != nil {
		b.Fatal(err)
	}
	calls, runs := 0, 0
	for b.Loop() {
		v := vault.New(kr)
		srv.Reset()
		for range 1000 {
			if _, err := v.Open(bg, sealed, ec); err != nil {
				b.Fatal(err)
			}
		}
		calls += srv.TotalCalls()
		runs++
	}
	b.ReportMetric(float64(calls)/float64(runs), "kms-calls/1000-opens")
}
