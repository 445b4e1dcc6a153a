package vault_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/switchboard-dev/switchboard/internal/kmsfake"
	"github.com/switchboard-dev/switchboard/internal/vault"
	"github.com/switchboard-dev/switchboard/internal/vault/vaulttest"
)

// memStore is an in-memory EnvelopeStore: items in a fixed order, pages of
// pageSize, the cursor being the index of the next item. failAfter, when
// positive, makes ReplaceEnvelope fail once that many replaces succeeded;
// beforeReplace runs before each conditional check.
type memStore struct {
	mu            sync.Mutex
	items         []vault.StoredEnvelope
	pageSize      int
	replaces      int
	failAfter     int
	beforeReplace func(i int)
}

func (s *memStore) ListEnvelopes(_ context.Context, cursor string) ([]vault.StoredEnvelope, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	start := 0
	if cursor != "" {
		var err error
		if start, err = strconv.Atoi(cursor); err != nil {
			return nil, "", fmt.Errorf("bad cursor")
		}
	}
	end := min(start+s.pageSize, len(s.items))
	page := make([]vault.StoredEnvelope, 0, end-start)
	for _, it := range s.items[start:end] {
		it.Sealed = bytes.Clone(it.Sealed)
		page = append(page, it)
	}
	next := ""
	if end < len(s.items) {
		next = strconv.Itoa(end)
	}
	return page, next, nil
}

func (s *memStore) ReplaceEnvelope(_ context.Context, old vault.StoredEnvelope, newSealed []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failAfter > 0 && s.replaces >= s.failAfter {
		return errors.New("store unavailable")
	}
	for i := range s.items {
		if s.items[i].Ref != old.Ref {
			continue
		}
		if s.beforeReplace != nil {
			s.beforeReplace(i)
		}
		if !bytes.Equal(s.items[i].Sealed, old.Sealed) {
			return vault.ErrEnvelopeChanged
		}
		s.items[i].Sealed = bytes.Clone(newSealed)
		s.replaces++
		return nil
	}
	return vault.ErrEnvelopeChanged
}

func (s *memStore) get(i int) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.items[i].Sealed
}

// fill seals n values with v, record i holding "secret-i"; every third is
// stored in text form.
func fill(t *testing.T, v *vault.Vault, n int) *memStore {
	t.Helper()
	s := &memStore{pageSize: 3}
	for i := range n {
		ec := vault.Context("tenant-1", "zoom", vault.PurposeTokenSet, fmt.Sprint("rec-", i))
		sealed, err := v.Seal(bg, []byte(fmt.Sprint("secret-", i)), ec)
		if err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			sealed = []byte(vault.EncodeString(sealed))
		}
		s.items = append(s.items, vault.StoredEnvelope{
			Ref: vault.ItemRef{PK: "TENANT#tenant-1", SK: fmt.Sprint("CONN#zoom#", i), Attr: "tokens"}, Context: ec, Sealed: sealed,
		})
	}
	return s
}

func checkAllOpen(t *testing.T, v *vault.Vault, s *memStore, keyID string) {
	t.Helper()
	for i, it := range s.items {
		got, err := v.Open(bg, it.Sealed, it.Context)
		if err != nil || string(got) != fmt.Sprint("secret-", i) {
			t.Fatalf("item %d: %q, %v", i, got, err)
		}
		if info, _ := vault.Inspect(it.Sealed); info.KeyID != keyID {
			t.Fatalf("item %d under %q, want %q", i, info.KeyID, keyID)
		}
	}
}

func TestRewrapMovesEveryEnvelopeToTheNewKMSKeyWithReEncryptOnly(t *testing.T) {
	t.Parallel()
	srv := kmsfake.Start(t)
	oldV := kmsVault(t, srv, srv.KeyID())
	store := fill(t, oldV, 8)
	before := make([][]byte, len(store.items))
	for i, it := range store.items {
		before[i] = bytes.Clone(it.Sealed)
	}
	target := srv.AddKey("2026-key")
	kr, _ := vault.NewKMSKeyring(srv.Client(), target)
	srv.Reset()

	var pages []vault.RewrapResult
	res, err := vault.Rewrap(bg, store, kr, target, "", vault.WithProgress(func(r vault.RewrapResult) { pages = append(pages, r) }))
	if err != nil {
		t.Fatal(err)
	}
	if res.Moved != 8 || res.Scanned != 8 || res.AlreadyCurrent != 0 || res.Skipped != 0 || res.Failed != 0 || !res.Done || res.Cursor != "" {
		t.Fatalf("result %+v", res)
	}
	if len(pages) != 3 || pages[0].Cursor != "3" || pages[1].Cursor != "6" || !pages[2].Done {
		t.Fatalf("progress %+v", pages)
	}
	if srv.Calls(kmsfake.OpReEncrypt) != 8 || srv.Calls(kmsfake.OpDecrypt) != 0 || srv.Calls(kmsfake.OpGenerateDataKey) != 0 {
		t.Fatalf("KMS calls: %d ReEncrypt, %d Decrypt, %d GenerateDataKey", srv.Calls(kmsfake.OpReEncrypt), srv.Calls(kmsfake.OpDecrypt), srv.Calls(kmsfake.OpGenerateDataKey))
	}
	for _, r := range srv.Requests() {
		if r.EncryptionContext[vault.KeyRecord] == "" || r.DestinationEncryptionContext[vault.KeyRecord] != r.EncryptionContext[vault.KeyRecord] {
			t.Fatalf("ReEncrypt contexts %v -> %v", r.EncryptionContext, r.DestinationEncryptionContext)
		}
	}
	// Same form, same nonce and body; only key id and wrapped key changed.
	for i, it := range store.items {
		if vault.IsText(it.Sealed) != vault.IsText(before[i]) {
			t.Fatalf("item %d changed form", i)
		}
		a, b := raw(t, before[i]), raw(t, it.Sealed)
		pa, pb := parse(t, a), parse(t, b)
		if !bytes.Equal(pa.nonce, pb.nonce) || !bytes.Equal(pa.body, pb.body) || bytes.Equal(pa.edk, pb.edk) {
			t.Fatalf("item %d: body or nonce changed, or data key did not", i)
		}
	}
	checkAllOpen(t, kmsVault(t, srv, target), store, target)

	// A second run finds nothing to do.
	srv.Reset()
	again, err := vault.Rewrap(bg, store, kr, target, "")
	if err != nil || again.AlreadyCurrent != 8 || again.Moved != 0 || srv.Calls(kmsfake.OpReEncrypt) != 0 {
		t.Fatalf("second run %+v, %v, %d ReEncrypt", again, err, srv.Calls(kmsfake.OpReEncrypt))
	}
}

