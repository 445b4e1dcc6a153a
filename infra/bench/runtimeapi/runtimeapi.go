// Package runtimeapi is a minimal local implementation of the AWS Lambda
// Runtime API (version 2018-06-01), the HTTP interface a custom runtime such
// as aws-lambda-go's polls for work. The bench starts a function's real
// bootstrap with AWS_LAMBDA_RUNTIME_API pointing here and times it from
// process start to its first answer.
//
// What it serves, as Lambda does for one execution environment:
//
//	GET  /2018-06-01/runtime/invocation/next            blocks until an invocation is queued
//	POST /2018-06-01/runtime/invocation/{id}/response   the function's answer (202)
//	POST /2018-06-01/runtime/invocation/{id}/error      the function's error (202)
//	POST /2018-06-01/runtime/init/error                 the runtime failed to start (202)
//
// It does not emulate the Extensions or Telemetry APIs, response streaming
// or the sandbox itself (no freezing, no memory or time limits enforced).
package runtimeapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

const (
	// MaxResponseBytes is Lambda's limit on a synchronous response payload.
	MaxResponseBytes = 6 << 20
	// DefaultTimeout is the invocation deadline given to the function.
	DefaultTimeout = 30 * time.Second

	prefix = "/2018-06-01/runtime"
)

// Options tune Start. The zero value is fine.
type Options struct {
	// FunctionARN is sent as Lambda-Runtime-Invoked-Function-Arn.
	FunctionARN string
	// Timeout sets each invocation's deadline (Lambda-Runtime-Deadline-Ms);
	// DefaultTimeout when zero.
	Timeout time.Duration
	// Now is the clock for the times in Result; time.Now when nil.
	Now func() time.Time
}

// Server is a running Runtime API on 127.0.0.1.
type Server struct {
	// Addr is host:port, the value for AWS_LAMBDA_RUNTIME_API.
	Addr string

	opt   Options
	hs    *http.Server
	queue chan *Invocation

	mu        sync.Mutex
	inflight  map[string]*Invocation
	firstNext time.Time
	initErr   *FunctionError
	initDone  chan struct{} // closed when the runtime reports an init error
}

// Invocation is one queued event and, once the function answers, its
// result.
type Invocation struct {
	id      string
	payload []byte
	done    chan struct{}
	res     Result
}

// Result is what the function did with one invocation.
type Result struct {
	RequestID string
	// Payload is the response body, or the error document when Err is set.
	Payload []byte
	// Err is set when the function reported an error.
	Err *FunctionError
	// Taken is when the function received the event (its GET next was
	// answered); Done is when its answer had fully arrived.
	Taken, Done time.Time
}

// FunctionError is an error a function reports (the body of .../error and
// init/error, in aws-lambda-go's shape).
type FunctionError struct {
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
}

func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

// ErrInit is the cause when the runtime reported that it could not start.
var ErrInit = errors.New("runtimeapi: the runtime reported an init error")

// Start listens on a free loopback port and serves the Runtime API.
func Start(opt Options) (*Server, error) {
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultTimeout
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("runtimeapi: listening: %w", err)
	}
	s := &Server{
		Addr:     ln.Addr().String(),
		opt:      opt,
		queue:    make(chan *Invocation, 64),
		inflight: map[string]*Invocation{},
		initDone: make(chan struct{}),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+prefix+"/invocation/next", s.next)
	mux.HandleFunc("POST "+prefix+"/invocation/{id}/response", s.response)
	mux.HandleFunc("POST "+prefix+"/invocation/{id}/error", s.invocationError)
	mux.HandleFunc("POST "+prefix+"/init/error", s.initError)
	s.hs = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.hs.Serve(ln) }()
	return s, nil
}

// Close stops the server; invocations still waiting fail.
func (s *Server) Close() { _ = s.hs.Close() }

// Enqueue queues an event for the function's next GET next, in order.
func (s *Server) Enqueue(payload []byte) *Invocation {
	inv := &Invocation{id: newRequestID(), payload: payload, done: make(chan struct{})}
	s.queue <- inv
	return inv
}

// Invoke queues an event and waits for the function's answer.
func (s *Server) Invoke(ctx context.Context, payload []byte) (Result, error) {
	return s.Wait(ctx, s.Enqueue(payload))
}

