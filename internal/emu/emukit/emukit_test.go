package emukit

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

type route string

func TestLogKeepsTheLastRecords(t *testing.T) {
	l := NewLog[int](10)
	for i := 0; i < 1000; i++ {
		l.Append(i)
		if n := len(l.items); n >= 20 {
			t.Fatalf("log grew to %d records", n)
		}
		got := l.All()
		if got[len(got)-1] != i || (i >= 9 && (len(got) != 10 || got[0] != i-9)) {
			t.Fatalf("after %d: last records %v", i, got)
		}
	}
	l.Reset()
	if got := l.All(); len(got) != 0 {
		t.Fatalf("after Reset: %v", got)
	}
}

func TestFaultsInOrderTimesAndMatch(t *testing.T) {
	var fs Faults[route, string]
	if _, ok := fs.Take(nil, "a"); ok {
		t.Fatal("the zero value took a fault")
	}
	fs.Add("a", "first", 1)
	fs.Add("a", "second", 0)
	fs.Add("*", "any", 0)
	if f, _ := fs.Take(nil, "a", "*"); f != "first" {
		t.Fatalf("first take = %q", f)
	}
	for range 3 {
		if f, _ := fs.Take(nil, "a", "*"); f != "second" {
			t.Fatalf("take after the first is used up = %q, want second (until Clear)", f)
		}
	}
	if f, _ := fs.Take(func(f string) bool { return f == "any" }, "a", "*"); f != "any" {
		t.Fatalf("matched take = %q, want any", f)
	}
	if f, ok := fs.Take(nil, "b"); ok {
		t.Fatalf("route b took %q", f)
	}
	fs.Clear()
	if f, ok := fs.Take(nil, "a", "*"); ok {
		t.Fatalf("after Clear took %q", f)
	}
}

func TestCounts(t *testing.T) {
	var c Counts[route]
	c.Add("a")
	c.Add("a")
	c.Add("b")
	if c.Get("a") != 2 || c.Get("b") != 1 || c.Get("c") != 0 || c.Total() != 3 {
		t.Fatalf("a=%d b=%d c=%d total=%d", c.Get("a"), c.Get("b"), c.Get("c"), c.Total())
	}
	c.Reset()
	if c.Total() != 0 {
		t.Fatalf("total after Reset = %d", c.Total())
	}
}

func TestMuxNamesThePatternThatMatched(t *testing.T) {
	m := NewMux[route]()
	m.Handle("get-user", "GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "user "+r.PathValue("id"))
	})
	m.Handle("members", "GET /groups/{id}/members", func(http.ResponseWriter, *http.Request) {})
	m.Handle("members", "GET /groups/{id}/members/{cast}", func(http.ResponseWriter, *http.Request) {})
	for _, tc := range []struct {
		method, path string
		want         route
		ok           bool
	}{
		{"GET", "/users/42", "get-user", true},
		{"HEAD", "/users/42", "get-user", true},
		{"GET", "/groups/7/members", "members", true},
		{"GET", "/groups/7/members/graph.user", "members", true},
		{"POST", "/users/42", "", false},
		{"GET", "/nothing", "", false},
	} {
		got, ok := m.Match(httptest.NewRequest(tc.method, tc.path, nil))
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s %s: %q %v, want %q %v", tc.method, tc.path, got, ok, tc.want, tc.ok)
		}
	}
	if !m.Known("members") || m.Known("unknown") {
		t.Error("Known")
	}
	w := httptest.NewRecorder()
	m.ServeHTTP(w, httptest.NewRequest("GET", "/users/a%40b", nil))
	if w.Body.String() != "user a@b" {
		t.Errorf("served %q", w.Body.String())
	}
}

