package fakeentra

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"entra2okta/internal/emu/emukit"
)

// Fault is a failure to inject on a route. Set one behaviour: Body (a raw
// answer, e.g. a documented Microsoft body the emulator does not produce by
// itself), Status (429 or 5xx, with the body the endpoint documents), AADSTS (a token-endpoint error
// code answered as Entra would), Latency (answer normally after a delay),
// Hang (hold the request until the client gives up, HangFor passes or the
// server is released) or Drop (reset the connection without an answer).
type Fault struct {
	// Status is the HTTP status to answer: 429 adds Retry-After; 5xx answer
	// with the endpoint's error body.
	Status int
	// Body, when set, is answered verbatim with Status (default 200),
	// ContentType (default application/json; charset=utf-8) and, with a 429,
	// Retry-After.
	Body        string
	ContentType string
	// RetryAfter is sent as Retry-After in whole seconds with a 429
	// (default 1 s; a negative value sends no header, as some endpoints do).
	RetryAfter time.Duration
	// AADSTS makes the token endpoint answer this AADSTS code (its documented
	// error, suberror and status), whatever the credentials.
	AADSTS int
	// Latency delays the normal answer (the delay ends early when the client
	// gives up).
	Latency time.Duration
	// Hang holds the request without answering until the request's context
	// ends, the server is released, or HangFor (if non-zero) has passed; the
	// connection is then dropped.
	Hang    bool
	HangFor time.Duration
	// Drop aborts the connection without any answer.
	Drop bool
	// Times limits the fault to that many matching requests (0: until
	// ClearFaults).
	Times int
	// User restricts a token-route fault to ROPC requests for this username
	// and a UserRealm fault to that user (case-insensitive).
	User string
}

// InjectFault adds a fault on route. Faults are tried in the order added; the
// first one that matches and is not used up applies. It panics on an unknown
// route, which is a typo in a test.
func (s *Server) InjectFault(route Route, f Fault) {
	if !s.mux.Known(route) && route != RouteOther {
		panic(fmt.Sprintf("fakeentra: unknown route %q", route))
	}
	s.faults.Add(route, f, f.Times)
}

// FailNext makes the next n requests on route answer status with the
// endpoint's error body (a 429 carries Retry-After: 1).
func (s *Server) FailNext(route Route, n, status int) {
	s.InjectFault(route, Fault{Status: status, Times: n})
}

// DropNext makes the next n requests on route lose their connection.
func (s *Server) DropNext(route Route, n int) {
	s.InjectFault(route, Fault{Drop: true, Times: n})
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() { s.faults.Clear() }

// takeFault returns the fault to apply to this request, if any.
func (s *Server) takeFault(r *http.Request, route Route) (Fault, bool) {
	user, read := "", false
	return s.faults.Take(func(f Fault) bool {
		if f.User == "" {
			return true
		}
		if !read {
			user, read = requestUser(r, route), true
		}
		return strings.EqualFold(user, f.User)
	}, route)
}

// requestUser extracts the username of a token or UserRealm request. For the
// token route it parses the form (ParseForm caches it for the handler).
func requestUser(r *http.Request, route Route) string {
	switch route {
	case RouteToken:
		if err := r.ParseForm(); err != nil {
			return ""
		}
		return r.PostForm.Get("username")
	case RouteUserRealm:
		p := strings.TrimPrefix(r.URL.Path, "/common/UserRealm/")
		if u, err := url.PathUnescape(p); err == nil {
			return u
		}
		return p
	}
	return ""
}

// applyFault applies a matching fault. It reports whether the normal handler
// should still run.
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, route Route) bool {
	f, ok := s.takeFault(r, route)
	if !ok {
		return true
	}
	if f.Status == http.StatusTooManyRequests && f.RetryAfter >= 0 {
		ra := f.RetryAfter
		if ra == 0 {
			ra = time.Second
		}
		secs := int((ra + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
	switch {
	case f.Body != "":
		ct := f.ContentType
		if ct == "" {
			ct = "application/json; charset=utf-8"
		}
		st := f.Status
		if st == 0 {
			st = http.StatusOK
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(st)
		_, _ = w.Write([]byte(f.Body))
		return false
	case f.Drop:
		emukit.Drop(w)
		return false
	case f.Hang:
		hangFor := f.HangFor
		if hangFor <= 0 {
			hangFor = math.MaxInt64 // until the client gives up or Release
		}
		emukit.Wait(r.Context(), hangFor, s.stop)
		emukit.Drop(w)
		return false
	case f.Latency > 0:
		return emukit.Wait(r.Context(), f.Latency, s.stop)
	case f.AADSTS != 0 && route == RouteToken:
		s.writeTokenFault(w, r, f.AADSTS)
		return false
	case f.Status == http.StatusTooManyRequests:
		s.writeThrottled(w, r, route)
		return false
	case f.Status >= 400:
		s.writeServerError(w, r, route, f.Status)
		return false
	}
	return true
}

func isGraph(route Route) bool { return strings.HasPrefix(string(route), "graph-") }

// writeThrottled writes a 429 body: Graph's documented error JSON with code
// TooManyRequests (https://learn.microsoft.com/en-us/graph/throttling); on the authority a
// short text body (MSAL does not parse it).
func (s *Server) writeThrottled(w http.ResponseWriter, r *http.Request, route Route) {
	if isGraph(route) {
		writeGraphError(w, r, http.StatusTooManyRequests, "TooManyRequests",
			"Too many requests. Please retry after the time given in the Retry-After header.")
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusTooManyRequests)
	_, _ = w.Write([]byte("Too Many Requests"))
}

// writeServerError writes a 5xx in the endpoint's error format.
func (s *Server) writeServerError(w http.ResponseWriter, r *http.Request, route Route, status int) {
	if isGraph(route) {
		code := "generalException"
		switch status {
		case http.StatusServiceUnavailable:
			code = "serviceNotAvailable"
		case http.StatusGatewayTimeout:
			code = "gatewayTimeout"
		}
		writeGraphError(w, r, status, code, http.StatusText(status))
		return
	}
	e := aadError(90033)
	if status != http.StatusServiceUnavailable {
		e.err = "server_error"
	}
	e.status = status
	writeAADError(w, r, s.opts.Now(), e)
}
