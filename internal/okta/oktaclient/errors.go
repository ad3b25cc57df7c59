package oktaclient

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	oktasdk "github.com/okta/okta-sdk-golang/v2/okta"

	"entra2okta/internal/apierr"
)

// observation records what the last HTTP response of one call said. The
// SDK hides a 429 behind a bare "too many requests" error with no response
// once its retries are used up (okta-sdk-golang v2 okta/requestExecutor.go:
// errors.New("too many requests") and a nil response), so the transport notes the
// status and X-Rate-Limit-Reset here.
type observation struct {
	mu        sync.Mutex
	status    int
	reset     time.Time
	requestID string
}

type observed struct {
	status    int
	reset     time.Time
	requestID string
}

func (o *observation) snapshot() observed {
	o.mu.Lock()
	defer o.mu.Unlock()
	return observed{status: o.status, reset: o.reset, requestID: o.requestID}
}

type observationKey struct{}

func withObservation(ctx context.Context, o *observation) context.Context {
	return context.WithValue(ctx, observationKey{}, o)
}

// observingTransport fills the request's observation and turns io.EOF
// transport errors into errDropped: the SDK retries io.EOF without limit or
// delay until the deadline (okta-sdk-golang v2 okta/requestExecutor.go), and
// Temporal owns retries.
// It also hands the rate-limit headers of every answer to rates, when set,
// and, with a guard, holds back a request whose bucket's window is spent.
type observingTransport struct {
	base  http.RoundTripper
	rates func(RateObservation)
	guard *windowGuard
}

func (t *observingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	bucket := BucketOf(req.Method, req.URL.EscapedPath())
	if t.guard != nil {
		ends, err := t.guard.admit(req.Context(), bucket)
		if errors.Is(err, errWindowSpent) {
			// Answer as Okta would have, without spending a request: a
			// rate-limited failure to retry when the window resets.
			if o, ok := req.Context().Value(observationKey{}).(*observation); ok {
				o.mu.Lock()
				o.status, o.reset, o.requestID = http.StatusTooManyRequests, ends, ""
				o.mu.Unlock()
			}
		}
		if err != nil {
			return nil, err
		}
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		if t.guard != nil {
			t.guard.done(bucket, RateObservation{}, false, time.Now())
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, &droppedError{msg: err.Error()}
		}
		return nil, err
	}
	if o, ok := req.Context().Value(observationKey{}).(*observation); ok {
		o.mu.Lock()
		o.status = resp.StatusCode
		o.requestID = resp.Header.Get("X-Okta-Request-Id")
		o.reset = time.Time{}
		if s, err := strconv.ParseInt(resp.Header.Get("X-Rate-Limit-Reset"), 10, 64); err == nil && s > 0 {
			o.reset = time.Unix(s, 0)
		}
		o.mu.Unlock()
	}
	ro, ok := rateObservation(req, resp)
	if t.guard != nil {
		t.guard.done(bucket, ro, ok, time.Now())
	}
	if t.rates != nil && ok {
		t.rates(ro)
	}
	return resp, nil
}

// droppedError is a connection closed before an answer. It deliberately
// does not unwrap to io.EOF.
type droppedError struct{ msg string }

func (e *droppedError) Error() string { return "connection dropped: " + e.msg }