func TestStatusRecorder(t *testing.T) {
	rec := &StatusRecorder{ResponseWriter: httptest.NewRecorder()}
	if rec.Written() || rec.Status() != http.StatusOK {
		t.Fatalf("fresh: written %v status %d", rec.Written(), rec.Status())
	}
	rec.WriteHeader(http.StatusTeapot)
	rec.WriteHeader(http.StatusOK) // ignored by net/http too
	if !rec.Written() || rec.Status() != http.StatusTeapot {
		t.Fatalf("written %v status %d", rec.Written(), rec.Status())
	}
	rec = &StatusRecorder{ResponseWriter: httptest.NewRecorder()}
	_, _ = rec.Write([]byte("x"))
	if rec.Status() != http.StatusOK {
		t.Fatalf("status after Write = %d", rec.Status())
	}
}

func TestWait(t *testing.T) {
	if !Wait(context.Background(), 0, nil) {
		t.Fatal("Wait(0) = false")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if Wait(ctx, time.Hour, nil) {
		t.Fatal("Wait on an ended context = true")
	}
	stop := make(chan struct{})
	close(stop)
	if !Wait(context.Background(), time.Hour, stop) {
		t.Fatal("Wait released by stop = false")
	}
	start := time.Now()
	if !Wait(context.Background(), 20*time.Millisecond, nil) || time.Since(start) < 20*time.Millisecond {
		t.Fatal("Wait(20ms) returned early")
	}
}

// TestServeTLSAndDrop serves over TLS and drops one request: the client sees
// a transport error, no answer; the next request is answered.
func TestServeTLSAndDrop(t *testing.T) {
	dropped := false
	srv, err := ServeTLS(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !dropped {
			dropped = true
			Drop(&StatusRecorder{ResponseWriter: w})
			return
		}
		_, _ = io.WriteString(w, "ok")
	}), "", "emulator.test")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	c := srv.HTTPClient(5 * time.Second)
	c.Transport.(*http.Transport).DisableKeepAlives = true
	resp, err := c.Post(srv.URL+"/x", "text/plain", nil) // POST: the client does not retry it
	if err == nil {
		resp.Body.Close()
		t.Fatalf("dropped request answered %d", resp.StatusCode)
	}
	resp, err = c.Get(srv.URL + "/x")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if string(body) != "ok" {
		t.Fatalf("body %q", body)
	}
}

func TestServeTLSRefusesABusyAddress(t *testing.T) {
	a, err := ServeTLS(http.NotFoundHandler(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	addr := a.URL[len("https://"):]
	if _, err := ServeTLS(http.NotFoundHandler(), addr); err == nil {
		t.Fatalf("second listener on %s: %v", addr, err)
	}
}

func TestLogRequestNamesTheRequestNotItsCredentials(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r := httptest.NewRequest("POST", "/api/v1/authn", strings.NewReader(`{"password":"secret-pw"}`))
	r.Header.Set("Authorization", "SSWS secret-token")
	LogRequest(l, "emu request", r, "POST /api/v1/authn", 401, time.Now(), "requestId", "r1")
	line := buf.String()
	for _, want := range []string{"msg=\"emu request\"", "method=POST", "route=\"POST /api/v1/authn\"", "path=/api/v1/authn", "status=401", "duration=", "requestId=r1"} {
		if !strings.Contains(line, want) {
			t.Errorf("log line %q lacks %s", line, want)
		}
	}
	if strings.Contains(line, "secret") {
		t.Errorf("log line %q carries a credential", line)
	}
}

func TestDefaults(t *testing.T) {
	if Positive(0, 5) != 5 || Positive(-1, 5) != 5 || Positive(3, 5) != 3 {
		t.Error("Positive(int)")
	}
	if Positive(time.Duration(0), time.Second) != time.Second || Positive(time.Minute, time.Second) != time.Minute {
		t.Error("Positive(Duration)")
	}
	fixed := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if !Clock(func() time.Time { return fixed })().Equal(fixed) {
		t.Error("Clock kept no clock given")
	}
	if d := time.Since(Clock(nil)()); d < 0 || d > time.Minute {
		t.Errorf("Clock(nil) is %s off time.Now", d)
	}
	if Logger(nil) == nil || Logger(slog.Default()) != slog.Default() {
		t.Error("Logger")
	}
}
