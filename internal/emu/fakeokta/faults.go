package fakeokta

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"entra2okta/internal/emu/emukit"
)

// window is one bucket's fixed rate-limit window: the org's count and each
// API token's.
type window struct {
	start   time.Time
	used    int
	byToken map[string]int
}

// DefaultTokenRateShare is the percentage of each bucket's limit that one API
// token (or OAuth 2.0 app) may use unless an admin changes it: "By default,
// each API token or OAuth 2.0 app can use up to 50% of a bucket's total rate
// limit" (https://developer.okta.com/docs/reference/rl2-token-oauth). The
// share applies per token and per bucket; the org-wide limit still caps the
// sum of every token's requests.
const DefaultTokenRateShare = 50

// tokenLimit is a token's per-window quota in a bucket of limit requests:
// share % of it, at least one request.
func tokenLimit(limit, share int) int {
	return max(1, limit*share/100)
}

// rateHeaders writes the X-Rate-Limit-* headers of bucket b and, when take is
// set, consumes one request of its quota: the org's and, for a request
// authenticated by an API token (token != ""), that token's share of it. It
// reports false when either quota of the current window is exhausted (the
// caller answers 429).
//
// With a share under 100 %, the headers describe the token's quota:
// X-Rate-Limit-Limit is its ceiling, X-Rate-Limit-Remaining what is left of it
// (never more than the org has left). Okta documents X-Rate-Limit-Limit as
// "the rate limit ceiling that is applicable for the current request"
// (https://developer.okta.com/docs/reference/rl-best-practices/), and for the
// token that ceiling is its share; its pages on per-token limits do not show
// the headers themselves.
func (s *Server) rateHeaders(w http.ResponseWriter, b Bucket, token string, take bool) bool {
	now := s.now()
	s.mu.Lock()
	limit := s.limits[b]
	win := s.windows[b]
	if win == nil || !now.Before(win.start.Add(s.opts.RateWindow)) {
		win = &window{start: now}
		s.windows[b] = win
	}
	perToken := token != "" && s.tokenShare < 100
	shown, tokenUsed := limit, 0
	if perToken {
		shown, tokenUsed = tokenLimit(limit, s.tokenShare), win.byToken[token]
	}
	ok := win.used < limit && (!perToken || tokenUsed < shown)
	if take && ok {
		win.used++
		if perToken {
			if win.byToken == nil {
				win.byToken = map[string]int{}
			}
			win.byToken[token]++
			tokenUsed++
		}
	}
	remaining := max(limit-win.used, 0)
	if perToken {
		remaining = min(remaining, max(shown-tokenUsed, 0))
	}
	reset := ceilUnix(win.start.Add(s.opts.RateWindow))
	s.mu.Unlock()

	h := w.Header()
	h.Set("X-Rate-Limit-Limit", strconv.Itoa(shown))
	h.Set("X-Rate-Limit-Remaining", strconv.Itoa(remaining))
	h.Set("X-Rate-Limit-Reset", strconv.FormatInt(reset, 10))
	return ok || !take
}

// SetTokenRateShare changes the percentage of each bucket that one API token
// may use (Options.TokenRateShare), from the next request on: 1-100, where
// 100 gives every token the whole bucket.
func (s *Server) SetTokenRateShare(percent int) {
	s.locked(func() { s.tokenShare = clampShare(percent) })
}

// TokenRateShare returns the percentage of each bucket one API token may use.
func (s *Server) TokenRateShare() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokenShare
}

// clampShare maps Options.TokenRateShare to 1-100 (0: Okta's default).
func clampShare(percent int) int {
	switch {
	case percent <= 0:
		return DefaultTokenRateShare
	case percent > 100:
		return 100
	}
	return percent
}

// Fault is a failure to inject on a route. Set one behaviour: Status (an
// error answer with Okta's error body), Drop (close the connection without an
// answer) or Latency alone (answer normally after a delay).
type Fault struct {
	// Status is the HTTP status to answer (429, 500, 503, 403, ...).
	Status int
	// Code and Summary override the Okta error code and summary (defaults:
	// E0000047 for 429, E0000009 for 5xx, E0000006 for 403, E0000001 else).
	Code, Summary string
	// ResetIn sets X-Rate-Limit-Reset on a 429 to now+ResetIn (default: the
	// end of the bucket's window). OmitReset sends no X-Rate-Limit-Reset,
	// which makes okta-sdk-golang v2 fail permanently (its 429 backoff needs the
	// header: "X-Rate-Limit-Reset header is missing or invalid").
	ResetIn   time.Duration
	OmitReset bool
	// Latency delays the request (the error answer, or the normal one).
	Latency time.Duration
	// Drop closes the connection without any answer (hijack and close on
	// HTTP/1.1, stream reset on HTTP/2).
	Drop bool
	// Times limits the fault to that many requests (0: until ClearFaults).
	Times int
}

// InjectFault adds a fault on route (RouteAny: every route). Faults are tried
// in the order added; the first one not used up applies. It panics on an
// unknown route, which is a typo in a test.
func (s *Server) InjectFault(route Route, f Fault) {
	s.mustKnow(route)
	s.faults.Add(route, f, f.Times)
}

// FailNext makes the next n requests on route answer status with Okta's
// error body (a 429 carries X-Rate-Limit-Reset at the end of the window).
func (s *Server) FailNext(route Route, n, status int) {
	s.InjectFault(route, Fault{Status: status, Times: n})
}

