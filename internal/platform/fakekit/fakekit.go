// Package fakekit is the bookkeeping the platform fakes (youtubefake,
// zoomfake, vercelfake, ...) share: the request log and the call count per
// operation, the queue of injected failures per operation, the set of
// rejected tokens, bearer-token extraction and JSON answers.
//
// What a platform answers (its error shapes, status codes and headers)
// stays in its fake; fakekit only keeps count. Every type here is safe for
// concurrent use, ready at its zero value, and takes only its own lock, so
// a fake may call it while holding its own.
package fakekit

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
)

// Recorder is a fake's request log, with how many calls each operation
// received. R is the fake's own request record.
type Recorder[R any] struct {
	mu    sync.Mutex
	calls map[string]int
	log   []R
}

// Record logs req and counts a call of op. It returns req's place in the
// log, for Update.
func (r *Recorder[R]) Record(op string, req R) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.count(op)
	r.log = append(r.log, req)
	return len(r.log) - 1
}

// Log logs req without counting a call (a request that matched no
// operation). It returns req's place in the log, for Update.
func (r *Recorder[R]) Log(req R) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log = append(r.log, req)
	return len(r.log) - 1
}

// Count counts a call of op.
func (r *Recorder[R]) Count(op string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.count(op)
}

func (r *Recorder[R]) count(op string) {
	if r.calls == nil {
		r.calls = map[string]int{}
	}
	r.calls[op]++
}

// Update changes the logged request at i (from Record or Log), e.g. to
// add the answer once it is known.
func (r *Recorder[R]) Update(i int, f func(*R)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(&r.log[i])
}

// Calls is how many calls op received.
func (r *Recorder[R]) Calls(op string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[op]
}

// Requests is a copy of the log, oldest first (nil when empty).
func (r *Recorder[R]) Requests() []R {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.log)
}

// Failures is a queue of injected failures per operation. F is whatever
// the fake needs to answer one (a status and an error code, a Canned
// answer, ...).
type Failures[F any] struct {
	mu sync.Mutex
	q  map[string][]F
}

// Add queues f for the next n calls of op (none when n < 1).
func (fs *Failures[F]) Add(op string, f F, n int) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.q == nil {
		fs.q = map[string][]F{}
	}
	for range n {
		fs.q[op] = append(fs.q[op], f)
	}
}

// Next takes the failure queued first for op; ok is false when there is
// none.
func (fs *Failures[F]) Next(op string) (f F, ok bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	q := fs.q[op]
	if len(q) == 0 {
		return f, false
	}
	fs.q[op] = q[1:]
	return q[0], true
}

// Canned is an answer prepared in full: status, extra headers and body.
type Canned struct {
	Status int
	Header http.Header
	Body   string
}

// Write answers c with the given Content-Type (which wins over one in
// c.Header).
func (c Canned) Write(w http.ResponseWriter, contentType string) {
	for k, vs := range c.Header {
		w.Header()[k] = vs
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(c.Status)
	_, _ = io.WriteString(w, c.Body)
}

// Tokens is the set of tokens a fake refuses.
type Tokens struct {
	mu       sync.Mutex
	rejected map[string]bool
}

// Reject makes tok refused from now on.
func (t *Tokens) Reject(tok string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.rejected == nil {
		t.rejected = map[string]bool{}
	}
	t.rejected[tok] = true
}

// Rejected reports whether tok was given to Reject.
func (t *Tokens) Rejected(tok string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.rejected[tok]
}

// Allowed reports whether r carries a bearer token (see Bearer) that is
// not rejected.
func (t *Tokens) Allowed(r *http.Request) bool {
	tok, ok := Bearer(r)
	return ok && !t.Rejected(tok)
}

// Bearer is the token of r's "Authorization: Bearer <token>" header, as
// sent (after the one space), and whether there is one that is not blank.
func Bearer(r *http.Request) (string, bool) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return tok, ok && strings.TrimSpace(tok) != ""
}

// ContentTypeJSON is WriteJSON's Content-Type.
const ContentTypeJSON = "application/json; charset=UTF-8"

// WriteJSON answers status with v as JSON, as application/json; charset=UTF-8.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	WriteJSONAs(w, ContentTypeJSON, status, v)
}

// WriteJSONAs answers status with v as JSON, with the given Content-Type
// (platforms spell it differently).
func WriteJSONAs(w http.ResponseWriter, contentType string, status int, v any) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
