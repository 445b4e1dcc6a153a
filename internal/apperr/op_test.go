package apperr_test

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/apperr"
)

// TestWithOpNamesTheOperationAndKeepsTheAnswer pins that recording the
// failed operation changes the error's text for logs and nothing a caller
// sees: kind, code, detail, retry hint, fields and cause stay.
func TestWithOpNamesTheOperationAndKeepsTheAnswer(t *testing.T) {
	t.Parallel()
	cause := errors.New("boom")
	orig := apperr.Wrap(apperr.Unavailable, apperr.CodeStorageBusy, "try again", cause)
	orig.RetryAfter = 2 * time.Second
	orig.Fields = map[string]any{"platform": "youtube"}

	err := apperr.WithOp("livestream.Create", orig)
	e, ok := apperr.As(err)
	if !ok {
		t.Fatalf("WithOp lost the domain error: %v", err)
	}
	if e.Op != "livestream.Create" || err.Error() != "livestream.Create: storage_busy: try again: boom" {
		t.Errorf("got op %q and text %q, want the op named first", e.Op, err.Error())
	}
	if e.Kind != orig.Kind || e.Code != orig.Code || e.Detail != orig.Detail || e.RetryAfter != orig.RetryAfter ||
		!reflect.DeepEqual(e.Fields, orig.Fields) || !errors.Is(err, cause) {
		t.Errorf("WithOp changed the answer: got %+v, want %+v", e, orig)
	}
	if orig.Op != "" {
		t.Errorf("WithOp changed the error it was given: op %q", orig.Op)
	}

	outer := apperr.WithOp("connection.Token", apperr.WithOp("store.get", orig))
	if got, _ := apperr.As(outer); got.Op != "connection.Token: store.get" {
		t.Errorf("nested ops: got %q, want the outer operation first", got.Op)
	}

	plain := apperr.WithOp("meeting.Get", fmt.Errorf("wrapped: %w", apperr.ErrConditionFailed))
	if !errors.Is(plain, apperr.ErrConditionFailed) || plain.Error() != "meeting.Get: wrapped: store: condition failed" {
		t.Errorf("a plain error: got %q, want the op as a prefix and the cause kept", plain)
	}
	if apperr.WithOp("x", nil) != nil {
		t.Error("WithOp of nil is not nil")
	}
}
