package vault

import (
	"context"
	"errors"
	"fmt"
)

// ItemRef says where a stored envelope lives. It is opaque to the vault:
// the store fills it when listing and reads it back when replacing.
type ItemRef struct {
	PK string `json:"pk"`
	SK string `json:"sk"`
	// Attr is the attribute holding the envelope (an item may hold several).
	Attr string `json:"attr"`
}

// StoredEnvelope is one envelope as stored.
type StoredEnvelope struct {
	Ref ItemRef
	// Context is the encryption context the envelope was sealed with, as
	// stored beside it or derived from the item.
	Context EncryptionContext
	// Sealed is the stored value, in binary or text form; Rewrap writes the
	// new envelope in the same form.
	Sealed []byte
}

// EnvelopeStore is what Rewrap needs from storage.
type EnvelopeStore interface {
	// ListEnvelopes returns a page of stored envelopes from cursor ("" for
	// the start) and the cursor of the next page ("" after the last).
	// Cursors are opaque and stable, so a run can resume from one.
	ListEnvelopes(ctx context.Context, cursor string) (page []StoredEnvelope, next string, err error)

	// ReplaceEnvelope writes newSealed in place of old.Sealed at old.Ref,
	// conditionally: if the stored value is no longer old.Sealed it writes
	// nothing and returns an error wrapping ErrEnvelopeChanged.
	ReplaceEnvelope(ctx context.Context, old StoredEnvelope, newSealed []byte) error
}

// RewrapResult counts what a Rewrap run did.
type RewrapResult struct {
	// Scanned is how many envelopes were looked at.
	Scanned int
	// Moved were re-wrapped under the target key and written back.
	Moved int
	// AlreadyCurrent were under the target key already.
	AlreadyCurrent int
	// Skipped changed in the store between listing and writing (a newer
	// write won); a later run looks at them again.
	Skipped int
	// Failed do not open with their stored context, or are not envelopes;
	// FailedRefs lists the first 100 of them.
	Failed     int
	FailedRefs []ItemRef
	// Cursor is where to resume: the start of the page being worked on when
	// the run stopped, or "" when Done.
	Cursor string
	// Done is true when the run reached the end of the store.
	Done bool
}

const maxFailedRefs = 100

// RewrapOption configures Rewrap.
type RewrapOption func(*rewrapConfig)

type rewrapConfig struct {
	progress func(RewrapResult)
}

// WithProgress calls fn after each page with the totals so far and the
// cursor of the next page, so a caller can record where to resume.
func WithProgress(fn func(RewrapResult)) RewrapOption {
	return func(c *rewrapConfig) { c.progress = fn }
}

// Rewrap moves stored envelopes to targetKeyID, starting at cursor. For
// each envelope not already under the target it asks the keyring to
// ReEncrypt the data key only (KMS ReEncrypt: the data key never leaves
// KMS) and writes an envelope with the new key id and wrapped key and the
// same nonce and body, conditionally on the stored value being unchanged.
//
// Envelopes that do not open or are not envelopes are counted as Failed and
// the run goes on; a keyring or store failure stops it, and the result's
// Cursor says where to resume. Running it again is safe: what was moved is
// then AlreadyCurrent. Pass the key's ARN as targetKeyID: with an alias,
// envelopes already under the aliased key are recognised only after a
// ReEncrypt call each.
func Rewrap(ctx context.Context, store EnvelopeStore, kr Keyring, targetKeyID, cursor string, opts ...RewrapOption) (RewrapResult, error) {
	var cfg rewrapConfig
	for _, o := range opts {
		o(&cfg)
	}
	res := RewrapResult{Cursor: cursor}
	if targetKeyID == "" {
		return res, fmt.Errorf("%w: empty target key id", ErrConfig)
	}
	for {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		page, next, err := store.ListEnvelopes(ctx, cursor)
		if err != nil {
			return res, fmt.Errorf("vault: rewrap: list envelopes: %w", err)
		}
		for _, se := range page {
			if err := rewrapOne(ctx, store, kr, targetKeyID, se, &res); err != nil {
				return res, err
			}
		}
		if next != "" && next == cursor {
			return res, errors.New("vault: rewrap: store returned the same cursor twice")
		}
		cursor = next
		res.Cursor = next
		res.Done = next == ""
		if cfg.progress != nil {
			cfg.progress(res)
		}
		if res.Done {
			return res, nil
		}
	}
}

func rewrapOne(ctx context.Context, store EnvelopeStore, kr Keyring, target string, se StoredEnvelope, res *RewrapResult) error {
	res.Scanned++
	fail := func() {
		res.Failed++
		if len(res.FailedRefs) < maxFailedRefs {
			res.FailedRefs = append(res.FailedRefs, se.Ref)
		}
	}
	e, err := parseEnvelope(se.Sealed)
	if err != nil || se.Context.Validate() != nil {
		fail()
		return nil
	}
	if e.keyID == target {
		res.AlreadyCurrent++
		return nil
	}
	newKeyID, newEDK, err := kr.ReEncrypt(ctx, e.keyID, e.edk, se.Context, target)
	switch {
	case errors.Is(err, ErrCannotOpen):
		fail()
		return nil
	case err != nil:
		return fmt.Errorf("vault: rewrap: %w", keyringError(err))
	}
	if newKeyID == e.keyID {
		res.AlreadyCurrent++
		return nil
	}
	if newKeyID == "" || len(newKeyID) > maxKeyID || len(newEDK) == 0 || len(newEDK) > maxEDK {
		return fmt.Errorf("%w: rewrap: keyring returned an unusable wrapped key", ErrKeyring)
	}
	moved := envelope{version: e.version, keyID: newKeyID, edk: newEDK, nonce: e.nonce, body: e.body}
	out := moved.marshal()
	if IsText(se.Sealed) {
		out = []byte(EncodeString(out))
	}
	switch err := store.ReplaceEnvelope(ctx, se, out); {
	case errors.Is(err, ErrEnvelopeChanged):
		res.Skipped++
	case err != nil:
		return fmt.Errorf("vault: rewrap: replace envelope: %w", err)
	default:
		res.Moved++
	}
	return nil
}
