// Package eventhook serves Okta's event hook
// (https://developer.okta.com/docs/concepts/event-hooks/): it answers the
// one-time verification, acknowledges deliveries at once and processes their
// events in the background on a hook.Queue, each event uuid once while it is
// remembered. An assignment to the Office 365 app starts the user's
// MigrateUser workflow; a user.import.password event is relayed to it.
package eventhook

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/prometheus/client_golang/prometheus"

	"entra2okta/internal/hook"
	"entra2okta/workflows"
)

// Okta event hook routes (docs/event-hooks.md).
const (
	// EventsPath is where Okta's event hook channel points: GET for the
	// one-time verification, POST for deliveries.
	EventsPath = "/okta/events"
	// RecentEventsPath lists the last events received and what was done
	// with them, newest first (authenticated like EventsPath).
	RecentEventsPath = "/okta/events/recent"
)

// Event types the event hook acts on; subscribe the hook to both.
const (
	// EventAppMembershipAdd is written when a user is assigned to an app.
	EventAppMembershipAdd = "application.user_membership.add"
	// EventPasswordImport is written each time the password import hook
	// fires, with outcome SUCCESS or FAILURE.
	EventPasswordImport = "user.import.password"
)

// DefaultEventsBatch labels the MigrateUser workflows that app assignments start.
const DefaultEventsBatch = "o365-events"

// WorkflowClient is what the event handler needs from Temporal;
// client.Client satisfies it.
type WorkflowClient interface {
	hook.Signaler
	ExecuteWorkflow(ctx context.Context, options client.StartWorkflowOptions, workflow any, args ...any) (client.WorkflowRun, error)
}

// EventConfig configures the Okta event hook endpoint. Client is required.
type EventConfig struct {
	// Client starts and signals MigrateUser workflows.
	Client WorkflowClient
	// AuthHeader and AuthSecret authenticate Okta's calls to the event hook:
	// a secret of its own (hookserver's HOOK_EVENTS_AUTH_*), so that whoever
	// holds the password hook's secret cannot forge events and the other way
	// round. hookserver.Server refuses the password hook's secret here. An empty
	// AuthSecret on a hookserver.Server falls back to the password hook's credentials,
	// for in-process harnesses only (the demo); hookserver never does.
	AuthHeader, AuthSecret string
	// AppID is the Okta app id (0oa…) of the Office 365 app: assigning a user
	// to it starts the user's migration. Empty ignores assignments.
	AppID string
	// Batch labels the workflows assignments start (default DefaultEventsBatch).
	Batch string
	// Deadline (absolute) or DeadlineAfter (from the assignment) is when
	// Policy applies; both zero means the workflow's default.
	Deadline      time.Time
	DeadlineAfter time.Duration
	// Policy is the straggler policy ("" means none).
	Policy workflows.DeadlinePolicy
	// MaxBodyBytes caps a delivery's body (default 4 MiB).
	MaxBodyBytes int64
	// SeenEvents bounds the event uuids remembered to drop duplicate
	// deliveries (default 50,000, least recently seen forgotten first).
	SeenEvents int
	// QueueSize bounds the events waiting to be processed (default 10,000).
	// A delivery that does not fit is answered 503, which Okta retries once.
	QueueSize int
	// Workers is how many events are processed concurrently (default 2).
	Workers int
	// MaxAttempts bounds the Temporal calls per event (default 5), each
	// under AttemptTimeout (default 5 s), with backoff from 200 ms to 5 s.
	MaxAttempts    int
	AttemptTimeout time.Duration
	// Recent is how many processed events GET RecentEventsPath lists (default 200).
	Recent int
}

func (c *EventConfig) setDefaults() {
	if c.Batch == "" {
		c.Batch = DefaultEventsBatch
	}
	c.MaxBodyBytes = positiveOr(c.MaxBodyBytes, 4<<20)
	c.SeenEvents = positiveOr(c.SeenEvents, 50_000)
	c.Workers = positiveOr(c.Workers, 2)
	c.AttemptTimeout = positiveOr(c.AttemptTimeout, 5*time.Second)
	c.Recent = positiveOr(c.Recent, 200)
	// QueueSize and MaxAttempts take hook.QueueConfig's defaults.
}

