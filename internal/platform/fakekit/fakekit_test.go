package fakekit

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestRecorder(t *testing.T) {
	var r Recorder[string]
	if got := r.Requests(); got != nil {
		t.Fatalf("empty log = %v, want nil", got)
	}
	r.Record("a", "first")
	i := r.Log("unrouted")
	r.Count("a")
	r.Update(i, func(s *string) { *s += "!" })
	if r.Calls("a") != 2 || r.Calls("b") != 0 {
		t.Fatalf("calls a=%d b=%d, want 2 and 0", r.Calls("a"), r.Calls("b"))
	}
	got := r.Requests()
	if len(got) != 2 || got[0] != "first" || got[1] != "unrouted!" {
		t.Fatalf("log = %q", got)
	}
	got[0] = "changed"
	if r.Requests()[0] != "first" {
		t.Fatal("Requests shares the log")
	}
}

func TestFailures(t *testing.T) {
	var f Failures[int]
	if _, ok := f.Next("op"); ok {
		t.Fatal("a failure from an empty queue")
	}
	f.Add("op", 1, 2)
	f.Add("op", 2, 1)
	f.Add("op", 3, 0)
	for _, want := range []int{1, 1, 2} {
		if got, ok := f.Next("op"); !ok || got != want {
			t.Fatalf("Next = %d, %v; want %d", got, ok, want)
		}
	}
	if _, ok := f.Next("op"); ok {
		t.Fatal("the queue did not run out")
	}
}

func TestCanned(t *testing.T) {
	w := httptest.NewRecorder()
	Canned{Status: 429, Header: http.Header{"Retry-After": {"1"}, "Content-Type": {"text/plain"}}, Body: `{"x":1}`}.
		Write(w, "application/json")
	if w.Code != 429 || w.Header().Get("Retry-After") != "1" || w.Header().Get("Content-Type") != "application/json" || w.Body.String() != `{"x":1}` {
		t.Fatalf("answer %d %v %q", w.Code, w.Header(), w.Body)
	}
}

func TestTokens(t *testing.T) {
	req := func(auth string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		return r
	}
	var tk Tokens
	tk.Reject("bad")
	for auth, want := range map[string]bool{"": false, "Bearer good": true, "Bearer bad": false, "Basic good": false, "Bearer ": false} {
		if got := tk.Allowed(req(auth)); got != want {
			t.Errorf("Allowed(%q) = %v, want %v", auth, got, want)
		}
	}
	if tok, ok := Bearer(req("Bearer  x")); !ok || tok != " x" {
		t.Errorf("Bearer = %q, %v; want the token as sent", tok, ok)
	}
}

func TestWriteJSON(t *testing.T) {
	w := httptest.NewRecorder()
	WriteJSON(w, 201, map[string]int{"a": 1})
	if w.Code != 201 || w.Header().Get("Content-Type") != ContentTypeJSON || w.Body.String() != "{\"a\":1}\n" {
		t.Fatalf("answer %d %v %q", w.Code, w.Header(), w.Body)
	}
}
