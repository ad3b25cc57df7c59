package hook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"strings"
	"sync"
	"time"

	"entra2okta/internal/entra"
)

// ShieldConfig bounds how often Okta sign-in attempts may reach Entra ID.
//
// Every hook call for a not-yet-migrated user becomes an ROPC attempt from our
// egress IP, and Entra's smart lockout locks an account after 10 failed
// attempts (Azure public cloud; 3 in US Gov), tracking the last 3 bad password
// hashes so that a repeated wrong password does not count
// (../../../shared/reference/entra.md §4). Without a budget an attacker
// guessing passwords at Okta would lock real users out of Entra and
// Microsoft 365. The defaults keep a user's hook-driven attempts at half the
// lockout threshold per window, leaving room for the user's own sign-ins
// elsewhere; lower UserAttempts for US Gov tenants.
type ShieldConfig struct {
	// UserAttempts is how many checks of one username may reach Entra per
	// UserWindow (default 5). When spent, the user cools down until the
	// window ends; a verified password clears the count.
	UserAttempts int
	// UserWindow is the per-username window and cool-down (default 15 min).
	UserWindow time.Duration
	// IPAttempts is how many checks from one source address (Okta's
	// data.context.request.ipAddress; an IPv6 /64) may reach Entra per
	// IPWindow (default 50). 0 uses the default; negative disables it.
	IPAttempts int
	// IPWindow is the per-address window (default 15 min).
	IPWindow time.Duration
	// NegativeTTL is how long a rejected username+password pair is answered
	// UNVERIFIED from memory without asking Entra again (default 5 min).
	NegativeTTL time.Duration
	// MaxEntries bounds each of the three tables (user budgets, address
	// budgets, rejected pairs); the least recently used entry is evicted
	// (default 100,000).
	MaxEntries int
	// MaxBackoff caps how long the hook stops calling Entra after Entra
	// throttled it with a Retry-After (default 1 min).
	MaxBackoff time.Duration
}

