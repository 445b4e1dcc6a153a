package runtimeapi_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/infra/bench/runtimeapi"
)

const base = "/2018-06-01/runtime"

func start(t *testing.T) *runtimeapi.Server {
	t.Helper()
	s, err := runtimeapi.Start(runtimeapi.Options{FunctionARN: "arn:aws:lambda:us-east-1:123456789012:function:f", Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// do sends one request as a runtime would and returns status, body and headers.
func do(t *testing.T, s *runtimeapi.Server, method, path, body string, hdr map[string]string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+s.Addr+path, strings.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw), resp.Header
}

func TestNextHandsOutQueuedEventsInOrderWithLambdasHeaders(t *testing.T) {
	t.Parallel()
	s := start(t)
	if !s.FirstNext().IsZero() {
		t.Fatal("FirstNext set before any call")
	}
	first := s.Enqueue([]byte(`{"n":1}`))
	s.Enqueue([]byte(`{"n":2}`))
	before := time.Now()
	status, body, h := do(t, s, "GET", base+"/invocation/next", "", nil)
	if status != 200 || body != `{"n":1}` {
		t.Fatalf("next: %d %s", status, body)
	}
	id := h.Get("Lambda-Runtime-Aws-Request-Id")
	deadline, err := strconv.ParseInt(h.Get("Lambda-Runtime-Deadline-Ms"), 10, 64)
	if id == "" || err != nil || time.UnixMilli(deadline).Before(before.Add(59*time.Second)) ||
		h.Get("Lambda-Runtime-Invoked-Function-Arn") != "arn:aws:lambda:us-east-1:123456789012:function:f" ||
		h.Get("Lambda-Runtime-Trace-Id") == "" {
		t.Fatalf("headers %v", h)
	}
	if s.FirstNext().Before(before) {
		t.Fatalf("FirstNext %v is before the call at %v", s.FirstNext(), before)
	}
	if status, _, _ := do(t, s, "POST", base+"/invocation/"+id+"/response", `{"ok":true}`, nil); status != http.StatusAccepted {
		t.Fatalf("response: %d", status)
	}
	res, err := s.Wait(context.Background(), first)
	if err != nil || string(res.Payload) != `{"ok":true}` || res.Err != nil || res.RequestID != id {
		t.Fatalf("%+v %v", res, err)
	}
	if res.Taken.Before(before) || res.Done.Before(res.Taken) {
		t.Fatalf("times taken %v done %v", res.Taken, res.Done)
	}
	// The second event comes next, and an answer for the first id again is refused.
	_, body, h = do(t, s, "GET", base+"/invocation/next", "", nil)
	if body != `{"n":2}` || h.Get("Lambda-Runtime-Aws-Request-Id") == id {
		t.Fatalf("second next: %s %v", body, h)
	}
	if status, _, _ := do(t, s, "POST", base+"/invocation/"+id+"/response", `{}`, nil); status != http.StatusBadRequest {
		t.Fatalf("a second answer to a finished invocation: %d", status)
	}
}

func TestNextWaitsForAnEvent(t *testing.T) {
	t.Parallel()
	s := start(t)
	got := make(chan string, 1)
	go func() {
		_, body, _ := do(t, s, "GET", base+"/invocation/next", "", nil)
		got <- body
	}()
	select {
	case b := <-got:
		t.Fatalf("next answered %q with nothing queued", b)
	case <-time.After(100 * time.Millisecond):
	}
	s.Enqueue([]byte(`"late"`))
	select {
	case b := <-got:
		if b != `"late"` {
			t.Fatalf("next answered %q", b)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("next did not answer once an event was queued")
	}
}

func TestAnErrorReportFinishesTheInvocationWithTheError(t *testing.T) {
	t.Parallel()
	s := start(t)
	inv := s.Enqueue([]byte(`{}`))
	_, _, h := do(t, s, "GET", base+"/invocation/next", "", nil)
	id := h.Get("Lambda-Runtime-Aws-Request-Id")
	status, body, _ := do(t, s, "POST", base+"/invocation/"+id+"/error",
		`{"errorMessage":"table missing","errorType":"errorString"}`, map[string]string{"Lambda-Runtime-Function-Error-Type": "Runtime.Unknown"})
	if status != http.StatusAccepted || body != `{"status":"OK"}` {
		t.Fatalf("error: %d %s", status, body)
	}
	res, err := s.Wait(context.Background(), inv)
	if err != nil || res.Err == nil || res.Err.Type != "Runtime.Unknown" || res.Err.Message != "table missing" {
		t.Fatalf("%+v %v", res, err)
	}
}

func TestUnknownRequestIDsAreRefused(t *testing.T) {
	t.Parallel()
	s := start(t)
	for _, op := range []string{"response", "error"} {
		status, body, _ := do(t, s, "POST", base+"/invocation/no-such-id/"+op, `{}`, nil)
		if status != http.StatusBadRequest || !strings.Contains(body, "InvalidRequestID") {
			t.Errorf("%s: %d %s", op, status, body)
		}
	}
}

func TestAnInitErrorEndsTheWait(t *testing.T) {
	t.Parallel()
	s := start(t)
	inv := s.Enqueue([]byte(`{}`))
	if status, _, _ := do(t, s, "POST", base+"/init/error", `{"errorMessage":"no TABLE_NAME","errorType":"Runtime.ExitError"}`, nil); status != http.StatusAccepted {
		t.Fatalf("init/error: %d", status)
	}
	_, err := s.Wait(context.Background(), inv)
	if !errors.Is(err, runtimeapi.ErrInit) || !strings.Contains(err.Error(), "no TABLE_NAME") {
		t.Fatalf("%v", err)
	}
}

func TestWaitEndsWithItsContext(t *testing.T) {
	t.Parallel()
	s := start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := s.Invoke(ctx, []byte(`{}`)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%v", err)
	}
}

// The real client: the hello function, built with aws-lambda-go, takes an
// event from the emulator and answers it.
func TestAnAWSLambdaGoFunctionRunsAgainstIt(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "bootstrap")
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build the hello function: %v", err)
	}
	build := exec.Command(goBin, "build", "-tags", "lambda.norpc", "-o", bin, "../hello")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building hello: %v\n%s", err, out)
	}
	s := start(t)
	inv := s.Enqueue([]byte(`{"rawPath":"/"}`))
	fn := exec.Command(bin)
	fn.Env = append(os.Environ(), "AWS_LAMBDA_RUNTIME_API="+s.Addr)
	if err := fn.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fn.Process.Kill(); _ = fn.Wait() })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := s.Wait(ctx, inv)
	if err != nil || res.Err != nil || !strings.Contains(string(res.Payload), `"statusCode":200`) {
		t.Fatalf("%+v %v", res, err)
	}
	if s.FirstNext().IsZero() || res.Taken.Before(s.FirstNext()) {
		t.Fatalf("first next %v, taken %v", s.FirstNext(), res.Taken)
	}
}