// classify turns an SDK failure into an *apierr.Error.
func classify(op string, err error, resp *oktasdk.Response, obs *observation) *apierr.Error {
	seen := obs.snapshot()
	e := &apierr.Error{Kind: apierr.Transient, Service: "okta", Op: op, Status: seen.status, Err: withoutAssertion(err)}
	if resp != nil && resp.Response != nil {
		e.Status = resp.StatusCode
	}
	// 429, whether the SDK surfaced it as "too many requests" or failed on a
	// missing X-Rate-Limit-Reset / Date header.
	if e.Status == http.StatusTooManyRequests {
		e.Kind, e.Code, e.RetryAt = apierr.RateLimited, "E0000047", seen.reset
		var oe *oktasdk.Error
		if errors.As(err, &oe) && oe.ErrorCode != "" {
			e.Code = oe.ErrorCode
		}
		return e
	}
	var oe *oktasdk.Error
	if !errors.As(err, &oe) {
		// Network failures, time-outs, cancellation, undecodable answers.
		return e
	}
	e.Code = oe.ErrorCode
	if oe.ErrorCode == "" && oe.ErrorMessage != "" {
		// An OAuth 2.0 error from the token endpoint ({"error":
		// "invalid_client", "error_description": ...}; the SDK fetches the
		// access token inside the call, with no response to return): the
		// service app's settings (client ID, key, granted scopes, DPoP) are
		// wrong, unless the server failed (RFC 6749 section 5.2,
		// https://developer.okta.com/docs/api/openapi/okta-oauth/guides/client-auth/).
		e.Code = oe.ErrorMessage
		e.Kind = apierr.Unauthorized
		if oe.ErrorMessage == "server_error" || oe.ErrorMessage == "temporarily_unavailable" {
			e.Kind = apierr.Transient
		}
		return e
	}
	switch {
	case e.Status == http.StatusForbidden && resp != nil && resp.Response != nil &&
		strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="insufficient_scope"`):
		// The access token lacks the endpoint's scope: the app was not
		// granted it, or OKTA_SCOPES left it out
		// (https://support.okta.com/help/s/article/insufficient-scope-error-when-making-a-request-to-an-oauth-or-management-endpoint).
		e.Kind, e.Code = apierr.Unauthorized, "insufficient_scope"
	case oe.ErrorCode == "E0000047":
		// A 429 of the token endpoint, met while fetching the access token.
		e.Kind = apierr.RateLimited
	case e.Status == http.StatusNotFound || oe.ErrorCode == "E0000007":
		e.Kind = apierr.NotFound
	case oe.ErrorCode == "E0000001" && causesSay(oe, "already exists"):
		e.Kind = apierr.Conflict
	case e.Status == http.StatusUnauthorized || oe.ErrorCode == "E0000011" || oe.ErrorCode == "E0000006":
		// A refused token or one without the admin rights it needs.
		e.Kind = apierr.Unauthorized
	case oe.ErrorCode == "E0000112":
		// 409 "Cannot update this user because they are still being
		// activated. Please try again in a few minutes." Activation is
		// asynchronous (transitioningToStatus); the same call succeeds once
		// it is done (https://developer.okta.com/docs/reference/error-codes/#E0000112).
		e.Kind = apierr.Busy
	case e.Status == http.StatusConflict:
		e.Kind = apierr.Transient
	case e.Status >= 500 || e.Status == 0:
		e.Kind = apierr.Transient
	case e.Status >= 400:
		e.Kind = apierr.Invalid
	}
	return e
}

func causesSay(oe *oktasdk.Error, s string) bool {
	for _, c := range oe.ErrorCauses {
		if sum, ok := c["errorSummary"].(string); ok && strings.Contains(sum, s) {
			return true
		}
	}
	return false
}

// withoutAssertion hides the client assertion in the URL a transport error
// quotes. The SDK sends an OAuth service app's signed client assertion (a
// bearer credential until it expires) in the token request's query string,
// and a *url.Error's message quotes its URL whole.
func withoutAssertion(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	u, perr := url.Parse(ue.URL)
	if perr != nil || !u.Query().Has("client_assertion") {
		return err
	}
	q := u.Query()
	q.Set("client_assertion", "redacted")
	u.RawQuery = q.Encode()
	return &redactedURLError{msg: strings.ReplaceAll(err.Error(), ue.URL, u.String()), err: err}
}

// redactedURLError is an error whose message hides part of a URL; it
// unwraps to the original, for errors.Is and errors.As.
type redactedURLError struct {
	msg string
	err error
}

func (e *redactedURLError) Error() string { return e.msg }
func (e *redactedURLError) Unwrap() error { return e.err }
