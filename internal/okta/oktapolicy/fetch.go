package oktapolicy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"entra2okta/internal/apierr"
)

const (
	// maxPages bounds the pages one listing follows.
	maxPages = 20
	// maxAttempts bounds the requests one page makes: the first and the
	// retries after a 429 whose window reset in time.
	maxAttempts = 3
	// maxBody bounds an answer's body.
	maxBody = 4 << 20
)

// getAll GETs path and the next pages its Link headers name (at most
// maxPages), appending each page's JSON array to *into.
func getAll[T any](ctx context.Context, r *Reader, op, path string, into *[]T) error {
	next, err := url.Parse(r.base.String() + path)
	if err != nil {
		return &apierr.Error{Kind: apierr.Invalid, Service: "okta", Op: op, Err: err}
	}
	waited := time.Duration(0)
	for n := 0; next != nil; n++ {
		if n == maxPages {
			return &apierr.Error{Kind: apierr.Invalid, Service: "okta", Op: op,
				Err: fmt.Errorf("more than %d pages", maxPages)}
		}
		body, link, err := r.get(ctx, op, next, &waited)
		if err != nil {
			return err
		}
		var page []T
		if err := json.Unmarshal(body, &page); err != nil {
			return &apierr.Error{Kind: apierr.Transient, Service: "okta", Op: op, Status: http.StatusOK,
				Err: fmt.Errorf("undecodable answer: %w", err)}
		}
		*into = append(*into, page...)
		if next, err = r.nextPage(link); err != nil {
			return &apierr.Error{Kind: apierr.Invalid, Service: "okta", Op: op, Err: err}
		}
	}
	return nil
}

// get makes one GET of u under the per-call deadline and returns the body
// of a 200 and its Link headers. After a 429 it waits for the rate-limit
// window to reset and tries again, while *waited (the read's total wait) stays
// within the reader's MaxRateLimitWait and the context's deadline allows it,
// at most maxAttempts times.
func (r *Reader) get(ctx context.Context, op string, u *url.URL, waited *time.Duration) ([]byte, []string, error) {
	for attempt := 1; ; attempt++ {
		body, resp, err := r.do(ctx, u)
		if err != nil {
			return nil, nil, &apierr.Error{Kind: apierr.Transient, Service: "okta", Op: op, Err: r.scrub(err)}
		}
		if resp.StatusCode == http.StatusOK {
			return body, resp.Header.Values("Link"), nil
		}
		e := statusError(op, resp, body)
		if e.Kind != apierr.RateLimited || attempt == maxAttempts {
			return nil, nil, e
		}
		wait := waitFor(resp, e.RetryAt)
		if wait < 0 || *waited+wait > r.maxWait || !fitsDeadline(ctx, wait) {
			return nil, nil, e
		}
		r.log.Debug("okta rate limit: waiting for the window to reset", "op", op, "wait", wait, "attempt", attempt)
		*waited += wait
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, nil, e
		case <-t.C:
		}
	}
}

// do sends one GET under the per-call deadline and reads the answer
// (the body is closed here).
func (r *Reader) do(ctx context.Context, u *url.URL) ([]byte, *answer, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "SSWS "+r.token)
	req.Header.Set("User-Agent", "entra2okta")
	resp, err := r.hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, nil, err
	}
	if len(body) > maxBody {
		return nil, nil, fmt.Errorf("answer longer than %d bytes", maxBody)
	}
	return body, &answer{StatusCode: resp.StatusCode, Header: resp.Header}, nil
}

// statusError classifies an answer other than 200 by its status and Okta's
// error code (https://developer.okta.com/docs/reference/error-codes/).
func statusError(op string, resp *answer, body []byte) *apierr.Error {
	var oe struct {
		ErrorCode    string `json:"errorCode"`
		ErrorSummary string `json:"errorSummary"`
	}
	_ = json.Unmarshal(body, &oe)
	e := &apierr.Error{Kind: apierr.Invalid, Service: "okta", Op: op, Status: resp.StatusCode, Code: oe.ErrorCode}
	if s := oe.ErrorSummary; s != "" {
		if len(s) > 200 {
			s = s[:200]
		}
		e.Err = errors.New(s)
	}
	switch st := resp.StatusCode; {
	case st == http.StatusTooManyRequests:
		e.Kind = apierr.RateLimited
		if sec, err := strconv.ParseInt(strings.TrimSpace(resp.Header.Get("X-Rate-Limit-Reset")), 10, 64); err == nil && sec > 0 {
			e.RetryAt = time.Unix(sec, 0)
		}
	case st == http.StatusUnauthorized || st == http.StatusForbidden:
		e.Kind = apierr.Unauthorized
	case st == http.StatusNotFound:
		e.Kind = apierr.NotFound
	case st >= 500:
		e.Kind = apierr.Transient
	}
	return e
}

// waitFor is how long to wait for the window of a 429 to reset: until
// X-Rate-Limit-Reset (epoch seconds), measured from the answer's Date header
// so that a skewed local clock does not matter, plus a second for the
// header's rounding. It is negative when the answer says no reset time.
func waitFor(resp *answer, reset time.Time) time.Duration {
	if reset.IsZero() {
		return -1
	}
	now := time.Now()
	if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		now = d
	}
	return max(reset.Sub(now), 0) + time.Second
}

// fitsDeadline reports whether ctx leaves time for a wait of d.
func fitsDeadline(ctx context.Context, d time.Duration) bool {
	dl, ok := ctx.Deadline()
	return !ok || time.Until(dl) > d
}

// nextPage returns the rel="next" target of Link header values
// (RFC 8288), nil when there is none. The target must be on the org's
// scheme and host: the API token is never sent anywhere else.
func (r *Reader) nextPage(links []string) (*url.URL, error) {
	for _, v := range links {
		for _, l := range strings.Split(v, ",") {
			target, params, ok := strings.Cut(strings.TrimSpace(l), ";")
			if !ok || !strings.Contains(strings.ReplaceAll(params, " ", ""), `rel="next"`) {
				continue
			}
			u, err := url.Parse(strings.Trim(strings.TrimSpace(target), "<>"))
			if err != nil {
				return nil, errors.New("unreadable next link")
			}
			u = r.base.ResolveReference(u)
			if u.Scheme != r.base.Scheme || u.Host != r.base.Host {
				return nil, fmt.Errorf("next link to another origin (%s://%s)", u.Scheme, u.Host)
			}
			return u, nil
		}
	}
	return nil, nil
}

// scrub returns err with any occurrence of the API token removed from its
// message; errors.Is and errors.As still see err.
func (r *Reader) scrub(err error) error {
	if msg := err.Error(); strings.Contains(msg, r.token) {
		return &scrubbedError{msg: strings.ReplaceAll(msg, r.token, "[token]"), err: err}
	}
	return err
}

type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// answer is the status and headers of a response whose body do has read.
type answer struct {
	StatusCode int
	Header     http.Header
}
