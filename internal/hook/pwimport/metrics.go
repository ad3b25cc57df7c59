package pwimport

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the hook's Prometheus collectors. Label values are fixed
// vocabularies (verdicts, reasons, HTTP statuses); never a
// username, an address or anything derived from a password.
type metrics struct {
	requests      *prometheus.CounterVec // by HTTP status
	outcomes      *prometheus.CounterVec // by verdict, code, reason
	answerSeconds prometheus.Histogram   // request start to answer written
	entraSeconds  prometheus.Histogram   // time spent in the verifier
	shield        *prometheus.CounterVec // by reason
	upstream      prometheus.Counter     // verifier calls
	coalesced     prometheus.Counter     // checks that joined an in-flight identical one
	signals       *prometheus.CounterVec // by result
	signalQueue   prometheus.GaugeFunc   // pending signals
	authFailures  *prometheus.CounterVec // by reason
	breakerTrips  prometheus.Counter     // times the circuit breaker opened
	panics        prometheus.Counter     // checks that panicked (answered undecided)
	identity      *prometheus.CounterVec // identity resolutions by result
	mismatches    prometheus.Counter     // verified passwords of another Entra account
	storeErrors   *prometheus.CounterVec // failed calls to the shield's store, by operation
	all           []prometheus.Collector // for registration
}

func newMetrics(reg prometheus.Registerer, queueLen func() float64) (*metrics, error) {
	lat := []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 1.5, 2, 2.5, 3, 5}
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "entra2okta_hook_requests_total",
			Help: "Password import hook requests by HTTP status answered.",
		}, []string{"status"}),
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "entra2okta_hook_outcomes_total",
			Help: "Password checks by verdict (verified, unverified, indeterminate) and reason. No AADSTS code: served on the admin listener only.",
		}, []string{"verdict", "reason"}),
		answerSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "entra2okta_hook_answer_seconds",
			Help:    "Time from receiving a password import request to writing the answer.",
			Buckets: lat,
		}),
		entraSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "entra2okta_hook_entra_seconds",
			Help:    "Time spent verifying a password against Entra ID.",
			Buckets: lat,
		}),
		shield: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "entra2okta_hook_shield_rejections_total",
			Help: "Checks answered UNVERIFIED without asking Entra, by reason.",
		}, []string{"reason"}),
		upstream: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "entra2okta_hook_entra_calls_total",
			Help: "Password checks sent to Entra ID.",
		}),
		coalesced: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "entra2okta_hook_coalesced_total",
			Help: "Checks that shared an identical in-flight Entra call.",
		}),
		signals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "entra2okta_hook_signals_total",
			Help: "Workflow signals by result: delivered, not_found, failed (retries spent or non-retryable), dropped (queue full or shutdown).",
		}, []string{"result"}),
		signalQueue: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "entra2okta_hook_signal_queue_length",
			Help: "Signals waiting to be delivered.",
		}, queueLen),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "entra2okta_hook_auth_failures_total",
			Help: "Requests refused with 401, by reason.",
		}, []string{"reason"}),
		breakerTrips: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "entra2okta_hook_breaker_trips_total",
			Help: "Times the tenant-wide circuit breaker opened: too many checks failed at Entra across all users.",
		}),
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "entra2okta_hook_check_panics_total",
			Help: "Password checks that panicked and were answered undecided.",
		}),
		identity: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "entra2okta_hook_identity_total",
			Help: "Typed usernames resolved to a migration, by result: bound (recorded Entra object ID), unrecorded (a migration started by an earlier release), no_workflow (a full login no migration knows, checked as typed), off, or the undecided identity_unknown, identity_ambiguous, identity_unavailable, identity_overloaded, identity_held (the migration is held after an identity mismatch).",
		}, []string{"result"}),
		mismatches: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "entra2okta_hook_identity_mismatches_total",
			Help: "Passwords Entra accepted for another account than the one the migration recorded (a renamed and reused UPN): answered UNVERIFIED.",
		}),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "entra2okta_hook_store_errors_total",
			Help: "Failed calls to the shield's store (HOOK_STORE) by operation: admit and cached_rejection (the check is answered undecided without Entra), record (the charge stays counted until it ages out).",
		}, []string{"op"}),
	}
	m.all = []prometheus.Collector{m.storeErrors, m.identity, m.mismatches, m.panics, m.requests, m.outcomes, m.answerSeconds, m.entraSeconds, m.shield,
		m.upstream, m.coalesced, m.signals, m.signalQueue, m.authFailures, m.breakerTrips}
	if reg != nil {
		for _, c := range m.all {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

func codeLabel(code int) string { return strconv.Itoa(code) }