// DropNext makes the next n requests on route lose their connection.
func (s *Server) DropNext(route Route, n int) {
	s.InjectFault(route, Fault{Drop: true, Times: n})
}

// SetLatency delays every request on route by d (0 removes it).
func (s *Server) SetLatency(route Route, d time.Duration) {
	s.mustKnow(route)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency[route] = d
}

// SetErrorRate makes a fraction p (0..1) of the requests on route answer 500.
func (s *Server) SetErrorRate(route Route, p float64) {
	s.mustKnow(route)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errorRate[route] = p
}

// ClearFaults removes every fault, latency and error rate.
func (s *Server) ClearFaults() {
	s.faults.Clear()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = map[Route]time.Duration{}
	s.errorRate = map[Route]float64{}
}

// takeFault returns the fault to apply to a request on route, if any, and
// the extra latency configured for it.
func (s *Server) takeFault(route Route) (Fault, bool, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delay := s.latency[route] + s.latency[RouteAny]
	if f, ok := s.faults.Take(nil, route, RouteAny); ok {
		return f, true, delay
	}
	for _, key := range []Route{route, RouteAny} {
		if p := s.errorRate[key]; p > 0 && rand.Float64() < p {
			return Fault{Status: http.StatusInternalServerError}, true, delay
		}
	}
	return Fault{}, false, delay
}

// applyFaults delays, fails or drops the request as configured. It reports
// whether the request has been answered (or dropped).
func (s *Server) applyFaults(w http.ResponseWriter, r *http.Request, route Route) bool {
	f, ok, delay := s.takeFault(route)
	delay += f.Latency
	if !emukit.Wait(r.Context(), delay, nil) {
		return true
	}
	if !ok {
		return false
	}
	if f.Drop {
		emukit.Drop(w)
		return true
	}
	if f.Status == 0 {
		return false
	}
	e := &apiError{status: f.Status, code: f.Code, summary: f.Summary}
	if e.code == "" {
		switch {
		case f.Status == http.StatusTooManyRequests:
			e.code, e.summary = tooManyRequests().code, tooManyRequests().summary
		case f.Status >= 500:
			e.code, e.summary = "E0000009", "Internal Server Error"
		case f.Status == http.StatusForbidden:
			e.code, e.summary = "E0000006", "You do not have permission to perform the requested action"
		case f.Status == http.StatusNotFound:
			e.code, e.summary = "E0000007", notFound(r.URL.Path, "Resource").summary
		default:
			e.code, e.summary = "E0000001", "Api validation failed: injected fault"
		}
	}
	if e.summary == "" {
		e.summary = http.StatusText(f.Status)
	}
	if f.Status == http.StatusTooManyRequests {
		h := w.Header()
		h.Set("X-Rate-Limit-Remaining", "0")
		switch {
		case f.OmitReset:
			h.Del("X-Rate-Limit-Reset")
		case f.ResetIn > 0:
			h.Set("X-Rate-Limit-Reset", strconv.FormatInt(ceilUnix(s.now().Add(f.ResetIn)), 10))
		}
	}
	s.writeAPIError(w, e)
	return true
}

// RecordedRequest is a request the emulator received. Bodies of sign-in
// requests (/api/v1/authn and its change of an expired password) are
// replaced by "<redacted>".
type RecordedRequest struct {
	Route    Route
	Method   string
	Path     string // URL path as sent (escaped)
	RawQuery string
	Header   http.Header
	Body     []byte
	At       time.Time
}

// record counts the call, keeps a copy of the request (with the body
// redacted on the sign-in route) and returns a fresh reader of the body.
func (s *Server) record(r *http.Request, route Route) (io.ReadCloser, error) {
	var raw []byte
	if r.Body != nil {
		var err error
		raw, err = io.ReadAll(io.LimitReader(r.Body, 10<<20))
		if err != nil {
			return nil, err
		}
		_ = r.Body.Close()
	}
	kept := raw
	if signIn(route) || route == RouteExecuteHook {
		kept = []byte("<redacted>")
	}
	rr := RecordedRequest{
		Route:    route,
		Method:   r.Method,
		Path:     r.URL.EscapedPath(),
		RawQuery: r.URL.RawQuery,
		Header:   r.Header.Clone(),
		Body:     append([]byte(nil), kept...),
		At:       s.now(),
	}
	s.calls.Add(route)
	s.requests.Append(rr)
	return io.NopCloser(bytes.NewReader(raw)), nil
}

// rateToken names the credential a request's per-token quota is counted
// against: the API token of "Authorization: SSWS <token>", or the OAuth 2.0
// app (its client ID) behind "Authorization: Bearer <token>": Okta applies
// the share to "an API token or OAuth 2.0 app"
// (https://developer.okta.com/docs/reference/rl2-token-oauth), so the hourly
// access tokens of one app, and the workers that share it, share one
// quota. An unknown or expired Bearer token counts as itself (the request
// is refused anyway). "" for no credential.
func (s *Server) rateToken(r *http.Request) string {
	auth := r.Header.Get("Authorization")
	if tok, ok := strings.CutPrefix(auth, "SSWS "); ok {
		return "SSWS " + strings.TrimSpace(tok)
	}
	if tok, ok := strings.CutPrefix(auth, "Bearer "); ok {
		if at, ok := s.bearerToken(r); ok {
			return "OAuth app " + at.clientID
		}
		return "Bearer " + strings.TrimSpace(tok)
	}
	return ""
}
