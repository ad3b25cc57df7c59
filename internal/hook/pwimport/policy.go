package pwimport

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"entra2okta/internal/pwpolicy"
)

// PasswordPolicies reads the org's password policies (the Policies API,
// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Policy/);
// *oktapolicy.Reader satisfies it.
type PasswordPolicies interface {
	PasswordPolicies(ctx context.Context) ([]pwpolicy.Policy, error)
}

// PolicyConfig turns on the password-policy check at capture. Okta does not
// apply its password policy to a password the hook answers VERIFIED for
// (https://developer.okta.com/docs/reference/password-hook/): it stores the
// legacy password as it is. With a Source, the hook checks each verified
// password against the complexity of the policy that applies to migrated
// users (pwpolicy.Select), in memory, and tells the workflow which rules it
// breaks (PasswordVerifiedSignal.BelowPolicy), so that the workflow expires
// the Okta password. The answer stays VERIFIED.
type PolicyConfig struct {
	// Source reads the policies; nil turns the check off.
	Source PasswordPolicies
	// Groups are the Okta group IDs every migrated user is in, for policies
	// scoped to them (besides Everyone).
	Groups []string
	// Refresh is how often the policies are read again (default 10 min).
	// The reads run in the background, never while Okta waits.
	Refresh time.Duration
	// Timeout bounds one read (default 30 s).
	Timeout time.Duration
}

// policyCheck holds the applied policy, read in the background.
type policyCheck struct {
	cfg     PolicyConfig
	log     *slog.Logger
	applied atomic.Pointer[pwpolicy.Applied] // nil until the first read succeeds

	below    *prometheus.CounterVec // verified passwords below the policy, by rule
	failures prometheus.Counter     // failed reads

	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

func newPolicyCheck(cfg PolicyConfig, logger *slog.Logger) *policyCheck {
	if cfg.Refresh <= 0 {
		cfg.Refresh = 10 * time.Minute
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	return &policyCheck{cfg: cfg, log: logger,
		below: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "entra2okta_hook_below_policy_total",
			Help: "Verified passwords that break the Okta password policy's complexity, by rule (the migration expires them in Okta).",
		}, []string{"rule"}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "entra2okta_hook_policy_read_failures_total",
			Help: "Failed reads of the Okta password policies (the last policy read stays in use).",
		}),
	}
}

func (p *policyCheck) collectors() []prometheus.Collector {
	return []prometheus.Collector{p.below, p.failures}
}

// start reads the policies now and every Refresh, in the background.
func (p *policyCheck) start() {
	if p.cfg.Source == nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel, p.done = cancel, make(chan struct{})
	go func() {
		defer close(p.done)
		t := time.NewTicker(p.cfg.Refresh)
		defer t.Stop()
		for {
			p.refresh(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

func (p *policyCheck) stop() {
	p.once.Do(func() {
		if p.cancel != nil {
			p.cancel()
			<-p.done
		}
	})
}

// refresh reads the policies once; a failed read keeps the last policy.
func (p *policyCheck) refresh(ctx context.Context) {
	rctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	pols, err := p.cfg.Source.PasswordPolicies(rctx)
	if err != nil {
		if ctx.Err() == nil {
			p.failures.Inc()
			p.log.Warn("hook: cannot read the Okta password policies; the last one read stays in use", "err", err, "have_policy", p.applied.Load() != nil)
		}
		return
	}
	a, ok := pwpolicy.Select(pols, p.cfg.Groups)
	if !ok {
		p.log.Warn("hook: Okta has no password policy; verified passwords are not checked")
		p.applied.Store(nil)
		return
	}
	prev := p.applied.Load()
	p.applied.Store(&a)
	if prev != nil && prev.Policy.ID == a.Policy.ID && prev.ChangeAllowed == a.ChangeAllowed {
		return
	}
	c := a.Policy.Complexity
	p.log.Info("hook: password policy for migrated users", "policy_id", a.Policy.ID, "policy", a.Policy.Name, "rule", a.Rule,
		"min_length", c.MinLength, "min_lower", c.MinLowerCase, "min_upper", c.MinUpperCase, "min_number", c.MinNumber,
		"min_symbol", c.MinSymbol, "exclude_username", c.ExcludeUsername, "exclude_attributes", strings.Join(c.ExcludeAttributes, ","),
		"dictionary_common", c.DictionaryCommon, "max_consecutive", c.MaxConsecutiveCharacters)
	if len(c.ExcludeAttributes) > 0 {
		p.log.Warn("hook: the password policy excludes profile attributes, which Okta's hook request does not carry: that rule is not checked",
			"exclude_attributes", strings.Join(c.ExcludeAttributes, ","))
	}
	if !a.ChangeAllowed {
		p.log.Warn("hook: the password policy's rule does not let users change their password: a weak password is not flagged, since expiring it would lock the user out",
			"policy", a.Policy.Name, "rule", a.Rule)
	}
}

// check returns the rules a verified password breaks; nil when it meets the
// policy, when no policy has been read yet, or when the policy's rule does
// not let users change their password. It runs in memory.
func (p *policyCheck) check(password, login string) []string {
	a := p.applied.Load()
	if a == nil || !a.ChangeAllowed {
		return nil
	}
	broken := a.Policy.Complexity.Check(password, pwpolicy.Subject{Username: login})
	for _, r := range broken {
		p.below.WithLabelValues(r).Inc()
	}
	return broken
}
