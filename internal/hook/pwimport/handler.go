// Package pwimport is the Okta password import inline hook
// (https://developer.okta.com/docs/reference/password-hook/): it authenticates
// Okta's call, checks
// the typed password against Entra ID through a Verifier, answers VERIFIED or
// UNVERIFIED within a deadline, and afterwards signals the user's MigrateUser
// workflow with the outcome only. A password never leaves the request: it is
// not logged, counted, signalled, stored or put in an error.
//
// Handler serves the hook route; internal/hookserver's Server adds /healthz,
// the admin listener (/metrics, /readyz), the event hook and the http.Servers
// around them, so that the hookserver binary, tests and the demo start the
// same thing.
package pwimport

import (
	"context"
	"entra2okta/internal/hook"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"

	"entra2okta/internal/entra"
	"entra2okta/workflows"
)

// PasswordImportPath is the route Okta's inline hook channel points at.
const PasswordImportPath = "/okta/password-import"

// Verifier checks a password against Entra ID; *ropc.Verifier satisfies
// it. It must honour ctx's deadline and never put the password in its Result.
type Verifier interface {
	VerifyPassword(ctx context.Context, username, password string) entra.Result
}

// Config configures a Handler. Only AuthSecret is required.
type Config struct {
	// AuthHeader is the header carrying the shared secret (default
	// Authorization), as configured in the hook's authScheme.key.
	AuthHeader string
	// AuthSecret is the header's whole expected value, scheme included
	// (e.g. "Basic YWRtaW46c3VwZXJzZWNyZXQ=", as in
	// https://developer.okta.com/docs/guides/secure-hooks/nodejs/main/).
	AuthSecret string
	// OAuth, when set, also requires a valid Okta access token.
	OAuth *hook.OAuthConfig
	// Budget is the deadline for answering, measured from the request's
	// arrival (default 2.5 s). Okta gives up after 3 s and then retries once
	// (https://developer.okta.com/docs/concepts/inline-hooks/), so the budget must leave
	// room for the network.
	Budget time.Duration
	// MaxBodyBytes caps the request body (default 64 KiB; Okta's payload is
	// under 1 KiB).
	MaxBodyBytes int64
	// MaxConcurrent caps checks in flight against Entra (default 1,024);
	// beyond it requests are answered UNVERIFIED at once ("overloaded").
	MaxConcurrent int
	// Shield configures attempt budgets and the negative cache.
	Shield ShieldConfig
	// Store, when set, holds the budgets, the Entra back-off, the circuit
	// breaker, the negative cache and its key for every replica sharing it
	// (internal/hookstore, configured with the same Shield); nil keeps them
	// in this process's memory. The handler does not close it.
	Store ShieldStore
	// Signals configures background signal delivery.
	Signals SignalConfig
	// MFACheck configures the canary check of the MFA order (mfacheck.go).
	MFACheck MFACheckConfig
	// Binding resolves the typed username to the user's migration and binds
	// VERIFIED to the Entra object it recorded (identity.go). Its zero value
	// checks the typed username as typed, unbound.
	Binding BindingConfig
	// Policy configures the password-policy check of verified passwords
	// (policy.go); its zero value turns it off.
	Policy PolicyConfig
	// Registerer receives the hook's metrics (nil: not registered).
	Registerer prometheus.Registerer
}

func (c *Config) setDefaults() {
	if c.Budget <= 0 {
		c.Budget = 2500 * time.Millisecond
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 64 << 10
	}
	if c.MaxConcurrent <= 0 {
		c.MaxConcurrent = 1024
	}
}

// Handler serves POST PasswordImportPath. Create it with NewHandler and stop
// it with Shutdown.
type Handler struct {
	cfg    Config
	v      Verifier
	auth   *hook.Authenticator
	shield *shield     // pair and request keys, the reply cache for Okta's retry
	store  ShieldStore // budgets and negative cache: memoryStore{shield} or Config.Store
	flight singleflight.Group
	sem    chan struct{}
	disp   *dispatcher
	mfa    *mfaCheck
	pol    *policyCheck
	ids    *resolver // nil: binding off
	tid    string    // the tenant GUID the ID token's tid must name, "" when not compared
	m      *metrics
	log    *slog.Logger
	mux    *http.ServeMux
}

