package fakeentra

import (
	"crypto/rand"
	"crypto/sha256"
	"strings"
	"time"
)

// lockout is the smart-lockout state of one user, as documented
// (https://learn.microsoft.com/en-us/entra/identity/authentication/howto-password-smart-lockout):
// failures are counted with no reset over time; a repeat of one of the last
// three bad passwords is not counted again, except in tenants with
// pass-through authentication (Options.CountRepeatedPasswords); the user is
// locked at the threshold, and "if the first sign-in after a lockout also
// fails, the account locks out again", each time for longer (here doubled);
// while locked every sign-in gets AADSTS50053, even with the right password.
// Only a successful sign-in resets the count. Only password hashes are kept.
type lockout struct {
	failures    int
	lastBad     [][32]byte // hashes of the last 3 bad passwords
	lockedUntil time.Time
	lockouts    int
	relock      bool // locked before and no success since: the next failure locks again
}

// LockoutState is a user's smart-lockout state.
type LockoutState struct {
	// Failures counted since the last success or lockout.
	Failures int
	// Locked reports whether the user is locked now, until LockedUntil.
	Locked      bool
	LockedUntil time.Time
	// Lockouts is how many times the user has been locked.
	Lockouts int
}

// lockoutFor returns the user's state, creating it. Callers hold s.mu.
func (s *Server) lockoutFor(upn string) *lockout {
	k := strings.ToLower(upn)
	lk := s.lockouts[k]
	if lk == nil {
		lk = &lockout{}
		s.lockouts[k] = lk
	}
	return lk
}

func (lk *lockout) lockedAt(now time.Time) bool {
	return !lk.lockedUntil.IsZero() && now.Before(lk.lockedUntil)
}

// fail records a bad password and reports whether it was counted.
func (lk *lockout) fail(password string, now time.Time, threshold int, base time.Duration, countRepeats bool) bool {
	h := sha256.Sum256([]byte(password))
	if !countRepeats {
		for _, b := range lk.lastBad {
			if b == h {
				return false // a repeated bad password is not counted again
			}
		}
	}
	lk.lastBad = append(lk.lastBad, h)
	if len(lk.lastBad) > 3 {
		lk.lastBad = lk.lastBad[len(lk.lastBad)-3:]
	}
	lk.failures++
	if lk.failures >= threshold || lk.relock {
		d := base << min(lk.lockouts, 16)
		lk.lockouts++
		lk.lockedUntil = now.Add(d)
		lk.failures = 0
		lk.lastBad = nil
		lk.relock = true
	}
	return true
}

// succeed records a successful sign-in: the count starts again.
func (lk *lockout) succeed() {
	lk.failures = 0
	lk.relock = false
}

// Lockout returns the smart-lockout state of a user.
func (s *Server) Lockout(upn string) LockoutState {
	s.mu.Lock()
	defer s.mu.Unlock()
	lk := s.lockouts[strings.ToLower(upn)]
	if lk == nil {
		return LockoutState{}
	}
	now := s.opts.Now()
	st := LockoutState{Failures: lk.failures, Lockouts: lk.lockouts, Locked: lk.lockedAt(now)}
	if st.Locked {
		st.LockedUntil = lk.lockedUntil
	}
	return st
}

// Unlock clears a user's lockout state.
func (s *Server) Unlock(upn string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.lockouts, strings.ToLower(upn))
}

// SetIPBlocked switches the "malicious IP" block: while on, every ROPC
// sign-in gets AADSTS50053 regardless of the password
// (https://learn.microsoft.com/en-us/entra/identity/authentication/howto-password-smart-lockout).
func (s *Server) SetIPBlocked(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ipBlocked = on
	if !on {
		s.ipFails = map[string]*ipState{}
	}
}

// ipState counts password failures from one client IP.
type ipState struct {
	failures    int
	lockedUntil time.Time
}

// ipLocked reports whether ip is blocked now. Callers hold s.mu.
func (s *Server) ipLocked(ip string, now time.Time) bool {
	st := s.ipFails[ip]
	return st != nil && now.Before(st.lockedUntil)
}

// ipFailed counts a failure from ip. Callers hold s.mu.
func (s *Server) ipFailed(ip string, now time.Time) {
	if s.opts.IPLockoutThreshold <= 0 || ip == "" {
		return
	}
	st := s.ipFails[ip]
	if st == nil {
		st = &ipState{}
		s.ipFails[ip] = st
	}
	st.failures++
	if st.failures >= s.opts.IPLockoutThreshold {
		st.failures = 0
		st.lockedUntil = now.Add(s.opts.LockoutDuration)
	}
}

// IPBlocked reports whether sign-ins from the client IP are blocked
// (Options.IPLockoutThreshold or SetIPBlocked).
func (s *Server) IPBlocked(ip string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ipBlocked || s.ipLocked(ip, s.opts.Now())
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}
