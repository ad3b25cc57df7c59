package pwimport

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"entra2okta/internal/entra"
	"entra2okta/internal/redact"
)

// MFACheckConfig configures the check of the premise behind counting an MFA
// interrupt as a right password (entra.Policy.MFAVerified, HOOK_POLICY_MFA):
// that Entra checks the password before it asks for MFA, so that a wrong
// password gets AADSTS50126 and only a right one gets 50076/50079. Microsoft
// does not promise that order. The check signs in to a canary account that
// has MFA enforced with a deliberately wrong password: 50126 passes the check
// (password first); an MFA interrupt fails it (MFA first), after which every
// MFA interrupt is answered undecided, never VERIFIED, until a restart.
type MFACheckConfig struct {
	// PolicyMFA says whether the verifier counts MFA interrupts as a right
	// password (entra.Policy.MFAVerified). While it is set and the check has
	// not passed, the server logs a warning at start and
	// entra2okta_hook_mfa_policy_unsafe is 1.
	PolicyMFA bool
	// Username is the canary: a dedicated, enabled, cloud-managed account
	// on which MFA is enforced for the verifier app (per-user MFA or a
	// conditional access policy requiring MFA). Empty: no check is made.
	Username string
	// Password is deliberately wrong, and the same at every check: Entra's
	// smart lockout does not count a repeat of one of an account's last
	// three bad passwords (except with pass-through authentication). It is
	// never logged, counted or put in an error.
	Password redact.String
	// Interval between checks (default 1 h); the first is made at start.
	Interval time.Duration
	// MaxPerDay caps the checks in any 24 h (default half the lockout
	// threshold minus one, at least 1: 4 for Entra's default 10). Each
	// check is one failed sign-in on the canary account.
	MaxPerDay int
	// Timeout bounds one check (default 10 s).
	Timeout time.Duration
}

// MFA order states (label values of entra2okta_hook_mfa_order).
const (
	MFAOrderUnchecked     = "unchecked"      // no check configured or none answered yet
	MFAOrderPasswordFirst = "password_first" // the canary's wrong password got 50126: the check passed
	MFAOrderMFAFirst      = "mfa_first"      // the canary's wrong password got an MFA interrupt
	MFAOrderInconclusive  = "inconclusive"   // Entra answered something else (locked, unknown user, timed out, ...)
)

// reasonMFAFirst is the Result.Reason of an MFA interrupt in a tenant that
// answers MFA before it checks the password: no statement about the password.
const reasonMFAFirst = "mfa_first_tenant"

var mfaOrderStates = []string{MFAOrderUnchecked, MFAOrderPasswordFirst, MFAOrderMFAFirst, MFAOrderInconclusive}

// mfaInterrupt reports whether code is one of the answers that
// Policy.MFAVerified counts as a right password.
func mfaInterrupt(code int) bool {
	switch code {
	case 50076, 50079, 50072, 50074, 50158:
		return true
	}
	return false
}

// mfaCheck runs the canary check and holds its state.
type mfaCheck struct {
	cfg    MFACheckConfig
	v      Verifier
	log    *slog.Logger
	now    func() time.Time
	order  *prometheus.GaugeVec
	unsafe prometheus.Gauge
	checks *prometheus.CounterVec

	mfaFirst atomic.Bool // state == MFAOrderMFAFirst, read on every check

	mu     sync.Mutex
	state  string
	recent []time.Time // checks sent to Entra in the last 24 h

	cancel context.CancelFunc
	done   chan struct{}
}

func newMFACheck(cfg MFACheckConfig, lockoutThreshold int, v Verifier, log *slog.Logger) *mfaCheck {
	if cfg.Interval <= 0 {
		cfg.Interval = time.Hour
	}
	if cfg.MaxPerDay <= 0 {
		cfg.MaxPerDay = max(1, lockoutThreshold/2-1)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	c := &mfaCheck{cfg: cfg, v: v, log: log, now: time.Now, state: MFAOrderUnchecked,
		order: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "entra2okta_hook_mfa_order",
			Help: "What the canary check found about the order in which Entra checks password and MFA: 1 for the current state (unchecked, password_first, mfa_first, inconclusive).",
		}, []string{"state"}),
		unsafe: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "entra2okta_hook_mfa_policy_unsafe",
			Help: "1 while HOOK_POLICY_MFA counts MFA interrupts as verified and the canary check has not shown that Entra checks the password first.",
		}),
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "entra2okta_hook_mfa_checks_total",
			Help: "Canary checks of the MFA order by result (a state, or skipped when the daily cap was reached).",
		}, []string{"result"}),
	}
	c.publish()
	return c
}