func (c *ShieldConfig) setDefaults() {
	if c.UserAttempts <= 0 {
		c.UserAttempts = 5
	}
	if c.UserWindow <= 0 {
		c.UserWindow = 15 * time.Minute
	}
	if c.IPAttempts == 0 {
		c.IPAttempts = 50
	}
	if c.IPWindow <= 0 {
		c.IPWindow = 15 * time.Minute
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

// Reasons a check was answered without Entra (also metric label values).
const (
	reasonUserBudget     = "user_budget"
	reasonIPBudget       = "ip_budget"
	reasonEntraBackoff   = "entra_backoff"
	reasonCachedReject   = "cached_rejection"
	reasonOverloaded     = "overloaded"
	reasonCredentialSize = "credential_too_long"
)

// window counts attempts in a fixed window.
type window struct {
	start time.Time
	count int
	until time.Time // blocked until (cool-down after an Entra lockout)
}

type rejection struct {
	expires time.Time
	code    int
	reason  string
}

// shield holds the attempt budgets, the negative cache and Entra back-off.
// Its keys are the normalised username, the source address key, and an
// HMAC-SHA256 of username and password under a random per-process key: the
// password itself is never stored, and the HMAC cannot be compared across
// processes or brute-forced offline without the key.
type shield struct {
	cfg ShieldConfig
	key []byte

	mu           sync.Mutex
	users        *lru[string, *window]
	ips          *lru[string, *window]
	rejected     *lru[[sha256.Size]byte, rejection]
	backoffUntil time.Time
}

func newShield(cfg ShieldConfig) (*shield, error) {
	cfg.setDefaults()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("hook: shield key: %w", err)
	}
	return &shield{
		cfg:      cfg,
		key:      key,
		users:    newLRU[string, *window](cfg.MaxEntries),
		ips:      newLRU[string, *window](cfg.MaxEntries),
		rejected: newLRU[[sha256.Size]byte, rejection](cfg.MaxEntries),
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

// cachedRejection returns the remembered rejection of this pair, if fresh.
func (s *shield) cachedRejection(k [sha256.Size]byte, now time.Time) (rejection, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.rejected.get(k)
	if !ok {
		return rejection{}, false
	}
	if !now.Before(r.expires) {
		s.rejected.remove(k)
		return rejection{}, false
	}
	return r, true
}

// admit decides whether a check may go to Entra now and, if so, charges it to
// the user's and the address's budgets. It returns "" when admitted, or the
// reason it was not.
func (s *shield) admit(user, ip string, now time.Time) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Before(s.backoffUntil) {
		return reasonEntraBackoff
	}
	u := s.current(s.users, normUser(user), s.cfg.UserWindow, now)
	if now.Before(u.until) || u.count >= s.cfg.UserAttempts {
		return reasonUserBudget
	}
	var w *window
	if ip != "" && s.cfg.IPAttempts > 0 {
		w = s.current(s.ips, ip, s.cfg.IPWindow, now)
		if w.count >= s.cfg.IPAttempts {
			return reasonIPBudget
		}
		w.count++
	}
	u.count++
	return ""
}

// current returns k's window in t, starting a new one if the old has ended.
func (s *shield) current(t *lru[string, *window], k string, length time.Duration, now time.Time) *window {
	w, ok := t.get(k)
	if !ok {
		w = &window{start: now}
		t.put(k, w)
		return w
	}
	if now.Sub(w.start) >= length && !now.Before(w.until) {
		*w = window{start: now}
	}
	return w
}

// record learns from Entra's answer: a verified password clears the user's
// budget (Entra resets its own failure count on success); a rejection is
// remembered for NegativeTTL; an Entra lockout (AADSTS50053) or per-user
// throttling (AADSTS50196, "loop detected") cools the user down for a whole
// window; a 429 with Retry-After pauses all Entra calls (entra.md §3, §4).
func (s *shield) record(user string, k [sha256.Size]byte, res entra.Result, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch res.Verdict {
	case entra.Verified:
		s.users.remove(normUser(user))
	case entra.Rejected:
		s.rejected.put(k, rejection{expires: now.Add(s.cfg.NegativeTTL), code: res.Code, reason: res.Reason})
	case entra.Indeterminate:
		// Entra answered 429 or 5xx, or did not answer: it evaluated no
		// password, so smart lockout counted nothing; give the attempt back,
		// or Entra's own throttling would lock the user out of migrating.
		// A timeout may have reached Entra: it stays charged.
		if notEvaluated(res) {
			if u, ok := s.users.get(normUser(user)); ok && u.count > 0 {
				u.count--
			}
		}
	}
	if res.Code == codeLocked || res.Code == codeLoopDetected {
		u := s.current(s.users, normUser(user), s.cfg.UserWindow, now)
		u.until = now.Add(s.cfg.UserWindow)
	}
	if res.RetryAfter > 0 {
		d := min(res.RetryAfter, s.cfg.MaxBackoff)
		if until := now.Add(d); until.After(s.backoffUntil) {
			s.backoffUntil = until
		}
	}
}

// notEvaluated reports whether Entra certainly did not evaluate the password:
// a 429 (not 50196, Entra's per-user "loop detected"), a 5xx or a refused
// connection.
func notEvaluated(res entra.Result) bool {
	return res.Code != codeLoopDetected && (res.Reason == entra.ReasonThrottled || res.Reason == entra.ReasonUnavailable)
}

// sizes returns the table sizes, for tests and the benchmark.
func (s *shield) sizes() (users, ips, rejected int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.users.len(), s.ips.len(), s.rejected.len()
}

// AADSTS codes after which a user's checks pause (entra.md §3, §4).
const (
	codeLocked       = 50053 // smart lockout, or a blocked source IP
	codeLoopDetected = 50196 // the ROPC form of throttling
)