// positiveOr returns v, or def when v is not positive.
func positiveOr[T int | int64 | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// What the handler did with an event (EventRecord.Action).
const (
	ActionStart     = "start"     // ensured the user's MigrateUser runs
	ActionSignal    = "signal"    // relayed user.import.password to the workflow
	ActionIgnore    = "ignore"    // not an event we act on; Reason says why
	ActionDuplicate = "duplicate" // uuid already received
)

// Results of an action (EventRecord.Result, metric label values).
const (
	ResultPending  = "pending"   // queued
	ResultOK       = "ok"        // started, joined a running workflow, or signalled
	ResultClosed   = "closed"    // the user's workflow already finished; not restarted
	ResultNotFound = "not_found" // no workflow to signal: the user is not being migrated
	ResultFailed   = "failed"    // retries spent or not retryable
	ResultSkipped  = "skipped"   // ignored or duplicate
)

// EventRecord is what RecentEventsPath shows for one event.
type EventRecord struct {
	Received   time.Time `json:"received"`
	DeliveryID string    `json:"deliveryId"` // the delivery's eventId
	UUID       string    `json:"uuid"`
	EventType  string    `json:"eventType"`
	Published  string    `json:"published,omitempty"`
	Outcome    string    `json:"outcome,omitempty"`
	Login      string    `json:"login,omitempty"`
	Action     string    `json:"action"`
	Result     string    `json:"result"`
	WorkflowID string    `json:"workflowId,omitempty"`
	RunID      string    `json:"runId,omitempty"`
	Reason     string    `json:"reason,omitempty"`
}

// eventDelivery is Okta's event hook request body (docs/event-hooks.md).
type eventDelivery struct {
	EventType        string `json:"eventType"`
	EventTypeVersion string `json:"eventTypeVersion"`
	Source           string `json:"source"`
	EventID          string `json:"eventId"`
	EventTime        string `json:"eventTime"`
	Data             *struct {
		Events []logEvent `json:"events"`
	} `json:"data"`
}

// logEvent is the part of a System Log LogEvent we read.
type logEvent struct {
	UUID      string `json:"uuid"`
	Published string `json:"published"`
	EventType string `json:"eventType"`
	Outcome   *struct {
		Result string `json:"result"`
	} `json:"outcome"`
	Target []struct {
		ID          string `json:"id"`
		Type        string `json:"type"`
		AlternateID string `json:"alternateId"`
	} `json:"target"`
}

// target returns the first target of type typ.
func (e *logEvent) target(typ string) (id, alternateID string, ok bool) {
	for _, t := range e.Target {
		if t.Type == typ {
			return t.ID, t.AlternateID, true
		}
	}
	return "", "", false
}

func (e *logEvent) outcome() string {
	if e.Outcome == nil {
		return ""
	}
	return strings.ToUpper(e.Outcome.Result)
}

type eventJob struct {
	ev  logEvent
	rec *EventRecord
}

// EventHandler serves Okta's event hook: it answers the verification GET,
// acknowledges deliveries at once, and processes their events in the
// background, each uuid once while it is remembered. Create it with
// NewEventHandler and stop it with Shutdown.
type EventHandler struct {
	cfg  EventConfig
	auth *hook.Authenticator
	log  *slog.Logger
	mux  *http.ServeMux

	events *prometheus.CounterVec // by type, action, result
	all    []prometheus.Collector

	queue *hook.Queue[eventJob]

	mu     sync.Mutex
	seen   *hook.LRU[string, struct{}]
	recent []*EventRecord // ring of processed events; the next goes at index at
	at     int
}

// NewEventHandler returns the event hook handler and starts its workers.
// reg, when not nil, receives its metrics.
func NewEventHandler(cfg EventConfig, reg prometheus.Registerer, logger *slog.Logger) (*EventHandler, error) {
	if cfg.Client == nil {
		return nil, errors.New("hook: the event hook needs a Temporal client")
	}
	if !cfg.Policy.Valid() {
		return nil, errors.New("hook: unknown deadline policy " + string(cfg.Policy))
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg.setDefaults()
	auth, err := hook.NewAuthenticator(cfg.AuthHeader, cfg.AuthSecret, nil)
	if err != nil {
		return nil, err
	}
	h := &EventHandler{
		cfg: cfg, auth: auth, log: logger,
		seen: hook.NewLRU[string, struct{}](cfg.SeenEvents), recent: make([]*EventRecord, cfg.Recent),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "entra2okta_hook_okta_events_total",
			Help: "Okta event hook events by event type, action (start, signal, ignore, duplicate) and result.",
		}, []string{"type", "action", "result"}),
	}
	h.all = []prometheus.Collector{h.events}
	if reg != nil {
		for _, c := range h.all {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	h.mux = http.NewServeMux()
	h.mux.HandleFunc("GET "+EventsPath, h.serveVerify)
	h.mux.HandleFunc("POST "+EventsPath, h.serveDelivery)
	h.mux.HandleFunc("GET "+RecentEventsPath, h.serveRecent)
	h.queue = hook.NewQueue(hook.QueueConfig{QueueSize: cfg.QueueSize, Workers: cfg.Workers, MaxAttempts: cfg.MaxAttempts,
		AttemptTimeout: cfg.AttemptTimeout, InitialBackoff: 200 * time.Millisecond, MaxBackoff: 5 * time.Second}, h.process, h.drop)
	return h, nil
}

// ServeHTTP implements http.Handler.
func (h *EventHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// authorized checks the shared secret; it answers 401 and reports false when
// it is wrong.
func (h *EventHandler) authorized(w http.ResponseWriter, r *http.Request) bool {
	why := h.auth.Check(r.Context(), r)
	if why == "" {
		return true
	}
	h.log.Warn("okta event hook request refused", "status", http.StatusUnauthorized, "why", why,
		"method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr)
	writeEventError(w, http.StatusUnauthorized, "unauthorized")
	return false
}

func writeEventError(w http.ResponseWriter, status int, summary string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, `{"error":{"errorSummary":"`+summary+`"}}`)
}

// maxChallengeBytes bounds the verification value echoed back.
const maxChallengeBytes = 1024

// serveVerify answers Okta's one-time verification GET: the value of
// X-Okta-Verification-Challenge, back in {"verification": …}.
func (h *EventHandler) serveVerify(w http.ResponseWriter, r *http.Request) {
	if !h.authorized(w, r) {
		return
	}
	challenge := r.Header.Get("X-Okta-Verification-Challenge")
	if challenge == "" || len(challenge) > maxChallengeBytes {
		h.log.Warn("okta event hook verification rejected", "why", "missing or oversized challenge", "remote", r.RemoteAddr)
		writeEventError(w, http.StatusBadRequest, "missing verification challenge")
		return
	}
	body, err := json.Marshal(map[string]string{"verification": challenge})
	if err != nil {
		writeEventError(w, http.StatusInternalServerError, "internal error")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(body)
	h.log.Info("okta event hook verified", "remote", r.RemoteAddr, "okta_request_id", r.Header.Get("X-Okta-Request-Id"))
}

// serveDelivery acknowledges a delivery once its events are queued; they are
// processed afterwards. Duplicates (by uuid) are dropped. A delivery whose new
// events do not all fit in the queue is answered 503, so that Okta's retry
// brings the ones left out (the ones queued are then duplicates).
func (h *EventHandler) serveDelivery(w http.ResponseWriter, r *http.Request) {
	if !h.authorized(w, r) {
		return
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		h.rejectDelivery(w, r, "content type")
		return
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes))
	if err != nil {
		h.rejectDelivery(w, r, "body too large or unreadable")
		return
	}
	var d eventDelivery
	if err := json.Unmarshal(raw, &d); err != nil || d.EventType != "com.okta.event_hook" || d.Data == nil {
		h.rejectDelivery(w, r, "not an Okta event hook delivery")
		return
	}
	now := time.Now().UTC()
	var fresh, dups, missed int
	for _, ev := range d.Data.Events {
		rec := &EventRecord{Received: now, DeliveryID: d.EventID, UUID: ev.UUID, EventType: ev.EventType,
			Published: ev.Published, Outcome: ev.outcome(), Result: ResultPending}
		if ev.UUID == "" {
			rec.Action, rec.Result, rec.Reason = ActionIgnore, ResultSkipped, "event without a uuid"
			h.finish(rec)
			continue
		}
		if !h.claim(ev.UUID) {
			dups++
			rec.Action, rec.Result = ActionDuplicate, ResultSkipped
			_, rec.Login, _ = ev.target("User")
			h.finish(rec)
			continue
		}
		if !h.queue.Enqueue(eventJob{ev: ev, rec: rec}) {
			missed++
			continue
		}
		fresh++
	}
	h.log.Info("okta event hook delivery", "delivery_id", d.EventID, "events", len(d.Data.Events),
		"queued", fresh, "duplicates", dups, "not_queued", missed)
	if missed > 0 {
		writeEventError(w, http.StatusServiceUnavailable, "busy")
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (h *EventHandler) rejectDelivery(w http.ResponseWriter, r *http.Request, why string) {
	h.log.Warn("okta event hook delivery rejected", "status", http.StatusBadRequest, "why", why, "remote", r.RemoteAddr)
	writeEventError(w, http.StatusBadRequest, "malformed event hook delivery")
}

// claim marks uuid as received; false means it was already.
func (h *EventHandler) claim(uuid string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.seen.Get(uuid); ok {
		return false
	}
	h.seen.Put(uuid, struct{}{})
	return true
}

// forget lets a uuid be processed again (it was not queued, or failed).
func (h *EventHandler) forget(uuid string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seen.Remove(uuid)
}

// finish records a processed event for RecentEventsPath and the metrics.
func (h *EventHandler) finish(rec *EventRecord) {
	h.events.WithLabelValues(eventTypeLabel(rec.EventType), rec.Action, rec.Result).Inc()
	h.mu.Lock()
	h.recent[h.at] = rec
	h.at = (h.at + 1) % len(h.recent)
	h.mu.Unlock()
}

// eventTypeLabel keeps the metric's label values a fixed vocabulary.
func eventTypeLabel(t string) string {
	switch t {
	case EventAppMembershipAdd, EventPasswordImport:
		return t
	}
	return "other"
}

// Recent returns the last processed events, newest first.
func (h *EventHandler) Recent() []EventRecord {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]EventRecord, 0, len(h.recent))
	for i := 1; i <= len(h.recent); i++ {
		if rec := h.recent[(h.at-i+len(h.recent))%len(h.recent)]; rec != nil {
			out = append(out, *rec)
		}
	}
	return out
}

func (h *EventHandler) serveRecent(w http.ResponseWriter, r *http.Request) {
	if !h.authorized(w, r) {
		return
	}
	body, err := json.Marshal(map[string]any{"events": h.Recent()})
	if err != nil {
		writeEventError(w, http.StatusInternalServerError, "internal error")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(body)
}

// drop handles an event the queue will not process: not queued (the
// delivery is answered 503 and Okta's retry brings it again), or abandoned at
// shutdown (recorded).
func (h *EventHandler) drop(j eventJob, why string) {
	h.forget(j.ev.UUID)
	if why == hook.DropShutdown {
		j.rec.Action, j.rec.Result, j.rec.Reason = ActionIgnore, ResultFailed, "abandoned at shutdown"
		h.finish(j.rec)
	}
}

// process acts on one event and records what it did.
func (h *EventHandler) process(j eventJob) {
	ev, rec := &j.ev, j.rec
	switch ev.EventType {
	case EventAppMembershipAdd:
		h.onAssignment(ev, rec)
	case EventPasswordImport:
		h.onPasswordImport(ev, rec)
	default:
		rec.Action, rec.Result, rec.Reason = ActionIgnore, ResultSkipped, "event type not handled"
	}
	if rec.Result == ResultFailed {
		h.forget(ev.UUID) // a redelivery may succeed
	}
	level := slog.LevelInfo
	if rec.Result == ResultFailed {
		level = slog.LevelError
	}
	h.log.Log(context.Background(), level, "okta event processed", "uuid", rec.UUID, "event_type", rec.EventType,
		"outcome", rec.Outcome, "login", rec.Login, "action", rec.Action, "result", rec.Result,
		"workflow_id", rec.WorkflowID, "run_id", rec.RunID, "reason", rec.Reason)
	h.finish(rec)
}

// onAssignment ensures the MigrateUser workflow of a user assigned to the
// Office 365 app runs: started if it never ran (or its last run failed),
// left alone if it is running or finished.
func (h *EventHandler) onAssignment(ev *logEvent, rec *EventRecord) {
	rec.Action = ActionIgnore
	rec.Result = ResultSkipped
	appID, _, ok := ev.target("AppInstance")
	switch {
	case h.cfg.AppID == "":
		rec.Reason = "no Office 365 app id configured (OKTA_O365_APP_ID)"
		return
	case !ok || appID != h.cfg.AppID:
		rec.Reason = "another app: " + appID
		return
	case rec.Outcome != "" && rec.Outcome != "SUCCESS":
		rec.Reason = "assignment outcome " + rec.Outcome
		return
	}
	_, login, ok := ev.target("User")
	if login = strings.TrimSpace(login); !ok || login == "" {
		rec.Reason = "no target of type User"
		return
	}
	rec.Action, rec.Login = ActionStart, login
	rec.WorkflowID = workflows.UserWorkflowID(login)
	in := workflows.MigrateUserInput{Login: login, Batch: h.cfg.Batch, Deadline: h.cfg.Deadline, Policy: h.cfg.Policy}
	if in.Deadline.IsZero() && h.cfg.DeadlineAfter > 0 {
		in.Deadline = time.Now().UTC().Add(h.cfg.DeadlineAfter)
	}
	deadline := in.Deadline
	if deadline.IsZero() {
		deadline = time.Now().UTC().Add(workflows.DefaultDeadlineAfter) // what the workflow will pick, for the search attribute
	}
	opts := client.StartWorkflowOptions{
		ID:        rec.WorkflowID,
		TaskQueue: workflows.TaskQueue,
		// A running migration (from a batch or an earlier event) is joined,
		// not restarted; a finished one is not run again unless it failed.
		WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.MigrationStateKey.ValueSet(string(workflows.StatePending)),
			workflows.MigrationBatchKey.ValueSet(h.cfg.Batch),
			workflows.MigrationDeadlineKey.ValueSet(deadline)),
		StaticSummary: "entra2okta user " + login + " (Office 365 assignment event " + ev.UUID + ")",
	}
	_, err := h.queue.Retry(func(ctx context.Context) error {
		run, err := h.cfg.Client.ExecuteWorkflow(ctx, opts, workflows.MigrateUser, in)
		if err == nil {
			rec.RunID = run.GetRunID()
		}
		return err
	}, final)
	var already *serviceerror.WorkflowExecutionAlreadyStarted
	switch {
	case err == nil:
		rec.Result = ResultOK
	case errors.As(err, &already):
		rec.Result, rec.Reason = ResultClosed, "the user's migration already finished; not restarted"
	default:
		rec.Result, rec.Reason = ResultFailed, err.Error()
	}
}

// onPasswordImport relays Okta's verdict on an imported password to the
// user's workflow, which then ends Migrated (SUCCESS) or keeps waiting.
func (h *EventHandler) onPasswordImport(ev *logEvent, rec *EventRecord) {
	rec.Action, rec.Result = ActionIgnore, ResultSkipped
	if rec.Outcome != "SUCCESS" && rec.Outcome != "FAILURE" {
		rec.Reason = "outcome " + rec.Outcome
		return
	}
	_, login, ok := ev.target("User")
	if login = strings.TrimSpace(login); !ok || login == "" {
		rec.Reason = "no target of type User"
		return
	}
	published, _ := time.Parse(time.RFC3339Nano, ev.Published)
	sig := workflows.PasswordImportEventSignal{EventID: ev.UUID, Outcome: rec.Outcome, Published: published}
	rec.Action, rec.Login = ActionSignal, login
	rec.WorkflowID = workflows.UserWorkflowID(login)
	_, err := h.queue.Retry(func(ctx context.Context) error {
		return h.cfg.Client.SignalWorkflow(ctx, rec.WorkflowID, "", workflows.SignalPasswordImportEvent, sig)
	}, final)
	var nf *serviceerror.NotFound
	switch {
	case err == nil:
		rec.Result = ResultOK
	case errors.As(err, &nf):
		rec.Result, rec.Reason = ResultNotFound, "no running migration for this user"
	default:
		rec.Result, rec.Reason = ResultFailed, err.Error()
	}
}

// final reports whether err ends an event's attempts at once: there is no
// workflow to signal, or the one to start already ran.
func final(err error) bool {
	var (
		nf      *serviceerror.NotFound
		already *serviceerror.WorkflowExecutionAlreadyStarted
	)
	return errors.As(err, &nf) || errors.As(err, &already)
}

// Shutdown stops accepting deliveries and processes the queued events until
// ctx is done; the rest are abandoned (Okta will not send them again). Call it
// after the HTTP server has stopped. A nil handler does nothing.
func (h *EventHandler) Shutdown(ctx context.Context) error {
	if h == nil {
		return nil
	}
	return h.queue.Shutdown(ctx)
}
