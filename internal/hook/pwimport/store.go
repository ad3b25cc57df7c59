package pwimport

import (
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	"entra2okta/internal/entra"
)

// ShieldStore holds the shield's state that bounds the checks reaching
// Entra ID: the per-user, per-address and tenant-wide budgets, the Entra
// back-off, the circuit breaker, the negative cache and the HMAC key of its
// entries. NewMemoryStore keeps them in this process; internal/hookstore
// keeps them in PostgreSQL, so that every replica of the hook server
// enforces the same bounds as one would.
//
// Every method honours ctx's deadline. An error means the store could not
// decide: the handler then answers undecided and asks Entra nothing. Errors
// never carry a password, a pair key or a connection string's password.
type ShieldStore interface {
	// Key returns the 32-byte HMAC key of the negative cache's pair keys,
	// the same for every replica sharing the store.
	Key() []byte
	// Admit decides whether a check may reach Entra at now and, if so,
	// charges it to the budgets of a in one atomic step: it returns the
	// charge to hand to Record, or the reason it refused (ReasonUserBudget,
	// ReasonIPBudget, ReasonBreakerOpen, ReasonEntraBackoff, or, for a store
	// that bounds its tables, a table-full reason). tripped is true when
	// this refusal opened the circuit breaker.
	Admit(ctx context.Context, a Attempt, now time.Time) (c Charge, reason string, tripped bool, err error)
	// Record learns from Entra's answer res to the check charged as c, in
	// one atomic step: a charge Entra may have counted (MayCountAsFailure)
	// is settled, any other is given back to every budget; a verified
	// password clears the user's settled charges and cool-down; a lockout
	// (CoolsDown) cools the user down for UserWindow; a Retry-After pauses
	// every check for up to MaxBackoff; a rejection remembers pair for
	// NegativeTTL. The reply cache for Okta's retry is not the store's: it
	// stays in each replica (internal/hookstore says why).
	Record(ctx context.Context, c Charge, pair [sha256.Size]byte, res entra.Result, now time.Time) error
	// CachedRejection returns the remembered rejection of pair, if fresh.
	CachedRejection(ctx context.Context, pair [sha256.Size]byte, now time.Time) (Rejection, bool, error)
}

// Attempt is one check's budget keys.
type Attempt struct {
	// User is the normalised username (lower-cased, trimmed).
	User string
	// IP is the source address's budget key (an IPv4 address, an IPv6 /64,
	// or "-" for requests without an address), "" when the check is not
	// charged to an address budget (trusted range, or the budget is off).
	IP string
}

// Charge is what Admit charged for one check, for Record to settle.
type Charge struct {
	// At is the time of the charge, as Admit was given it.
	At time.Time
	// ID identifies the charge in every budget it was charged to.
	ID int64
	// User is the user budget's key.
	User string
	// IP is the address budget's key, "" when not charged.
	IP string
	// Global is true when the check was charged to the tenant-wide budget.
	Global bool
}

// Rejection is a remembered rejection of a username+password pair.
type Rejection struct {
	// Expires is when it is forgotten (NegativeTTL after Entra's answer).
	Expires time.Time
	// Code is Entra's AADSTS code.
	Code int
	// Reason is Entra's reason (entra.Reason*).
	Reason string
}

// Reasons of ShieldStore refusals that a store outside this package returns
// as they are (also metric label values).
const (
	ReasonUserBudget   = reasonUserBudget
	ReasonIPBudget     = reasonIPBudget
	ReasonBreakerOpen  = reasonBreakerOpen
	ReasonEntraBackoff = reasonEntraBackoff
)

// reasonStoreUnavailable is the reason of a check answered undecided because
// the shield's store could not decide (an outage or its deadline).
const reasonStoreUnavailable = "store_unavailable"

// Resolved returns c with its zero fields set to their defaults, as the
// shield applies them.
func (c ShieldConfig) Resolved() ShieldConfig {
	c.setDefaults()
	return c
}

// AttemptOf returns the budget keys of a check of user from source address
// ip under c: the normalised username and, unless the per-address budget is
// off or ip is in a trusted range, the address key.
func (c ShieldConfig) AttemptOf(user, ip string) Attempt {
	c.setDefaults()
	a := Attempt{User: normUser(user)}
	if c.IPAttempts > 0 && !trustedIn(c.IPTrusted, ip) {
		a.IP = ipKey(ip)
		if a.IP == "" {
			a.IP = noAddress
		}
	}
	return a
}

// MayCountAsFailure reports whether Entra may have counted the check answered
// res as a failed sign-in: a store charges it for good (settles it) when
// true and gives it back to every budget when false.
func MayCountAsFailure(res entra.Result) bool { return mayCountAsFailure(res) }

// CoolsDown reports whether res pauses the user's checks for UserWindow (an
// Entra lockout, AADSTS50053, or per-user throttling, AADSTS50196).
func CoolsDown(res entra.Result) bool { return res.Code == codeLocked || res.Code == codeLoopDetected }

// NewMemoryStore returns a ShieldStore in this process's memory, with a
// random key: what a Handler uses when its Config has no Store.
func NewMemoryStore(cfg ShieldConfig) (ShieldStore, error) {
	s, err := newShield(cfg)
	if err != nil {
		return nil, err
	}
	return memoryStore{s}, nil
}

// memoryStore is the shield as a ShieldStore; its methods never fail.
type memoryStore struct{ s *shield }

var _ ShieldStore = memoryStore{}

func (m memoryStore) Key() []byte { return m.s.key }

func (m memoryStore) Admit(_ context.Context, a Attempt, now time.Time) (Charge, string, bool, error) {
	c, why, tripped := m.s.admitKeys(a.User, a.IP, now)
	return Charge{At: c.at, ID: int64(c.id), User: c.user, IP: c.ip, Global: c.global}, why, tripped, nil
}

func (m memoryStore) Record(_ context.Context, c Charge, pair [sha256.Size]byte, res entra.Result, now time.Time) error {
	m.s.record(charge{at: c.At, id: uint64(c.ID), user: c.User, ip: c.IP, global: c.Global}, pair, res, now)
	return nil
}

func (m memoryStore) CachedRejection(_ context.Context, pair [sha256.Size]byte, now time.Time) (Rejection, bool, error) {
	r, ok := m.s.cachedRejection(pair, now)
	return Rejection{Expires: r.expires, Code: r.code, Reason: r.reason}, ok, nil
}

// checkKey refuses a store key that is not 32 bytes.
func checkKey(k []byte) error {
	if len(k) != 32 {
		return fmt.Errorf("hook: the shield store's key has %d bytes, want 32", len(k))
	}
	return nil
}
