package pwimport

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"entra2okta/internal/hook"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"entra2okta/internal/entra"
)

// ShieldConfig bounds how often Okta sign-in attempts may reach Entra ID.
//
// Every hook call for a not-yet-migrated user becomes an ROPC attempt from our
// egress IP. Entra's smart lockout locks an account after LockoutThreshold
// failures (10 in Azure public clouds, 3 in US Government clouds, or the
// tenant's own setting); it documents no reset of the failure counter over
// time, and after a lockout the first failure locks again, for longer
// (https://learn.microsoft.com/en-us/entra/identity/authentication/howto-password-smart-lockout).
// Without a budget an attacker guessing passwords at Okta would lock real
// users out of Entra and Microsoft 365. So for one username the hook sends at
// most UserAttempts checks that Entra may count as failures in any span of
// UserWindow, and at most UserDailyAttempts in any span of UserHorizon
// (a day), until a verified sign-in clears the count as it clears Entra's.
// Checks Entra certainly did not count (429, 5xx, refused connection, a
// password Entra accepted) are given back.
type ShieldConfig struct {
	// LockoutThreshold is the tenant's smart lockout threshold (default 10;
	// 3 in US Government clouds). Validate refuses budgets that reach it.
	LockoutThreshold int
	// UserAttempts is how many checks of one username Entra may count in any
	// span of UserWindow (default 5, or UserDailyAttempts when lower).
	UserAttempts int
	// UserWindow is the sliding window of UserAttempts and the cool-down
	// after an Entra lockout (default 15 min).
	UserWindow time.Duration
	// UserDailyAttempts is how many checks of one username Entra may count in
	// any span of UserHorizon until a verified sign-in (default half the
	// lockout threshold, at least 1): the rest of the threshold is left to
	// the user's own sign-ins elsewhere.
	UserDailyAttempts int
	// UserHorizon is the long window of UserDailyAttempts (default 24 h).
	UserHorizon time.Duration
	// IPAttempts is how many checks from one source address (Okta's
	// data.context.request.ipAddress; an IPv6 /64) may fail at Entra in any
	// span of IPWindow (default 50); successes are not counted. Requests
	// without an address share one such budget. 0 uses the default;
	// negative disables it.
	IPAttempts int
	// IPWindow is the per-address window (default 15 min).
	IPWindow time.Duration
	// IPTrusted are source ranges exempt from the per-address budget (an
	// office NAT, a VPN or a secure web gateway that many users share). The
	// per-user and tenant-wide budgets still apply.
	IPTrusted []netip.Prefix
	// GlobalFailures is how many checks may fail at Entra, all users and
	// addresses together, in any span of GlobalWindow (default 500); beyond
	// it the circuit breaker opens for BreakerCooldown and no check reaches
	// Entra, so that a spray spread across many users does not get our
	// address blocked by Entra (AADSTS50053 for everyone). Negative disables.
	GlobalFailures int
	// GlobalWindow is the tenant-wide window (default 1 min).
	GlobalWindow time.Duration
	// BreakerCooldown is how long the breaker stays open (default 1 min).
	BreakerCooldown time.Duration
	// NegativeTTL is how long a rejected username+password pair is answered
	// from memory without asking Entra again (default 5 min).
	NegativeTTL time.Duration
	// MaxEntries bounds each table (user budgets, address budgets, rejected
	// pairs; default 100,000). Rejected pairs are evicted least recently
	// used; a live budget is never evicted, and a new username or address is
	// refused while its table is full of live budgets.
	MaxEntries int
	// MaxBackoff caps how long the hook stops calling Entra after Entra
	// throttled it with a Retry-After (default 1 min).
	MaxBackoff time.Duration
}

func (c *ShieldConfig) setDefaults() {
	if c.LockoutThreshold <= 0 {
		c.LockoutThreshold = 10
	}
	if c.UserDailyAttempts <= 0 {
		c.UserDailyAttempts = max(1, c.LockoutThreshold/2)
	}
	if c.UserAttempts <= 0 {
		c.UserAttempts = min(5, c.UserDailyAttempts)
	}
	if c.UserWindow <= 0 {
		c.UserWindow = 15 * time.Minute
	}
	if c.UserHorizon <= 0 {
		c.UserHorizon = 24 * time.Hour
	}
	if c.IPAttempts == 0 {
		c.IPAttempts = 50
	}
	if c.IPWindow <= 0 {
		c.IPWindow = 15 * time.Minute
	}
	if c.GlobalFailures == 0 {
		c.GlobalFailures = 500
	}
	if c.GlobalWindow <= 0 {
		c.GlobalWindow = time.Minute
	}
	if c.BreakerCooldown <= 0 {
		c.BreakerCooldown = time.Minute
	}
	if c.NegativeTTL <= 0 {
		c.NegativeTTL = 5 * time.Minute
	}
	if c.MaxEntries <= 0 {
		c.MaxEntries = 100_000
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = time.Minute
	}
}