// Wait waits for the function to answer inv, to report an init error, or
// for ctx to end.
func (s *Server) Wait(ctx context.Context, inv *Invocation) (Result, error) {
	select {
	case <-inv.done:
		return inv.res, nil
	case <-s.initDone:
		s.mu.Lock()
		defer s.mu.Unlock()
		return Result{}, fmt.Errorf("%w: %w", ErrInit, s.initErr)
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
}

// FirstNext is when the function first asked for work: its runtime and its
// own initialisation were done. Zero until then.
func (s *Server) FirstNext() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.firstNext
}

func (s *Server) next(w http.ResponseWriter, r *http.Request) {
	now := s.opt.Now()
	s.mu.Lock()
	if s.firstNext.IsZero() {
		s.firstNext = now
	}
	s.mu.Unlock()
	var inv *Invocation
	select {
	case inv = <-s.queue:
	case <-r.Context().Done():
		return // the function went away; nothing was handed out
	}
	taken := s.opt.Now()
	s.mu.Lock()
	inv.res.Taken = taken
	s.inflight[inv.id] = inv
	s.mu.Unlock()
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(taken.Add(s.opt.Timeout).UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", s.opt.FunctionARN)
	h.Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(inv.payload)
}

// take removes the in-flight invocation id; nil when there is none.
func (s *Server) take(id string) *Invocation {
	s.mu.Lock()
	defer s.mu.Unlock()
	inv := s.inflight[id]
	delete(s.inflight, id)
	return inv
}

func (s *Server) response(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxResponseBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			// Lambda fails the invocation when the payload is over the limit.
			if inv := s.take(r.PathValue("id")); inv != nil {
				s.finish(inv, body, &FunctionError{Type: "Function.ResponseSizeTooLarge", Message: "response payload over 6 MB"})
			}
			writeStatus(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "response payload over 6 MB")
			return
		}
		writeStatus(w, http.StatusBadRequest, "InvalidRequest", "the body could not be read")
		return
	}
	inv := s.take(r.PathValue("id"))
	if inv == nil {
		writeStatus(w, http.StatusBadRequest, "InvalidRequestID", "no invocation in flight has this id")
		return
	}
	// aws-lambda-go reports a failure met while streaming the body in
	// trailers, after the body.
	var ferr *FunctionError
	if t := r.Trailer.Get("Lambda-Runtime-Function-Error-Type"); t != "" {
		ferr = &FunctionError{Type: t, Message: r.Trailer.Get("Lambda-Runtime-Function-Error-Body")}
	}
	s.finish(inv, body, ferr)
	writeStatus(w, http.StatusAccepted, "", "")
}

func (s *Server) invocationError(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxResponseBytes))
	inv := s.take(r.PathValue("id"))
	if inv == nil {
		writeStatus(w, http.StatusBadRequest, "InvalidRequestID", "no invocation in flight has this id")
		return
	}
	s.finish(inv, body, errorOf(r, body))
	writeStatus(w, http.StatusAccepted, "", "")
}

func (s *Server) initError(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxResponseBytes))
	s.mu.Lock()
	if s.initErr == nil {
		s.initErr = errorOf(r, body)
		close(s.initDone)
	}
	s.mu.Unlock()
	writeStatus(w, http.StatusAccepted, "", "")
}

func (s *Server) finish(inv *Invocation, payload []byte, ferr *FunctionError) {
	inv.res.RequestID = inv.id
	inv.res.Payload = payload
	inv.res.Err = ferr
	inv.res.Done = s.opt.Now()
	close(inv.done)
}

// errorOf reads an error document; the type header wins over the body's.
func errorOf(r *http.Request, body []byte) *FunctionError {
	var e FunctionError
	_ = json.Unmarshal(body, &e)
	if t := r.Header.Get("Lambda-Runtime-Function-Error-Type"); t != "" {
		e.Type = t
	}
	if e.Type == "" {
		e.Type = "Unhandled"
	}
	return &e
}

// writeStatus answers as the Runtime API does: {"status":"OK"} on 202, an
// error document otherwise.
func writeStatus(w http.ResponseWriter, status int, errType, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if status == http.StatusAccepted {
		_, _ = io.WriteString(w, `{"status":"OK"}`)
		return
	}
	raw, _ := json.Marshal(FunctionError{Type: errType, Message: msg})
	_, _ = w.Write(raw)
}

// newRequestID is a random UUID, the form of Lambda's request ids.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
