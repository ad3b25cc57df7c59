// Package apierr is the small error vocabulary that every adapter over a remote
// API (Okta, Entra ID, Microsoft Graph) speaks. Adapters translate SDK and HTTP
// failures into an *Error with a Kind; the activities package maps each Kind to a
// Temporal error in one table, so retry decisions live in one place.
package apierr

import (
	"errors"
	"fmt"
	"time"
)

// Kind classifies a failure by what the caller should do about it.
type Kind int

const (
	// Transient failures (5xx, network errors, timeouts) are worth retrying.
	Transient Kind = iota
	// NotFound means the object does not exist.
	NotFound
	// Conflict means the object already exists (e.g. Okta E0000001 on login).
	Conflict
	// Invalid means the request was rejected as malformed or not allowed in the
	// object's current state; retrying the same request cannot succeed.
	Invalid
	// Unauthorized means the credentials of our own service were refused (bad
	// API token, missing consent): a configuration problem.
	Unauthorized
	// RateLimited means the service throttled us; RetryAt says when to come back.
	RateLimited
	// Busy means the object is in the middle of an asynchronous change (Okta
	// E0000112: the user is still being activated); the same request is worth
	// retrying after a short wait, once the change is done. RetryAt says when,
	// if the service said.
	Busy
)

// String returns the Kind's name, used as part of Temporal error types.
func (k Kind) String() string {
	switch k {
	case Transient:
		return "Transient"
	case NotFound:
		return "NotFound"
	case Conflict:
		return "Conflict"
	case Invalid:
		return "Invalid"
	case Unauthorized:
		return "Unauthorized"
	case RateLimited:
		return "RateLimited"
	case Busy:
		return "Busy"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Error is a classified failure of a remote call. It never carries a password,
// a token or a request body.
type Error struct {
	Kind    Kind
	Service string    // "okta", "entra", "graph"
	Op      string    // what we were doing, e.g. "create user"
	Status  int       // HTTP status, 0 when no response was received
	Code    string    // the service's error code (E0000001, Request_ResourceNotFound, AADSTS50126)
	RetryAt time.Time // for RateLimited: when the service says to retry (zero if unknown)
	Err     error     // the underlying error, for logs; may be nil
}

// Error implements error.
func (e *Error) Error() string {
	msg := e.Service + ": " + e.Op + ": " + e.Kind.String()
	if e.Status != 0 {
		msg += fmt.Sprintf(" (HTTP %d", e.Status)
		if e.Code != "" {
			msg += " " + e.Code
		}
		msg += ")"
	} else if e.Code != "" {
		msg += " (" + e.Code + ")"
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the Kind of err, or Transient when err carries none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Transient
}

// Is reports whether err is an *Error of kind k.
func Is(err error, k Kind) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == k
}

// RetryAfter returns how long to wait before retrying a RateLimited or Busy
// err, measured from now; zero when unknown or of another kind.
func RetryAfter(err error, now time.Time) time.Duration {
	var e *Error
	if !errors.As(err, &e) || (e.Kind != RateLimited && e.Kind != Busy) || e.RetryAt.IsZero() {
		return 0
	}
	if d := e.RetryAt.Sub(now); d > 0 {
		return d
	}
	return 0
}