// Validate reports a configuration whose per-user budget could reach the
// lockout threshold. Zero fields take their defaults first.
func (c ShieldConfig) Validate() error {
	c.setDefaults()
	switch {
	case c.LockoutThreshold < 2:
		return fmt.Errorf("hook: lockout threshold %d: at least 2 (one failure must stay below it)", c.LockoutThreshold)
	case c.UserDailyAttempts >= c.LockoutThreshold:
		return fmt.Errorf("hook: %d user attempts per %v reach the lockout threshold of %d: use fewer", c.UserDailyAttempts, c.UserHorizon, c.LockoutThreshold)
	case c.UserAttempts > c.UserDailyAttempts:
		return fmt.Errorf("hook: %d user attempts per %v exceed the %d per %v", c.UserAttempts, c.UserWindow, c.UserDailyAttempts, c.UserHorizon)
	case c.UserWindow > c.UserHorizon:
		return fmt.Errorf("hook: user window %v is longer than the user horizon %v", c.UserWindow, c.UserHorizon)
	}
	return nil
}

// Reasons a check was answered without Entra (also metric label values).
const (
	reasonUserBudget     = "user_budget"
	reasonUserTableFull  = "user_table_full"
	reasonIPBudget       = "ip_budget"
	reasonIPTableFull    = "ip_table_full"
	reasonBreakerOpen    = "breaker_open"
	reasonEntraBackoff   = "entra_backoff"
	reasonCachedReject   = "cached_rejection"
	reasonOverloaded     = "overloaded"
	reasonCredentialSize = "credential_too_long"
	reasonPasswordSpaces = "password_spaces" // leading or trailing spaces: ROPC cannot check them
	reasonPanic          = "panic"
)

type rejection struct {
	expires time.Time
	code    int
	reason  string
}

// charge is what admit charged for one check, for record to settle.
type charge struct {
	at     time.Time
	id     uint64
	user   string // normalised username
	ip     string // address budget key, "" when not charged
	global bool
}

// noAddress is the budget key of requests without a source address.
const noAddress = "-"

// shield holds the attempt budgets, the negative cache, Entra back-off and the
// circuit breaker. Its keys are the normalised username, the source address
// key, and an HMAC-SHA256 of username and password under a random per-process
// key: the password itself is never stored, and the HMAC cannot be compared
// across processes or brute-forced offline without the key.
type shield struct {
	cfg ShieldConfig
	key []byte

	mu           sync.Mutex
	users        *budgetTable
	ips          *budgetTable
	global       failureLog
	rejected     *hook.LRU[[sha256.Size]byte, rejection]
	replies      *hook.LRU[[sha256.Size]byte, reply] // by request id and pair, for Okta's retries
	backoffUntil time.Time
	breakerUntil time.Time
	trips        int    // times the breaker opened
	seq          uint64 // charge ids
}

func newShield(cfg ShieldConfig) (*shield, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("hook: shield key: %w", err)
	}
	return &shield{
		cfg:      cfg,
		key:      key,
		users:    newBudgetTable(cfg.MaxEntries, cfg.UserHorizon),
		ips:      newBudgetTable(cfg.MaxEntries, cfg.IPWindow),
		rejected: hook.NewLRU[[sha256.Size]byte, rejection](cfg.MaxEntries),
		replies:  hook.NewLRU[[sha256.Size]byte, reply](cfg.MaxEntries),
	}, nil
}

// normUser is the username as budgets and workflow IDs see it
// (workflows.UserWorkflowID lower-cases and trims the same way).
func normUser(u string) string { return strings.ToLower(strings.TrimSpace(u)) }

// pairKey returns HMAC-SHA256(key, len(user) || user || password) over the
// normalised username; the length prefix makes the encoding unambiguous.
func (s *shield) pairKey(user, password string) [sha256.Size]byte {
	m := hmac.New(sha256.New, s.key)
	u := normUser(user)
	var n [8]byte
	for i, l := 0, uint64(len(u)); i < 8; i++ {
		n[i] = byte(l >> (8 * i))
	}
	m.Write(n[:])
	m.Write([]byte(u))
	m.Write([]byte(password))
	var k [sha256.Size]byte
	m.Sum(k[:0])
	return k
}