// NewHandler returns the hook handler. It refuses a configuration without an
// auth secret. Verification goes through v; outcome signals go through s in
// the background.
func NewHandler(cfg Config, v Verifier, s Signaler, logger *slog.Logger) (*Handler, error) {
	if v == nil || s == nil {
		return nil, errors.New("hook: a verifier and a signaler are required")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg.setDefaults()
	auth, err := hook.NewAuthenticator(cfg.AuthHeader, cfg.AuthSecret, cfg.OAuth)
	if err != nil {
		return nil, err
	}
	sh, err := newShield(cfg.Shield)
	if err != nil {
		return nil, err
	}
	if mc := cfg.MFACheck; (mc.Username == "") != mc.Password.Empty() {
		return nil, errors.New("hook: the MFA order check needs both a canary username and a (wrong) password")
	} else if mc.MaxPerDay >= sh.cfg.LockoutThreshold {
		return nil, fmt.Errorf("hook: %d MFA order checks a day would reach the lockout threshold of %d on the canary", mc.MaxPerDay, sh.cfg.LockoutThreshold)
	}
	h := &Handler{cfg: cfg, v: v, auth: auth, shield: sh, store: memoryStore{sh}, sem: make(chan struct{}, cfg.MaxConcurrent), log: logger}
	if cfg.Store != nil {
		// Pair keys are compared across replicas: the store's key.
		k := cfg.Store.Key()
		if err := checkKey(k); err != nil {
			return nil, err
		}
		sh.key = append([]byte(nil), k...)
		h.store = cfg.Store
	}
	h.m, err = newMetrics(cfg.Registerer, func() float64 {
		if h.disp == nil {
			return 0
		}
		return float64(h.disp.pending())
	})
	if err != nil {
		return nil, err
	}
	h.mfa = newMFACheck(cfg.MFACheck, sh.cfg.LockoutThreshold, v, logger)
	h.pol = newPolicyCheck(cfg.Policy, logger)
	if cfg.Binding.Source != nil {
		h.ids = newResolver(cfg.Binding)
		if isGUID(cfg.Binding.TenantID) {
			h.tid = strings.ToLower(cfg.Binding.TenantID)
		} else {
			logger.Warn("hook: the tenant is not given as a GUID, so the ID token's tid is not compared (the oid still is)", "tenant", cfg.Binding.TenantID)
		}
	} else {
		logger.Warn("hook: identity binding off: VERIFIED is not bound to the Entra account the Okta user came from")
	}
	if cfg.Registerer != nil {
		for _, c := range append(h.mfa.collectors(), h.pol.collectors()...) {
			if err := cfg.Registerer.Register(c); err != nil {
				return nil, err
			}
		}
	}
	h.disp = newDispatcher(cfg.Signals, s, logger, func(result string) { h.m.signals.WithLabelValues(result).Inc() })
	h.mfa.start()
	h.pol.start()
	auth.PrefetchKeys(logger)
	h.mux = http.NewServeMux()
	h.mux.HandleFunc("POST "+PasswordImportPath, h.serveImport)
	return h, nil
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// Shutdown stops accepting signals and delivers the queued ones until ctx is
// done. Call it after the HTTP server has stopped.
func (h *Handler) Shutdown(ctx context.Context) error {
	h.mfa.stop()
	h.pol.stop()
	return h.disp.shutdown(ctx)
}

// answerReserve is the part of the budget kept for writing the answer after
// the check's deadline: a tenth of it, at most 20 ms.
// reasonTimeout is the reason of a check that ran out of the answer's budget.
const reasonTimeout = "timeout"

func answerReserve(budget time.Duration) time.Duration { return min(budget/10, 20*time.Millisecond) }

// Okta's command response, precomputed
// (https://developer.okta.com/docs/reference/password-hook/).
var (
	bodyVerified   = []byte(`{"commands":[{"type":"com.okta.action.update","value":{"credential":"VERIFIED"}}]}`)
	bodyUnverified = []byte(`{"commands":[{"type":"com.okta.action.update","value":{"credential":"UNVERIFIED"}}]}`)
	bodyUndecided  = []byte(`{"errorSummary":"the password could not be checked now; try again later"}`)
)

// StatusUndecided is the HTTP status of the answer "no statement about the
// password" (a 403 with Okta's Error object, the non-2xx answer the hook's
// OpenAPI description documents): Entra could not decide (time-out, throttling, outage, lockout),
// or the shield kept the check from Entra, or the password was already
// answered. Okta's password policy locks an account after failed sign-ins and
// by default never unlocks it (PasswordPolicyPasswordSettingsLockout:
// maxAttempts 10, autoUnlockMinutes 0, in
// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Policy/).
// An UNVERIFIED command is Okta's wrong password, so answering UNVERIFIED
// whenever Entra cannot decide would let an Entra incident, or an attacker
// spending a user's budget, lock real users out of Okta for good. A non-2xx
// answer is a failed hook call instead: the user cannot sign in, the
// password is not imported, the next sign-in calls the hook again, and
// Okta does not retry a 4xx
// (https://developer.okta.com/docs/concepts/inline-hooks/, "Timeout and
// retry", "Inline hook timeout behavior"). Okta does not document whether a
// failed hook call counts towards the lockout; fakeokta models that it does
// not, and hookserver/README.md says how to confirm it in a preview org.
const StatusUndecided = http.StatusForbidden

// answer is what the hook tells Okta.
type answer int

const (
	answerUndecided  answer = iota // StatusUndecided, error object
	answerVerified                 // 200 VERIFIED
	answerUnverified               // 200 UNVERIFIED: Entra just rejected this check, charged to the user's budget
)

// outcome is what the hook established for one request.
type outcome struct {
	id       identity // the migration the typed name resolved to
	res      entra.Result
	outcome  string   // workflows.Outcome*
	shielded string   // why Entra was not asked, "" if it was (or was joined)
	below    []string // the password policy rules a verified password breaks (policy.go)
	joined   bool     // shared an identical in-flight check
	replayed bool     // answered from the request's earlier answer (Okta's retry)
	answer   answer
}

// answerOf is the answer to Okta: VERIFIED when Entra verified the password;
// UNVERIFIED only when Entra itself just rejected it in a check this request
// led (so the UNVERIFIED answers for one user, each a failed sign-in for
// Okta's lockout, are bounded by the user's budget); otherwise undecided.
func answerOf(out outcome) answer {
	switch {
	case out.outcome == workflows.OutcomeVerified:
		return answerVerified
	case out.outcome == workflows.OutcomeUnverified && out.shielded == "" && !out.joined && out.res.Verdict == entra.Rejected:
		return answerUnverified
	}
	return answerUndecided
}

func (h *Handler) serveImport(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	// The check must end a little before the budget, so that writing the
	// answer still fits in it.
	deadline := start.Add(h.cfg.Budget - answerReserve(h.cfg.Budget))

	actx, cancel := context.WithDeadline(r.Context(), deadline) // bounds a JWKS fetch
	why := h.auth.Check(actx, r)
	cancel()
	if why != "" {
		h.m.authFailures.WithLabelValues(why).Inc()
		h.log.Warn("hook request refused", "status", http.StatusUnauthorized, "why", why, "remote", r.RemoteAddr)
		if h.auth.UsesOAuth() {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		}
		h.fail(w, http.StatusUnauthorized, "unauthorized")
		return
	}
	req, err := h.readRequest(w, r)
	if err != nil {
		// err is a badRequest: a fixed category that never quotes the body.
		h.log.Warn("hook request rejected", "status", http.StatusBadRequest, "why", err.Error(), "remote", r.RemoteAddr)
		h.fail(w, http.StatusBadRequest, "malformed password import request")
		return
	}

	out := h.check(req, deadline)

	// Answer Okta first: never 5xx or late, which Okta retries, sending the
	// same credential to Entra a second time.
	status, body := http.StatusOK, bodyUndecided
	switch out.answer {
	case answerVerified:
		body = bodyVerified
	case answerUnverified:
		body = bodyUnverified
	default:
		status = StatusUndecided
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
	answered := time.Now()
	answerTime := answered.Sub(start)

	h.m.requests.WithLabelValues(codeLabel(status)).Inc()
	h.m.answerSeconds.Observe(answerTime.Seconds())
	h.m.outcomes.WithLabelValues(out.outcome, out.res.Reason).Inc()
	if out.shielded != "" {
		h.m.shield.WithLabelValues(out.shielded).Inc()
	}
	if out.joined {
		h.m.coalesced.Inc()
	}
	level := slog.LevelInfo
	if out.outcome == workflows.OutcomeIndeterminate {
		level = slog.LevelWarn // alert: no statement about the password
	}
	if out.res.Reason == reasonIdentityMatch && !out.replayed {
		h.m.mismatches.Inc()
		// Alert: someone holds the password of the Entra account that has
		// this user's login now, not of the account the user came from.
		h.log.LogAttrs(r.Context(), slog.LevelError, "hook: identity mismatch: Entra accepted the password of another account than the one this user's migration recorded; answered UNVERIFIED",
			slog.String("event_id", req.EventID), slog.String("user", req.Username), slog.String("login", out.id.login),
			slog.String("expected_oid", out.id.objectID), slog.String("workflow_id", out.id.workflowID), slog.String("ip", req.IP))
	}
	h.log.LogAttrs(r.Context(), level, "password import answered",
		slog.String("event_id", req.EventID),
		slog.String("user", req.Username),
		slog.String("login", out.id.login),
		slog.String("identity", out.id.how),
		slog.String("outcome", out.outcome),
		slog.Int("code", out.res.Code),
		slog.String("reason", out.res.Reason),
		slog.Bool("coalesced", out.joined),
		slog.Bool("replayed", out.replayed),
		slog.String("below_policy", strings.Join(out.below, ",")),
		slog.Int("status", status),
		slog.Duration("entra_latency", out.res.Latency),
		slog.Duration("answer_latency", answerTime),
		slog.String("ip", req.IP),
	)

	// Then tell the workflow, in the background: this never delays or
	// changes the answer above.
	wid := out.id.workflowID
	if wid == "" {
		wid = workflows.UserWorkflowID(req.Username)
	}
	h.disp.enqueue(signalJob{
		workflowID: wid,
		sig: workflows.PasswordVerifiedSignal{
			Outcome:     out.outcome,
			Code:        out.res.Code,
			Reason:      out.res.Reason,
			Latency:     out.res.Latency,
			At:          answered.UTC(),
			EventID:     req.EventID,
			BelowPolicy: out.below,
		},
	})
}

// readRequest checks the content type, reads at most MaxBodyBytes and decodes
// the payload. Every error it returns is a badRequest.
func (h *Handler) readRequest(w http.ResponseWriter, r *http.Request) (importRequest, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return importRequest{}, errContentType
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return importRequest{}, errTooLarge
		}
		return importRequest{}, errReadingBody
	}
	return parseImportRequest(body)
}

func (h *Handler) fail(w http.ResponseWriter, status int, summary string) {
	h.m.requests.WithLabelValues(codeLabel(status)).Inc()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	// The inline hook error object (https://developer.okta.com/docs/concepts/inline-hooks/),
	// with a fixed summary.
	_, _ = io.WriteString(w, `{"error":{"errorSummary":"`+summary+`"}}`)
}

// check decides the outcome of one request by the deadline: from the
// negative cache, by joining an identical in-flight check, or by asking
// Entra when the shield admits it.
func (h *Handler) check(req importRequest, deadline time.Time) outcome {
	out := h.decide(req, deadline)
	if !out.replayed {
		out.answer = answerOf(out)
	}
	return out
}

func (h *Handler) decide(req importRequest, deadline time.Time) outcome {
	if len(req.Username) > maxUsernameBytes || req.Password.Len() > maxPasswordBytes {
		// No Entra account has such a credential; don't spend an attempt.
		return outcome{
			res:      entra.Result{Verdict: entra.Rejected, Reason: reasonCredentialSize},
			outcome:  workflows.OutcomeUnverified,
			shielded: reasonCredentialSize,
		}
	}
	if pw := req.Password.Reveal(); pw != strings.TrimSpace(pw) {
		// ROPC does not support passwords with leading or trailing spaces
		// (https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth-ropc):
		// Entra could not say whether it is right, so it is not asked and
		// the user's budget is not spent.
		return shielded(reasonPasswordSpaces)
	}
	// Which Okta user is this, and which Entra account did it come from?
	// Before the shield: budgets, coalescing and the negative cache are the
	// Entra account's, whatever name was typed.
	id, why := h.ids.resolve(req.Username, deadline)
	if why != "" {
		h.m.identity.WithLabelValues(why).Inc()
		out := shielded(why)
		out.id = unbound(req.Username, "")
		return out
	}
	if id.held {
		// A mismatch held this migration: its sign-ins wait for an
		// operator, and no check reaches Entra or Okta's lockout count.
		h.m.identity.WithLabelValues(reasonIdentityHeld).Inc()
		out := shielded(reasonIdentityHeld)
		out.id = id
		return out
	}
	h.m.identity.WithLabelValues(id.how).Inc()
	req.Username = id.login
	out := h.decideAs(req, id, deadline)
	out.id = id
	if out.res.Reason == reasonIdentityMatch {
		h.ids.markHeld(id.workflowID, time.Now())
	}
	return out
}

// decideAs decides for req, whose Username is now the login Entra is asked
// about.
func (h *Handler) decideAs(req importRequest, id identity, deadline time.Time) outcome {
	k := h.shield.pairKey(req.Username, req.Password.Reveal())
	rk, replay := h.shield.requestKey(req.RequestID, k)
	if replay {
		if prev, ok := h.shield.answered(rk, time.Now()); ok {
			// Okta's retry of a request already checked: the same answer,
			// no second Entra attempt.
			prev.replayed, prev.joined, prev.shielded = true, false, ""
			return prev
		}
	}
	out := h.decideOnce(req, id, k, deadline)
	if replay {
		out.answer = answerOf(out)
		h.shield.remember(rk, out, time.Now())
	}
	return out
}

func (h *Handler) decideOnce(req importRequest, id identity, k [32]byte, deadline time.Time) outcome {
	ctx, cancel := h.storeContext(deadline)
	rej, ok, err := h.store.CachedRejection(ctx, k, time.Now())
	cancel()
	if err != nil {
		h.storeFailed("cached_rejection", err)
		return shielded(reasonStoreUnavailable)
	}
	if ok {
		return outcome{
			res:      entra.Result{Verdict: entra.Rejected, Code: rej.Code, Reason: reasonCachedReject},
			outcome:  workflows.OutcomeUnverified,
			shielded: reasonCachedReject,
		}
	}
	led := false
	// Coalesce identical checks (Okta's retry of a slow call carries the same
	// credential): keyed by the HMAC, never by the password.
	ch := h.flight.DoChan(string(k[:]), func() (out any, _ error) {
		led = true
		// singleflight re-raises a panic in every waiter's goroutine, which
		// would kill the process and reset every budget: answer undecided.
		defer func() {
			if p := recover(); p != nil {
				h.m.panics.Inc()
				h.log.Error("hook: panic in a password check (answered undecided)", "panic", fmt.Sprintf("%T", p), "stack", string(debug.Stack()))
				out = outcome{res: entra.Result{Verdict: entra.Indeterminate, Reason: reasonPanic}, outcome: workflows.OutcomeIndeterminate}
			}
		}()
		return h.verify(req, id, k, deadline), nil
	})
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case r := <-ch:
		out := r.Val.(outcome)
		out.joined = !led
		if out.joined {
			out.shielded = "" // counted once, by the check that led
		}
		return out
	case <-t.C:
		return outcome{
			res:     entra.Result{Verdict: entra.Indeterminate, Reason: reasonTimeout, Latency: h.cfg.Budget - answerReserve(h.cfg.Budget)},
			outcome: workflows.OutcomeIndeterminate,
		}
	}
}