func raw(t *testing.T, b []byte) []byte {
	t.Helper()
	if vault.IsText(b) {
		r, err := vault.DecodeString(string(b))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	return b
}

func TestRewrapResumesFromItsCursorAfterAStoreFailure(t *testing.T) {
	t.Parallel()
	oldKEK, newKEK := vaulttest.RandomKEK(t), vaulttest.RandomKEK(t)
	oldKR, _ := vault.NewLocalKeyring(oldKEK)
	store := fill(t, vault.New(oldKR), 7)
	kr, _ := vault.NewLocalKeyring(newKEK, oldKEK)
	store.failAfter = 4 // page 1 (3 items) and one of page 2

	res, err := vault.Rewrap(bg, store, kr, kr.KeyID(), "")
	if err == nil || res.Done || res.Cursor != "3" || res.Moved != 4 {
		t.Fatalf("first run %+v, %v; want a failure with cursor 3 after 4 moved", res, err)
	}
	store.failAfter = 0
	res2, err := vault.Rewrap(bg, store, kr, kr.KeyID(), res.Cursor)
	if err != nil {
		t.Fatal(err)
	}
	if !res2.Done || res2.Moved != 3 || res2.AlreadyCurrent != 1 || res2.Scanned != 4 {
		t.Fatalf("resumed run %+v", res2)
	}
	checkAllOpen(t, vault.New(kr), store, kr.KeyID())
}

func TestRewrapSkipsEnvelopesChangedMeanwhileAndCountsOnesThatDoNotOpen(t *testing.T) {
	t.Parallel()
	oldKEK, newKEK := vaulttest.RandomKEK(t), vaulttest.RandomKEK(t)
	oldKR, _ := vault.NewLocalKeyring(oldKEK)
	oldV := vault.New(oldKR)
	store := fill(t, oldV, 5)
	// Item 1 is stored with a context it was not sealed with; item 2 is not an envelope.
	store.items[1].Context = vault.Context("tenant-2", "zoom", vault.PurposeTokenSet, "rec-1")
	store.items[2].Sealed = []byte("iv:tag:ct")
	// Item 3 is rewritten by someone else between listing and replacing.
	concurrent, _ := oldV.Seal(bg, []byte("secret-3"), store.items[3].Context)
	store.beforeReplace = func(i int) {
		if i == 3 {
			store.items[3].Sealed = concurrent
		}
	}
	kr, _ := vault.NewLocalKeyring(newKEK, oldKEK)
	res, err := vault.Rewrap(bg, store, kr, kr.KeyID(), "")
	if err != nil {
		t.Fatal(err)
	}
	if res.Moved != 2 || res.Skipped != 1 || res.Failed != 2 || len(res.FailedRefs) != 2 ||
		res.FailedRefs[0] != store.items[1].Ref || res.FailedRefs[1] != store.items[2].Ref {
		t.Fatalf("result %+v", res)
	}
	if !bytes.Equal(store.get(3), concurrent) {
		t.Fatal("the concurrent write was overwritten")
	}
}

func TestRewrapStopsOnAKeyringOutageAndKeepsItsCursor(t *testing.T) {
	t.Parallel()
	srv := kmsfake.Start(t)
	store := fill(t, kmsVault(t, srv, srv.KeyID()), 5)
	target := srv.AddKey("next")
	kr, _ := vault.NewKMSKeyring(srv.Client(), target)
	srv.FailNext(kmsfake.OpReEncrypt, kmsfake.ErrThrottling, 400, 1)
	res, err := vault.Rewrap(bg, store, kr, target, "")
	if !errors.Is(err, vault.ErrKeyring) || res.Cursor != "" || res.Done || res.Moved != 0 {
		t.Fatalf("%+v, %v", res, err)
	}
	res, err = vault.Rewrap(bg, store, kr, target, res.Cursor)
	if err != nil || res.Moved != 5 {
		t.Fatalf("retry: %+v, %v", res, err)
	}
}

func TestRewrapNeedsATargetKey(t *testing.T) {
	t.Parallel()
	kr, _ := vault.NewLocalKeyring(vaulttest.RandomKEK(t))
	if _, err := vault.Rewrap(bg, &memStore{pageSize: 1}, kr, "", ""); !errors.Is(err, vault.ErrConfig) {
		t.Fatalf("err = %v", err)
	}
}