func (c *mfaCheck) collectors() []prometheus.Collector {
	return []prometheus.Collector{c.order, c.unsafe, c.checks}
}

// publish sets the gauges from the state; call with mu held or before sharing.
func (c *mfaCheck) publish() {
	for _, s := range mfaOrderStates {
		v := 0.0
		if s == c.state {
			v = 1
		}
		c.order.WithLabelValues(s).Set(v)
	}
	unsafe := 0.0
	if c.cfg.PolicyMFA && c.state != MFAOrderPasswordFirst {
		unsafe = 1
	}
	c.unsafe.Set(unsafe)
}

// start logs the warning of an unproven premise and, with a canary, starts
// checking: at once, then every Interval.
func (c *mfaCheck) start() {
	if c.cfg.PolicyMFA {
		c.log.Warn("HOOK_POLICY_MFA=true counts an MFA interrupt (AADSTS50076/50079) as a right password, which holds only if Entra checks the password before MFA; this tenant has not shown it yet (entra2okta_hook_mfa_policy_unsafe)",
			"canary", c.cfg.Username != "")
	}
	if c.cfg.Username == "" {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel, c.done = cancel, make(chan struct{})
	go func() {
		defer close(c.done)
		t := time.NewTicker(c.cfg.Interval)
		defer t.Stop()
		for {
			c.checkOnce(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// stop ends the periodic check and waits for it.
func (c *mfaCheck) stop() {
	if c.cancel != nil {
		c.cancel()
		<-c.done
	}
}

// current returns the state.
func (c *mfaCheck) current() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// checkOnce makes one canary check unless the daily cap is reached, and
// returns the state after it.
func (c *mfaCheck) checkOnce(ctx context.Context) string {
	now := c.now()
	c.mu.Lock()
	kept := c.recent[:0]
	for _, at := range c.recent {
		if now.Sub(at) < 24*time.Hour {
			kept = append(kept, at)
		}
	}
	c.recent = kept
	if len(c.recent) >= c.cfg.MaxPerDay {
		st := c.state
		c.mu.Unlock()
		c.checks.WithLabelValues("skipped").Inc()
		c.log.Debug("MFA order check skipped: daily cap reached", "max_per_day", c.cfg.MaxPerDay)
		return st
	}
	c.recent = append(c.recent, now)
	c.mu.Unlock()

	cctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	res := c.v.VerifyPassword(cctx, c.cfg.Username, c.cfg.Password.Reveal())
	cancel()
	if ctx.Err() != nil {
		return c.current()
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	found := MFAOrderInconclusive
	switch {
	case res.Code == 50126:
		found = MFAOrderPasswordFirst
	case mfaInterrupt(res.Code):
		found = MFAOrderMFAFirst
	}
	c.checks.WithLabelValues(found).Inc()
	attrs := []any{"canary", c.cfg.Username, "code", res.Code, "reason", res.Reason}
	switch {
	case found == MFAOrderMFAFirst || c.state == MFAOrderMFAFirst:
		// Sticky until a restart: a later 50126 may only mean the canary
		// lost its MFA requirement.
		c.state = MFAOrderMFAFirst
		c.mfaFirst.Store(true)
		c.log.Error("MFA order check failed: Entra answered the canary's wrong password with an MFA interrupt, so an MFA interrupt says nothing about a password; every MFA interrupt is now answered undecided, never VERIFIED, until a restart",
			attrs...)
	case found == MFAOrderPasswordFirst:
		if c.state != MFAOrderPasswordFirst {
			c.log.Info("MFA order check passed: Entra checks the password before MFA (the canary's wrong password got AADSTS50126)", attrs...)
		}
		c.state = found
	case res.Verdict == entra.Verified && res.Code == 0:
		c.log.Error("MFA order check inconclusive: the canary's password is its real password, or the canary has no MFA; configure a wrong password on an MFA-enforced account", attrs...)
		if c.state == MFAOrderUnchecked {
			c.state = MFAOrderInconclusive
		}
	default:
		// Locked (50053), unknown or disabled canary, throttled, timed
		// out: no statement; an earlier pass stands.
		c.log.Warn("MFA order check inconclusive: Entra made no statement about the order (is the canary enabled, not locked, MFA-enforced?)", attrs...)
		if c.state == MFAOrderUnchecked {
			c.state = MFAOrderInconclusive
		}
	}
	c.publish()
	return c.state
}

// adjust turns an MFA interrupt into "no statement about the password" once
// the tenant was seen answering MFA before checking the password.
func (c *mfaCheck) adjust(res entra.Result) entra.Result {
	if !mfaInterrupt(res.Code) || !c.mfaFirst.Load() {
		return res
	}
	res.Verdict, res.Reason = entra.Indeterminate, reasonMFAFirst
	return res
}