// replyTTL is how long a request's answer is kept for Okta's one retry,
// which follows the 3 s time-out of the first call
// (https://developer.okta.com/docs/concepts/inline-hooks/, "Timeout and
// retry"). Kept longer, the answers of a busy minute would sit in memory for
// nothing (a minute at 1,000 sign-ins a second is 60,000 of them).
const replyTTL = 15 * time.Second

// pruneReplies bounds the expired answers removed by one remember.
const pruneReplies = 8

type reply struct {
	expires time.Time
	out     outcome
}

// requestKey returns the key of a request's answer: an HMAC of Okta's
// request id and the pair key, so that a retry with another password is not
// answered from it. ok is false when the request has no id.
func (s *shield) requestKey(requestID string, pair [sha256.Size]byte) (k [sha256.Size]byte, ok bool) {
	if requestID == "" {
		return k, false
	}
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("request\x00"))
	m.Write(pair[:])
	m.Write([]byte(requestID))
	m.Sum(k[:0])
	return k, true
}

// answered returns the answer given to this request, if recent.
func (s *shield) answered(k [sha256.Size]byte, now time.Time) (outcome, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.replies.Get(k)
	if !ok || !now.Before(r.expires) {
		return outcome{}, false
	}
	return r.out, true
}

// remember keeps a request's answer for Okta's retry.
func (s *shield) remember(k [sha256.Size]byte, out outcome, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Answers are remembered in time order, so the expired ones are at the
	// back: drop a few each time rather than keep them until the table is
	// full.
	for range pruneReplies {
		old, r, ok := s.replies.Oldest()
		if !ok || now.Before(r.expires) {
			break
		}
		s.replies.Remove(old)
	}
	s.replies.Put(k, reply{expires: now.Add(replyTTL), out: out})
}

// cachedRejection returns the remembered rejection of this pair, if fresh.
func (s *shield) cachedRejection(k [sha256.Size]byte, now time.Time) (rejection, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.rejected.Get(k)
	if !ok {
		return rejection{}, false
	}
	if !now.Before(r.expires) {
		s.rejected.Remove(k)
		return rejection{}, false
	}
	return r, true
}

// admit decides whether a check may go to Entra now and, if so, charges it to
// the user's, the address's and the tenant-wide budgets. It returns the
// charge to settle with record, or the reason it was refused; tripped is
// true when this refusal opened the circuit breaker.
func (s *shield) admit(user, ip string, now time.Time) (c charge, why string, tripped bool) {
	a := s.cfg.AttemptOf(user, ip)
	return s.admitKeys(a.User, a.IP, now)
}

// admitKeys is admit for the normalised username u and the address budget
// key ipk ("" when the check is not charged to an address budget).
func (s *shield) admitKeys(u, ipk string, now time.Time) (c charge, why string, tripped bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Before(s.backoffUntil) {
		return c, reasonEntraBackoff, false
	}
	if now.Before(s.breakerUntil) {
		return c, reasonBreakerOpen, false
	}
	cfg := &s.cfg
	if f := s.users.get(u); f != nil {
		f.prune(now.Add(-cfg.UserHorizon))
		if now.Before(f.coolUntil) || f.since(now.Add(-cfg.UserWindow)) >= cfg.UserAttempts ||
			f.since(now.Add(-cfg.UserHorizon)) >= cfg.UserDailyAttempts {
			return c, reasonUserBudget, false
		}
	}
	if ipk != "" {
		if f := s.ips.get(ipk); f != nil {
			f.prune(now.Add(-cfg.IPWindow))
			if f.since(now.Add(-cfg.IPWindow)) >= cfg.IPAttempts {
				return c, reasonIPBudget, false
			}
		}
	}
	if cfg.GlobalFailures > 0 {
		s.global.prune(now.Add(-cfg.GlobalWindow))
		if s.global.since(now.Add(-cfg.GlobalWindow)) >= cfg.GlobalFailures {
			s.breakerUntil = now.Add(cfg.BreakerCooldown)
			s.trips++
			return c, reasonBreakerOpen, true
		}
	}
	// Every table has room before anything is charged.
	uf := s.users.getOrCreate(u, now)
	if uf == nil {
		return c, reasonUserTableFull, false
	}
	var ipf *failureLog
	if ipk != "" {
		if ipf = s.ips.getOrCreate(ipk, now); ipf == nil {
			s.users.dropIfEmpty(u, now)
			return c, reasonIPTableFull, false
		}
	}
	s.seq++
	c = charge{at: now, id: s.seq, user: u}
	st := stamp{at: now, id: c.id}
	uf.times = append(uf.times, st)
	s.users.touch(u, now)
	if ipf != nil {
		c.ip = ipk
		ipf.times = append(ipf.times, st)
		s.ips.touch(ipk, now)
	}
	if cfg.GlobalFailures > 0 {
		c.global = true
		s.global.times = append(s.global.times, st)
	}
	return c, "", false
}

