package oktaclient

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RateBucket names the Okta rate-limit bucket a request counts against, as
// far as this adapter's calls go. Okta counts each bucket per org and, for a
// request made with an API token or an OAuth 2.0 app, against that client's
// share of the bucket too: 50 % of it unless an admin changes it
// (https://developer.okta.com/docs/reference/rl2-token-oauth).
type RateBucket string

// The buckets of the calls this adapter makes. Okta matches a request to the
// bucket of its exact endpoint first, then of the longest prefix, and the
// method matters (https://developer.okta.com/docs/reference/rl2-monitor/).
const (
	// RateBucketUsers: POST /api/v1/users (create) and GET /api/v1/users
	// (list): one bucket, the one user creates use up.
	RateBucketUsers RateBucket = "users"
	// RateBucketUserGet: GET /api/v1/users/{idOrLogin}.
	RateBucketUserGet RateBucket = "user-get"
	// RateBucketUserWrite: POST, PUT, DELETE /api/v1/users/{id}.
	RateBucketUserWrite RateBucket = "user-write"
	// RateBucketLogs: GET /api/v1/logs, the System Log.
	RateBucketLogs RateBucket = "logs"
	// RateBucketOther: the rest of /api/v1, user lifecycle operations
	// included.
	RateBucketOther RateBucket = "other"
	// RateBucketGroups: /api/v1/groups except /api/v1/groups/{id} (find,
	// create), and RateBucketGroupByID: /api/v1/groups/{id} (get, delete),
	// as Okta's management rate limits list them
	// (https://developer.okta.com/docs/reference/rl-global-mgmt/).
	RateBucketGroups    RateBucket = "groups"
	RateBucketGroupByID RateBucket = "group-by-id"
	// RateBucketGroupMembers: /api/v1/groups/{id}/users and
	// /api/v1/groups/{id}/users/{userId} (list, add, remove members).
	RateBucketGroupMembers RateBucket = "group-members"
)

// BucketOf returns the bucket of a request to path (without the org URL)
// with method.
func BucketOf(method, path string) RateBucket {
	rest, ok := strings.CutPrefix(path, "/api/v1/")
	switch {
	case !ok:
		return RateBucketOther
	case rest == "users":
		return RateBucketUsers
	case rest == "logs":
		return RateBucketLogs
	case rest == "groups":
		return RateBucketGroups
	}
	if g, ok := strings.CutPrefix(rest, "groups/"); ok && g != "" {
		id, sub, nested := strings.Cut(g, "/")
		switch {
		case !nested && id != "rules":
			return RateBucketGroupByID
		case nested && (sub == "users" || strings.HasPrefix(sub, "users/")):
			return RateBucketGroupMembers
		}
		return RateBucketGroups
	}
	if id, ok := strings.CutPrefix(rest, "users/"); ok && id != "" && !strings.Contains(id, "/") {
		if method == http.MethodGet {
			return RateBucketUserGet
		}
		return RateBucketUserWrite
	}
	return RateBucketOther
}

// RateObservation is what one answer from Okta said about the rate limit of
// its bucket, through the X-Rate-Limit-Limit, X-Rate-Limit-Remaining and
// X-Rate-Limit-Reset headers: "the rate limit ceiling that is applicable for
// the current request", "the number of requests left for the current
// rate-limit window" and "the time at which the rate limit resets"
// (https://developer.okta.com/docs/reference/rl-best-practices/). For a
// request made with an API token whose share is under 100 %, the applicable
// ceiling is the token's.
type RateObservation struct {
	Bucket RateBucket
	// Status is the answer's HTTP status.
	Status int
	// Limit is the bucket's requests per window (a minute for the buckets
	// above), Remaining what is left of it now, Reset when the window ends.
	Limit, Remaining int
	Reset            time.Time
	// At is the answer's Date header, or the local time without one.
	At time.Time
}

// rateObservation reads the rate-limit headers of an answer to req. It
// reports false when the answer carries no usable limit: no headers, or a
// concurrency 429, whose X-Rate-Limit-Limit is always 0 and says nothing
// about the per-minute limit (https://developer.okta.com/docs/reference/rl-best-practices/).
func rateObservation(req *http.Request, resp *http.Response) (RateObservation, bool) {
	h := resp.Header
	limit, err := strconv.Atoi(strings.TrimSpace(h.Get("X-Rate-Limit-Limit")))
	if err != nil || limit <= 0 {
		return RateObservation{}, false
	}
	o := RateObservation{Bucket: BucketOf(req.Method, req.URL.EscapedPath()), Status: resp.StatusCode, Limit: limit, Remaining: -1}
	if n, err := strconv.Atoi(strings.TrimSpace(h.Get("X-Rate-Limit-Remaining"))); err == nil && n >= 0 {
		o.Remaining = n
	}
	if s, err := strconv.ParseInt(strings.TrimSpace(h.Get("X-Rate-Limit-Reset")), 10, 64); err == nil && s > 0 {
		o.Reset = time.Unix(s, 0)
	}
	if t, err := http.ParseTime(h.Get("Date")); err == nil {
		o.At = t
	} else {
		o.At = time.Now()
	}
	return o, true
}
