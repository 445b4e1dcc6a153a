package store_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/dynamotest"
	"github.com/switchboard-dev/switchboard/internal/kmsfake"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/internal/vault"
)

func TestSealedValuesRoundTripWithTheirContext(t *testing.T) {
	t.Parallel()
	ec := vault.Context("t1", "youtube", vault.PurposeTokenSet, "connection")
	it := store.Item{"creds": store.Sealed([]byte{1, 2, 3}, ec)}
	env, got, ok := store.GetSealed(it, "creds")
	if !ok || !bytes.Equal(env, []byte{1, 2, 3}) || fmt.Sprint(got) != fmt.Sprint(ec) {
		t.Fatalf("got %v %v %v", env, got, ok)
	}
	if _, _, ok := store.GetSealed(it, "missing"); ok {
		t.Fatal("a missing attribute read as sealed")
	}
}

// Re-wrapping through the real store: every sealed value in the table moves
// to the new KMS key, still opens, and a second run finds nothing to move.
func TestRewrapMovesEverySealedValueToTheNewKey(t *testing.T) {
	t.Parallel()
	f := dynamotest.New(t)
	ctx := context.Background()
	kms := kmsfake.Start(t)
	oldKey := kms.KeyID()
	newKey := kms.AddKey("rotated")
	kr, err := vault.NewKMSKeyring(kms.Client(), oldKey)
	if err != nil {
		t.Fatal(err)
	}
	v := vault.New(kr)
	const n = 130 // more than one scan page
	for i := range n {
		tenant := fmt.Sprintf("t%03d", i)
		ec := vault.Context(tenant, "zoom", vault.PurposeTokenSet, "connection")
		env, err := v.Seal(ctx, []byte("secret-"+tenant), ec)
		if err != nil {
			t.Fatal(err)
		}
		it := store.Item{store.AttrPK: store.S(store.TenantPK(tenant)), store.AttrSK: store.S("CONN#zoom"), "creds": store.Sealed(env, ec)}
		if err := f.Store.Put(ctx, it, nil); err != nil {
			t.Fatal(err)
		}
	}
	// An item without sealed values is passed over.
	_ = f.Store.Put(ctx, store.Item{store.AttrPK: store.S("X"), store.AttrSK: store.S("Y"), "plain": store.S("z")}, nil)

	res, err := vault.Rewrap(ctx, f.Store.Envelopes(), kr, newKey, "")
	if err != nil {
		t.Fatal(err)
	}
	if res.Moved != n || res.Failed != 0 || !res.Done {
		t.Fatalf("first run: %+v", res)
	}
	again, err := vault.Rewrap(ctx, f.Store.Envelopes(), kr, newKey, "")
	if err != nil || again.Moved != 0 || again.AlreadyCurrent != n {
		t.Fatalf("second run: %+v %v", again, err)
	}
	for _, i := range []int{0, 77, n - 1} {
		tenant := fmt.Sprintf("t%03d", i)
		it, err := f.Store.Get(ctx, store.TenantPK(tenant), "CONN#zoom")
		if err != nil {
			t.Fatal(err)
		}
		env, ec, _ := store.GetSealed(it, "creds")
		info, err := vault.Inspect(env)
		if err != nil || info.KeyID != newKey {
			t.Fatalf("envelope under %q, want %q (%v)", info.KeyID, newKey, err)
		}
		plain, err := v.Open(ctx, env, ec)
		if err != nil || string(plain) != "secret-"+tenant {
			t.Fatalf("re-wrapped value does not open: %v", err)
		}
	}
}

func TestReplaceEnvelopeRefusesAValueThatChanged(t *testing.T) {
	t.Parallel()
	f := dynamotest.New(t)
	ctx := context.Background()
	ec := vault.Context("t1", "zoom", vault.PurposeTokenSet, "connection")
	_ = f.Store.Put(ctx, store.Item{store.AttrPK: store.S("P"), store.AttrSK: store.S("S"), "creds": store.Sealed([]byte("new"), ec)}, nil)
	old := vault.StoredEnvelope{Ref: vault.ItemRef{PK: "P", SK: "S", Attr: "creds"}, Context: ec, Sealed: []byte("old")}
	if err := f.Store.Envelopes().ReplaceEnvelope(ctx, old, []byte("rewrapped")); !errorsIs(err, vault.ErrEnvelopeChanged) {
		t.Fatalf("got %v, want ErrEnvelopeChanged", err)
	}
}
