package fakeokta_test

import (
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"entra2okta/internal/emu/fakeokta"
)

func TestFaultInjection(t *testing.T) {
	c := newClock()
	e := newEnv(t, fakeokta.Options{Now: c.Now})

	t.Run("fail next n with Okta error bodies", func(t *testing.T) {
		e.srv.FailNext(fakeokta.RouteListUsers, 2, http.StatusServiceUnavailable)
		e.do("GET", "/api/v1/users", nil).wantStatus(t, 503, "E0000009")
		e.do("GET", "/api/v1/users", nil).wantStatus(t, 503, "E0000009")
		e.do("GET", "/api/v1/users", nil).wantStatus(t, 200, "")
	})
	t.Run("429 with reset", func(t *testing.T) {
		e.srv.InjectFault(fakeokta.RouteCreateUser, fakeokta.Fault{Status: 429, ResetIn: 7 * time.Second, Times: 1})
		r := e.do("POST", "/api/v1/users", hookUser("f@example.com"))
		r.wantStatus(t, 429, "E0000047")
		if got := r.header.Get("X-Rate-Limit-Reset"); got != strconv.FormatInt(c.Now().Unix()+7, 10) {
			t.Errorf("reset = %s", got)
		}
		if r.header.Get("X-Rate-Limit-Remaining") != "0" {
			t.Errorf("remaining = %s", r.header.Get("X-Rate-Limit-Remaining"))
		}
	})
	t.Run("429 without reset", func(t *testing.T) {
		e.srv.InjectFault(fakeokta.RouteGetUser, fakeokta.Fault{Status: 429, OmitReset: true, Times: 1})
		r := e.do("GET", "/api/v1/users/x", nil)
		r.wantStatus(t, 429, "E0000047")
		if _, ok := r.header["X-Rate-Limit-Reset"]; ok {
			t.Errorf("reset sent: %v", r.header)
		}
	})
	t.Run("drop", func(t *testing.T) {
		e.srv.DropNext(fakeokta.RouteListUsers, 1)
		req, _ := http.NewRequest("GET", e.url+"/api/v1/users", nil)
		req.Header.Set("Authorization", "SSWS "+fakeokta.DefaultAPIToken)
		// A fresh connection: the transport replays a GET that failed on a reused one.
		fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		if res, err := fresh.Do(req); err == nil {
			res.Body.Close()
			t.Fatalf("dropped request answered %d", res.StatusCode)
		}
		e.do("GET", "/api/v1/users", nil).wantStatus(t, 200, "")
	})
	t.Run("error rate on any route", func(t *testing.T) {
		e.srv.SetErrorRate(fakeokta.RouteAny, 1)
		e.do("GET", "/api/v1/logs", nil).wantStatus(t, 500, "E0000009")
		e.srv.ClearFaults()
		e.do("GET", "/api/v1/logs", nil).wantStatus(t, 200, "")
	})
	t.Run("latency", func(t *testing.T) {
		e.srv.SetLatency(fakeokta.RouteListUsers, 150*time.Millisecond)
		start := time.Now()
		e.do("GET", "/api/v1/users", nil).wantStatus(t, 200, "")
		if d := time.Since(start); d < 150*time.Millisecond {
			t.Errorf("answered after %s", d)
		}
		e.srv.ClearFaults()
	})
	t.Run("unknown route panics", func(t *testing.T) {
		defer func() {
			if recover() == nil {
				t.Error("no panic")
			}
		}()
		e.srv.FailNext("GET /api/v1/user", 1, 500)
	})
	if got := e.srv.Calls(fakeokta.RouteListUsers); got < 6 {
		t.Errorf("Calls(list) = %d", got)
	}
}

func TestConcurrencyLimit(t *testing.T) {
	e := newEnv(t, fakeokta.Options{ConcurrencyLimit: 1})
	e.srv.SetLatency(fakeokta.RouteListUsers, 500*time.Millisecond)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		e.do("GET", "/api/v1/users", nil)
	}()
	deadline := time.Now().Add(2 * time.Second)
	for e.srv.InFlight() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	r := e.do("GET", "/api/v1/users/x", nil)
	r.wantStatus(t, 429, "E0000047")
	if r.header.Get("X-Rate-Limit-Limit") != "0" || r.header.Get("X-Rate-Limit-Remaining") != "0" || r.header.Get("X-Rate-Limit-Reset") == "" {
		t.Errorf("concurrency 429 headers: %v", r.header)
	}
	wg.Wait()
}