// verify runs one Entra check for all coalesced callers. Its context is
// detached from the leading request (whose client may go away while others
// wait) but carries the same deadline.
func (h *Handler) verify(req importRequest, id identity, k [32]byte, deadline time.Time) outcome {
	select {
	case h.sem <- struct{}{}:
		defer func() { <-h.sem }()
	default:
		return shielded(reasonOverloaded)
	}
	sctx, scancel := h.storeContext(deadline)
	c, why, tripped, err := h.store.Admit(sctx, h.shield.cfg.AttemptOf(req.Username, req.IP), time.Now())
	scancel()
	if err != nil {
		// The store cannot say whether the budgets have room: Entra is not
		// asked, so an outage of the store cannot send checks unbounded.
		h.storeFailed("admit", err)
		return shielded(reasonStoreUnavailable)
	}
	if tripped {
		h.m.breakerTrips.Inc()
		h.log.Warn("hook: circuit breaker open: too many failed checks at Entra across all users; no check reaches Entra until it closes",
			"failures", h.cfg.Shield.GlobalFailures, "window", h.shield.cfg.GlobalWindow.String(), "cooldown", h.shield.cfg.BreakerCooldown.String())
	}
	if why != "" {
		return shielded(why)
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	h.m.upstream.Inc()
	began := time.Now()
	res := h.mfa.adjust(h.v.VerifyPassword(ctx, req.Username, req.Password.Reveal()))
	if res.Latency <= 0 {
		res.Latency = time.Since(began)
	}
	if ctx.Err() != nil && res.Verdict != entra.Rejected {
		// The answer's deadline passed while the check ran: whatever it
		// returned comes too late to answer on. A rejection still counts
		// against the user's budget (Entra counted it too).
		res = entra.Result{Verdict: entra.Indeterminate, Reason: reasonTimeout, Latency: res.Latency}
	}
	h.m.entraSeconds.Observe(res.Latency.Seconds())
	res = h.bind(res, id)
	h.record(c, k, res, deadline)
	out := outcome{res: res, outcome: outcomeOf(res.Verdict)}
	if out.outcome == workflows.OutcomeVerified {
		// In memory, well inside the budget: the verified password against
		// the Okta password policy, which Okta does not apply to it.
		out.below = h.pol.check(req.Password.Reveal(), req.Username)
	}
	return out
}

// bind holds a verified check to the Entra account the migration recorded:
// the ID token must name its object (oid) in our tenant (tid). A password
// Entra accepted for another object (the UPN was renamed and reused during
// the campaign) is the other account's: it becomes a rejection, so the answer
// is UNVERIFIED, the shield charges it (the UNVERIFIED answers, failed
// sign-ins for Okta's lockout, stay within the user's budget) and remembers
// the pair. A token-less acceptance (an MFA or other interrupt, counted as
// verified by policy) names no account and cannot be bound: it stands, as the
// hook server documentation says. A plain "ok" without oid is not what Entra sends: undecided.
func (h *Handler) bind(res entra.Result, id identity) entra.Result {
	if res.Verdict != entra.Verified || id.objectID == "" {
		return res
	}
	if res.Reason != entra.ReasonOK {
		return res
	}
	if res.ObjectID == "" {
		return entra.Result{Verdict: entra.Indeterminate, Reason: reasonIdentityNoTok, Latency: res.Latency}
	}
	if !strings.EqualFold(res.ObjectID, id.objectID) || (h.tid != "" && !strings.EqualFold(res.TenantID, h.tid)) {
		return entra.Result{Verdict: entra.Rejected, Reason: reasonIdentityMatch, Latency: res.Latency}
	}
	return res
}

// lateRecord bounds a record made after the check's deadline.
const lateRecord = time.Second

// record hands Entra's answer to the store by the check's deadline. When the
// check took the whole budget (an Entra time-out), a shared store gets it in
// the background, under lateRecord, so that the answer is not delayed and a
// healthy store is not reported as failing. If the record fails, the charge
// stays in flight in the store, counted against every budget until it ages
// out: the bound errs towards fewer checks.
func (h *Handler) record(c Charge, k [32]byte, res entra.Result, deadline time.Time) {
	now := time.Now()
	if _, mem := h.store.(memoryStore); !mem && !now.Before(deadline) {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), lateRecord)
			defer cancel()
			if err := h.store.Record(ctx, c, k, res, now); err != nil {
				h.storeFailed("record", err)
			}
		}()
		return
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	if err := h.store.Record(ctx, c, k, res, now); err != nil {
		h.storeFailed("record", err)
	}
}

