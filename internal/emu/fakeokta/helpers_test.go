package fakeokta_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"entra2okta/internal/emu/fakeokta"
)

// env is an emulator served over plain HTTP with a client for it.
type env struct {
	t   *testing.T
	srv *fakeokta.Server
	url string
}

func newEnv(t *testing.T, opts fakeokta.Options) *env {
	t.Helper()
	s := fakeokta.New(opts)
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	return &env{t: t, srv: s, url: hs.URL}
}

// resp is a decoded answer.
type resp struct {
	status int
	header http.Header
	raw    []byte
	obj    map[string]any
	arr    []any
}

// do sends a request with the default SSWS token (token "" keeps it; "-"
// sends none) and decodes the answer.
func (e *env) do(method, path string, body any, hdr ...string) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "SSWS "+fakeokta.DefaultAPIToken)
	req.Header.Set("Accept", "application/json")
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := resp{status: res.StatusCode, header: res.Header, raw: raw}
	if len(bytes.TrimSpace(raw)) > 0 {
		if raw[0] == '[' {
			_ = json.Unmarshal(raw, &out.arr)
		} else if err := json.Unmarshal(raw, &out.obj); err != nil {
			e.t.Fatalf("%s %s: answer is not JSON: %q", method, path, raw)
		}
	}
	return out
}

// wantStatus fails unless r has the status; with code, it also checks the
// Okta error body's errorCode and shape.
func (r resp) wantStatus(t *testing.T, status int, code string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %s", r.status, status, r.raw)
	}
	if code == "" {
		return
	}
	for _, k := range []string{"errorCode", "errorSummary", "errorLink", "errorId", "errorCauses"} {
		if _, ok := r.obj[k]; !ok {
			t.Fatalf("error body lacks %s: %s", k, r.raw)
		}
	}
	if r.obj["errorCode"] != code || r.obj["errorLink"] != code {
		t.Fatalf("errorCode = %v, errorLink = %v, want %s; body %s", r.obj["errorCode"], r.obj["errorLink"], code, r.raw)
	}
}

func (r resp) causes() []string {
	var out []string
	list, _ := r.obj["errorCauses"].([]any)
	for _, c := range list {
		m, _ := c.(map[string]any)
		s, _ := m["errorSummary"].(string)
		out = append(out, s)
	}
	return out
}

func path(m map[string]any, keys ...string) any {
	var v any = m
	for _, k := range keys {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[k]
	}
	return v
}

func profile(login string) map[string]any {
	first, _, _ := strings.Cut(login, "@")
	return map[string]any{"login": login, "email": login, "firstName": first, "lastName": "Test"}
}

func hookUser(login string) map[string]any {
	return map[string]any{"profile": profile(login),
		"credentials": map[string]any{"password": map[string]any{"hook": map[string]any{"type": "default"}}}}
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