// trustedIn reports whether ip is in one of the trusted ranges.
func trustedIn(trusted []netip.Prefix, ip string) bool {
	if len(trusted) == 0 || ip == "" {
		return false
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// record learns from Entra's answer to a charged check: a verified password
// clears the user's budget (Entra resets its own failure count on success);
// an answer Entra certainly did not count as a failure gives the charge back
// to every budget; a rejection is remembered for NegativeTTL; an Entra
// lockout (AADSTS50053) or per-user throttling (AADSTS50196, "loop
// detected") cools the user down for UserWindow; a 429 with Retry-After
// pauses all Entra calls.
func (s *shield) record(c charge, k [sha256.Size]byte, res entra.Result, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !mayCountAsFailure(res) {
		if f := s.ips.get(c.ip); c.ip != "" && f != nil {
			f.refund(c.id)
			s.ips.dropIfEmpty(c.ip, now)
		}
		if c.global {
			s.global.refund(c.id)
		}
		if f := s.users.get(c.user); f != nil {
			f.refund(c.id)
		}
	} else if f := s.users.get(c.user); f != nil {
		f.settle(c.id)
	}
	if f := s.users.get(c.user); f != nil && res.Verdict == entra.Verified {
		f.clearSettled()
		f.coolUntil = time.Time{}
	}
	s.users.dropIfEmpty(c.user, now)
	if res.Verdict == entra.Rejected {
		s.rejected.Put(k, rejection{expires: now.Add(s.cfg.NegativeTTL), code: res.Code, reason: res.Reason})
	}
	if res.Code == codeLocked || res.Code == codeLoopDetected {
		if f := s.users.getOrCreate(c.user, now); f != nil {
			f.coolUntil = now.Add(s.cfg.UserWindow)
			s.users.touch(c.user, now)
		}
	}
	if res.RetryAfter > 0 {
		d := min(res.RetryAfter, s.cfg.MaxBackoff)
		if until := now.Add(d); until.After(s.backoffUntil) {
			s.backoffUntil = until
		}
	}
}

// mayCountAsFailure reports whether Entra may have counted the check as a
// failed sign-in. Not counted: a verified password; a password Entra
// accepted before refusing the sign-in for another reason (MFA, conditional
// access, expiry, assignment, consent); a check Entra never evaluated (429
// other than 50196, 5xx, refused connection, a federated or unknown domain
// that MSAL never sent to the token endpoint, the app's own
// misconfiguration, which Entra checks before the user).
func mayCountAsFailure(res entra.Result) bool {
	if res.Verdict == entra.Verified || notEvaluated(res) {
		return false
	}
	switch res.Reason {
	case entra.ReasonMFARequired, entra.ReasonMFAEnrollment, entra.ReasonMFAInterrupt, entra.ReasonExternalChallenge,
		entra.ReasonConditionalAccess, entra.ReasonPasswordExpired, entra.ReasonCompromised, entra.ReasonNotAssigned,
		entra.ReasonConsentMissing,
		entra.ReasonFederated, entra.ReasonUnknownDomain, entra.ReasonTenantNotFound, entra.ReasonBadAuthority,
		entra.ReasonAppNotPublic, entra.ReasonAppNotFound, entra.ReasonClientCredential, entra.ReasonEmptyCredentials:
		return false
	}
	return true
}

// notEvaluated reports whether Entra certainly did not evaluate the password:
// a 429 (not 50196, Entra's per-user "loop detected"), a 5xx, a refused
// connection, or Entra's own transient errors (90033 on a 503, tenant
// throttling 90055, ...), found by the Entra outage end-to-end test.
func notEvaluated(res entra.Result) bool {
	return res.Code != codeLoopDetected &&
		(res.Reason == entra.ReasonThrottled || res.Reason == entra.ReasonUnavailable || res.Reason == entra.ReasonTransient)
}

// sizes returns the table sizes, for tests and the benchmark.
func (s *shield) sizes() (users, ips, rejected int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.users.len(), s.ips.len(), s.rejected.Len()
}

// AADSTS codes after which a user's checks pause
// (https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes).
const (
	codeLocked       = 50053 // smart lockout, or a blocked source IP
	codeLoopDetected = 50196 // the ROPC form of throttling
)
