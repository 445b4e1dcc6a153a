package vault_test

import (
	"bytes"
	"errors"
	"maps"
	"testing"

	"pgregory.net/rapid"

	"github.com/switchboard-dev/switchboard/internal/vault"
	"github.com/switchboard-dev/switchboard/internal/vault/vaulttest"
)

func genContext() *rapid.Generator[vault.EncryptionContext] {
	return rapid.Custom(func(t *rapid.T) vault.EncryptionContext {
		m := rapid.MapOfN(
			rapid.StringMatching(`[a-z_:]{1,12}`),
			rapid.StringN(1, 40, 200),
			1, 6,
		).Draw(t, "context")
		return vault.EncryptionContext(m)
	})
}

func genPlaintext() *rapid.Generator[[]byte] {
	return rapid.SliceOfN(rapid.Byte(), 0, 2048)
}

func TestPropertySealThenOpenGivesThePlaintextBack(t *testing.T) {
	t.Parallel()
	v := vaulttest.Local(t)
	rapid.Check(t, func(t *rapid.T) {
		pt := genPlaintext().Draw(t, "plaintext")
		ec := genContext().Draw(t, "ec")
		text := rapid.Bool().Draw(t, "text form")
		var sealed []byte
		var err error
		if text {
			var s string
			s, err = v.SealString(bg, pt, ec)
			sealed = []byte(s)
		} else {
			sealed, err = v.Seal(bg, pt, ec)
		}
		if err != nil {
			t.Fatal(err)
		}
		got, err := v.Open(bg, sealed, ec.Clone())
		if err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("Open = %d bytes, %v; want %d bytes", len(got), err, len(pt))
		}
	})
}

func TestPropertyOpenWithAnyOtherContextFails(t *testing.T) {
	t.Parallel()
	v := vaulttest.Local(t)
	rapid.Check(t, func(t *rapid.T) {
		pt := genPlaintext().Draw(t, "plaintext")
		ec := genContext().Draw(t, "ec")
		other := genContext().Draw(t, "other")
		if maps.Equal(ec, other) {
			t.Skip("same context")
		}
		sealed, err := v.Seal(bg, pt, ec)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := v.Open(bg, sealed, other); !errors.Is(err, vault.ErrCannotOpen) || got != nil {
			t.Fatalf("Open with another context = %d bytes, %v", len(got), err)
		}
	})
}

func TestPropertyAnyChangedEnvelopeFails(t *testing.T) {
	t.Parallel()
	v := vaulttest.Local(t)
	rapid.Check(t, func(t *rapid.T) {
		pt := genPlaintext().Draw(t, "plaintext")
		ec := genContext().Draw(t, "ec")
		sealed, err := v.Seal(bg, pt, ec)
		if err != nil {
			t.Fatal(err)
		}
		if rapid.Bool().Draw(t, "warm") {
			if _, err := v.Open(bg, sealed, ec); err != nil {
				t.Fatal(err)
			}
		}
		bad := bytes.Clone(sealed)
		switch rapid.IntRange(0, 2).Draw(t, "change") {
		case 0: // flip bits of one byte
			i := rapid.IntRange(0, len(bad)-1).Draw(t, "index")
			bad[i] ^= rapid.ByteRange(1, 255).Draw(t, "mask")
		case 1: // cut
			bad = bad[:rapid.IntRange(0, len(bad)-1).Draw(t, "length")]
		case 2: // append
			bad = append(bad, rapid.SliceOfN(rapid.Byte(), 1, 8).Draw(t, "tail")...)
		}
		if got, err := v.Open(bg, bad, ec); !openErr(err) || got != nil {
			t.Fatalf("changed envelope: Open = %d bytes, %v", len(got), err)
		}
	})
}

func TestPropertyCanonicalEncodingTellsContextsApart(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		a := genContext().Draw(t, "a")
		b := genContext().Draw(t, "b")
		if maps.Equal(a, b) != bytes.Equal(a.Canonical(), b.Canonical()) {
			t.Fatalf("contexts %v and %v: equal=%v, encodings equal=%v", a, b, maps.Equal(a, b), bytes.Equal(a.Canonical(), b.Canonical()))
		}
	})
}