// storeContext bounds one call to the shield's store: by the check's
// deadline and by a fifth of the budget, so that a slow store leaves most of
// the budget to Entra.
func (h *Handler) storeContext(deadline time.Time) (context.Context, context.CancelFunc) {
	if d := time.Now().Add(h.cfg.Budget / 5); d.Before(deadline) {
		deadline = d
	}
	return context.WithDeadline(context.Background(), deadline)
}

// storeFailed counts and logs a failed call to the shield's store. Store
// errors carry no password or pair key (ShieldStore's contract).
func (h *Handler) storeFailed(op string, err error) {
	h.m.storeErrors.WithLabelValues(op).Inc()
	h.log.Warn("hook: the shield's store failed; the check is answered undecided without Entra (or, after Entra answered, its charge stays counted)",
		"op", op, "err", err.Error())
}

func shielded(why string) outcome {
	return outcome{
		res:      entra.Result{Verdict: entra.Indeterminate, Reason: why},
		outcome:  workflows.OutcomeIndeterminate,
		shielded: why,
	}
}

// outcomeOf maps a verdict to the signal outcome; anything unexpected
// (including an empty verdict) is indeterminate, never verified.
func outcomeOf(v entra.Verdict) string {
	switch v {
	case entra.Verified:
		return workflows.OutcomeVerified
	case entra.Rejected:
		return workflows.OutcomeUnverified
	}
	return workflows.OutcomeIndeterminate
}
