package fakeokta

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Event hooks (Okta's webhooks; the Event Hooks management API, OAS
// EventHook, and docs/concepts/event-hooks): registered with
// POST /api/v1/eventHooks (created ACTIVE but UNVERIFIED), verified by
// POST …/lifecycle/verify, which sends the channel a one-time GET carrying
// X-Okta-Verification-Challenge and expects {"verification": <value>} back.
// Only ACTIVE and VERIFIED hooks receive events: every System Log event of a
// subscribed type is POSTed, in batches, as
// {"eventType":"com.okta.event_hook", …, "data":{"events":[LogEvent…]}}.
// Each call has HookTimeout and at most one retry, after a time-out, a
// connection error or a 5xx; 2xx, 3xx (not followed) and 4xx are final.
// Delivery is asynchronous, as in Okta: the action that wrote the event does
// not wait for it (WaitEventHooks waits, for tests).
//
// Not emulated: event hook filters (accepted, not applied), the per-org hook
// limit, the daily event quota, event-type eligibility (any dotted type is
// accepted) and OAuth channels (Okta has none for event hooks).

// The event hook and app assignment routes.
const (
	RouteListEventHooks      Route = "GET /api/v1/eventHooks"
	RouteCreateEventHook     Route = "POST /api/v1/eventHooks"
	RouteGetEventHook        Route = "GET /api/v1/eventHooks/{id}"
	RouteReplaceEventHook    Route = "PUT /api/v1/eventHooks/{id}"
	RouteDeleteEventHook     Route = "DELETE /api/v1/eventHooks/{id}"
	RouteActivateEventHook   Route = "POST /api/v1/eventHooks/{id}/lifecycle/activate"
	RouteDeactivateEventHook Route = "POST /api/v1/eventHooks/{id}/lifecycle/deactivate"
	RouteVerifyEventHook     Route = "POST /api/v1/eventHooks/{id}/lifecycle/verify"
	RouteAssignAppUser       Route = "POST /api/v1/apps/{appId}/users"
)

// addEventHookRoutes adds the routes above to s.mux (called by routes).
func (s *Server) addEventHookRoutes() {
	for r, h := range map[Route]http.HandlerFunc{
		RouteListEventHooks:      s.listEventHooks,
		RouteCreateEventHook:     s.createEventHook,
		RouteGetEventHook:        s.onEventHook(s.getEventHook),
		RouteReplaceEventHook:    s.onEventHook(s.replaceEventHook),
		RouteDeleteEventHook:     s.onEventHook(s.deleteEventHook),
		RouteActivateEventHook:   s.onEventHook(s.eventHookStatus("ACTIVE")),
		RouteDeactivateEventHook: s.onEventHook(s.eventHookStatus("INACTIVE")),
		RouteVerifyEventHook:     s.verifyEventHook,
		RouteAssignAppUser:       s.assignUserToApp,
	} {
		s.handle(r, h)
	}
}

// maxEventsPerDelivery bounds a delivery's batch. Okta does not document a
// maximum; it "amalgamates" events that occur within a short time.
const maxEventsPerDelivery = 50

// eventHook is a registered event hook with an HTTP channel.
type eventHook struct {
	id, name, status, verification string
	description                    *string
	events                         []string
	filter                         json.RawMessage
	uri                            string
	headers                        []hookHeader
	authKey                        string
	authValue                      string // never rendered
	base                           string // org URL for the deliveries' source
	created, lastUpdated           time.Time
}

// eventHookState is the emulator's event hook state (Server.eventHooks),
// guarded by Server.mu.
type eventHookState struct {
	hooks      map[string]*eventHook
	pending    map[string][]LogEvent // by hook id, not yet delivered
	delivering bool                  // a delivery goroutine runs
	calls      []EventHookCall
}

// EventHookCall is one call to an event hook's channel: a verification GET
// or a delivery POST, with its attempts.
type EventHookCall struct {
	HookID       string
	Verification bool
	DeliveryID   string   // the delivery's eventId ("" for a verification)
	EventUUIDs   []string // the delivered events' uuids
	At           time.Time
	Attempts     []HookAttempt
	OK           bool // verified, or delivered (2xx)
}

type eventHookIn struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
	Events      *struct {
		Type   string          `json:"type"`
		Items  []string        `json:"items"`
		Filter json.RawMessage `json:"filter"`
	} `json:"events"`
	Channel *struct {
		Type    string `json:"type"`
		Version string `json:"version"`
		Config  *struct {
			URI        *string       `json:"uri"`
			Headers    *[]hookHeader `json:"headers"`
			AuthScheme *hookAuthIn   `json:"authScheme"`
		} `json:"config"`
	} `json:"channel"`
}

// render answers the hook as Okta does (OAS RetrieveAnEventHook): the
// authScheme's value is never echoed and its key comes back lower-cased.
func (h *eventHook) render(base string) map[string]any {
	cfg := map[string]any{"uri": h.uri, "method": "POST"}
	if h.headers != nil {
		cfg["headers"] = h.headers
	}
	if h.authKey != "" {
		cfg["authScheme"] = map[string]string{"type": "HEADER", "key": strings.ToLower(h.authKey)}
	}
	self := base + "/api/v1/eventHooks/" + h.id
	post := map[string]any{"allow": []string{"POST"}}
	// The schema declares self, verify and deactivate only, and Okta's
	// examples show all three whatever the status (RetrieveADeactivatedEventHook).
	links := map[string]any{"self": link{Href: self}, "verify": link{Href: self + "/lifecycle/verify", Hints: post},
		"deactivate": link{Href: self + "/lifecycle/deactivate", Hints: post}}
	var filter any
	if len(h.filter) > 0 && string(h.filter) != "null" {
		filter = h.filter
	}
	return map[string]any{
		"id": h.id, "status": h.status, "verificationStatus": h.verification, "name": h.name,
		"description": h.description, "created": fmtTime(h.created), "createdBy": adminActor.ID,
		"lastUpdated": fmtTime(h.lastUpdated),
		"events":      map[string]any{"type": "EVENT_TYPE", "items": h.events, "filter": filter},
		"channel":     map[string]any{"type": "HTTP", "version": "1.0.0", "config": cfg},
		"_links":      links,
	}
}

// applyEventHook merges a create or replace request into h and validates
// the result. It reports whether the channel changed (which makes Okta ask
// for a new verification). The caller holds s.mu.
func (s *Server) applyEventHook(h *eventHook, in *eventHookIn) (channelChanged bool, _ *apiError) {
	if in.Name != nil {
		h.name = *in.Name
	}
	if in.Description != nil {
		h.description = in.Description
	}
	if e := in.Events; e != nil {
		if e.Type != "EVENT_TYPE" {
			return false, validationFailed("eventHook", "events.type: Only EVENT_TYPE is supported")
		}
		h.events, h.filter = slices.Clone(e.Items), e.Filter
	}
	if c := in.Channel; c != nil {
		if c.Type != "" && c.Type != "HTTP" {
			return false, validationFailed("eventHook", "channel.type: Only HTTP is supported")
		}
		if c.Version != "" && c.Version != "1.0.0" {
			return false, validationFailed("eventHook", "channel.version: Only 1.0.0 is supported")
		}
		if cfg := c.Config; cfg != nil {
			before := fmt.Sprint(h.uri, h.headers, h.authKey, h.authValue)
			if cfg.URI != nil {
				h.uri = *cfg.URI
			}
			if cfg.Headers != nil {
				h.headers = slices.Clone(*cfg.Headers)
			}
			if a := cfg.AuthScheme; a != nil {
				if !strings.EqualFold(a.Type, "HEADER") || a.Key == "" || a.Value == "" {
					return false, validationFailed("eventHook", "channel.config.authScheme: type HEADER with a key and a value is required")
				}
				h.authKey, h.authValue = a.Key, a.Value
			}
			channelChanged = before != fmt.Sprint(h.uri, h.headers, h.authKey, h.authValue)
		}
	}
	switch {
	case len([]rune(h.name)) < 1 || len([]rune(h.name)) > 255:
		return false, validationFailed("eventHook", "name: The field must be between 1 and 255 characters")
	case len(h.events) == 0:
		return false, validationFailed("eventHook", "events.items: At least one event type is required")
	case h.uri == "":
		return false, validationFailed("eventHook", "channel.config.uri: The field cannot be left blank")
	case len(h.uri) > 1024 || strings.ContainsAny(h.uri, " \t\r\n"):
		return false, validationFailed("eventHook", "channel.config.uri: invalid URL provided")
	case !strings.HasPrefix(h.uri, "https://") && !(s.opts.AllowHTTPHookURI && strings.HasPrefix(h.uri, "http://")):
		return false, validationFailed("eventHook", "channel.config.uri: invalid URL provided; the URI must begin with https://")
	}
	for _, t := range h.events {
		if t == "" || strings.ContainsAny(t, " \t\r\n") || !strings.Contains(t, ".") {
			return false, validationFailed("eventHook", "events.items: invalid event type "+t)
		}
	}
	return channelChanged, nil
}

func (st *eventHookState) init() {
	if st.hooks == nil {
		st.hooks = map[string]*eventHook{}
		st.pending = map[string][]LogEvent{}
	}
}

func (s *Server) createEventHook(w http.ResponseWriter, r *http.Request) {
	var in eventHookIn
	if err := decodeBody(r, &in, true); err != nil {
		s.fail(w, err)
		return
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.eventHooks.init()
	h := &eventHook{id: oktaID("who"), status: "ACTIVE", verification: "UNVERIFIED", base: info(r).base,
		created: now, lastUpdated: now}
	if _, e := s.applyEventHook(h, &in); e != nil {
		s.fail(w, e)
		return
	}
	s.eventHooks.hooks[h.id] = h
	writeJSON(w, http.StatusOK, h.render(info(r).base))
}

func (s *Server) listEventHooks(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	hooks := make([]*eventHook, 0, len(s.eventHooks.hooks))
	for _, h := range s.eventHooks.hooks {
		hooks = append(hooks, h)
	}
	slices.SortFunc(hooks, func(a, b *eventHook) int { return a.created.Compare(b.created)*2 + strings.Compare(a.id, b.id) })
	out := make([]map[string]any, 0, len(hooks))
	for _, h := range hooks {
		out = append(out, h.render(info(r).base))
	}
	writeJSON(w, http.StatusOK, out)
}

// onEventHook runs op under the lock with the event hook the path names.
func (s *Server) onEventHook(op func(w http.ResponseWriter, r *http.Request, h *eventHook, now time.Time) error) http.HandlerFunc {
	return onObject(s, s.eventHookByPath, op)
}

// eventHookByPath returns the event hook the path names. Callers hold s.mu.
func (s *Server) eventHookByPath(r *http.Request) (*eventHook, *apiError) {
	h, ok := s.eventHooks.hooks[r.PathValue("id")]
	if !ok {
		return nil, notFound(r.PathValue("id"), "EventHook")
	}
	return h, nil
}

func (s *Server) getEventHook(w http.ResponseWriter, r *http.Request, h *eventHook, _ time.Time) error {
	writeJSON(w, http.StatusOK, h.render(info(r).base))
	return nil
}

func (s *Server) replaceEventHook(w http.ResponseWriter, r *http.Request, h *eventHook, now time.Time) error {
	var in eventHookIn
	if err := decodeBody(r, &in, true); err != nil {
		return err
	}
	next := *h
	next.name, next.description, next.events, next.filter = "", nil, nil, nil
	changed, e := s.applyEventHook(&next, &in)
	if e != nil {
		return e
	}
	if changed {
		next.verification = "UNVERIFIED" // "Updating the channel property requires you to verify the hook again"
	}
	next.lastUpdated = now
	*h = next
	return s.getEventHook(w, r, h, now)
}

func (s *Server) deleteEventHook(w http.ResponseWriter, _ *http.Request, h *eventHook, _ time.Time) error {
	if h.status != "INACTIVE" {
		return onlyInactiveDeleted("event hooks")
	}
	delete(s.eventHooks.hooks, h.id)
	delete(s.eventHooks.pending, h.id)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// eventHookStatus serves the lifecycle operations activate and deactivate:
// the hook gets status and is answered; an INACTIVE hook's undelivered
// events are dropped.
func (s *Server) eventHookStatus(status string) func(w http.ResponseWriter, r *http.Request, h *eventHook, now time.Time) error {
	return func(w http.ResponseWriter, r *http.Request, h *eventHook, now time.Time) error {
		h.status, h.lastUpdated = status, now
		if status == "INACTIVE" {
			delete(s.eventHooks.pending, h.id)
		}
		return s.getEventHook(w, r, h, now)
	}
}

// verifyEventHook serves POST …/lifecycle/verify: the one-time GET to the
// channel, outside the lock.
func (s *Server) verifyEventHook(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	h, ok := s.eventHooks.hooks[r.PathValue("id")]
	var snap eventHook
	if ok {
		snap = *h
	}
	s.mu.Unlock()
	if !ok {
		s.fail(w, notFound(r.PathValue("id"), "EventHook"))
		return
	}
	if err := s.verifyChannel(r.Context(), &snap); err != nil {
		s.fail(w, err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if h, ok = s.eventHooks.hooks[snap.id]; ok && h.uri == snap.uri && h.authValue == snap.authValue {
		h.verification, h.lastUpdated = "VERIFIED", s.now()
		snap = *h
	}
	writeJSON(w, http.StatusOK, snap.render(info(r).base))
}

// verifyChannel sends the verification GET (one retry after a time-out, a
// connection error or a 5xx) and checks the echoed challenge.
func (s *Server) verifyChannel(ctx context.Context, h *eventHook) error {
	challenge := randomID("", 40, idAlphabet+"-_")
	call := EventHookCall{HookID: h.id, Verification: true, At: s.now()}
	ok := false
	for attempt := 1; attempt <= 2; attempt++ {
		start := time.Now()
		status, body, err := s.eventHookAttempt(ctx, h, http.MethodGet, nil, challenge)
		a := HookAttempt{Status: status, Duration: time.Since(start)}
		if err != nil {
			a.Err = err.Error()
		}
		call.Attempts = append(call.Attempts, a)
		if err == nil && status == http.StatusOK {
			var v struct {
				Verification string `json:"verification"`
			}
			ok = json.Unmarshal(body, &v) == nil && v.Verification == challenge
			break
		}
		if !((err != nil && status == 0) || status >= 500) || ctx.Err() != nil {
			break
		}
	}
	call.OK = ok
	s.recordEventHookCall(call)
	if !ok {
		return validationFailed("eventHook", "Unable to verify event hook. Hook "+h.name+" execution failed")
	}
	return nil
}

func (s *Server) recordEventHookCall(c EventHookCall) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.eventHooks.calls = append(s.eventHooks.calls, c)
	if n := len(s.eventHooks.calls); n > s.opts.RequestLogLimit {
		s.eventHooks.calls = slices.Clone(s.eventHooks.calls[n-s.opts.RequestLogLimit:])
	}
}

// eventHookAttempt makes one call to the channel with Okta's headers.
func (s *Server) eventHookAttempt(ctx context.Context, h *eventHook, method string, body []byte, challenge string) (int, []byte, error) {
	header := http.Header{
		"User-Agent":        {"Okta-Integrations"},
		"X-Okta-Request-Id": {randomID("", 27, idAlphabet+"-_")},
	}
	if challenge != "" {
		header.Set("X-Okta-Verification-Challenge", challenge)
	}
	return s.channelAttempt(ctx, channelRequest{
		what: "event hook", method: method, uri: h.uri, body: body, header: header,
		custom: h.headers, authKey: h.authKey, authValue: h.authValue,
	})
}

// queueEventHooksLocked hands a new System Log event to every ACTIVE and
// VERIFIED event hook subscribed to its type, and starts the delivery
// goroutine if none runs. The caller holds s.mu.
func (s *Server) queueEventHooksLocked(ev LogEvent) {
	queued := false
	for _, h := range s.eventHooks.hooks {
		if h.status == "ACTIVE" && h.verification == "VERIFIED" && slices.Contains(h.events, ev.EventType) {
			s.eventHooks.pending[h.id] = append(s.eventHooks.pending[h.id], ev)
			queued = true
		}
	}
	if queued && !s.eventHooks.delivering {
		s.eventHooks.delivering = true
		go s.deliverEventHooks()
	}
}

// deliverEventHooks sends the pending events until none are left, then
// exits (so an idle emulator runs no goroutine).
func (s *Server) deliverEventHooks() {
	type batch struct {
		hook   eventHook
		events []LogEvent
	}
	for {
		s.mu.Lock()
		var todo []batch
		for id, evs := range s.eventHooks.pending {
			if h, ok := s.eventHooks.hooks[id]; ok && len(evs) > 0 {
				todo = append(todo, batch{hook: *h, events: evs})
			}
		}
		clear(s.eventHooks.pending)
		if len(todo) == 0 {
			s.eventHooks.delivering = false
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		for _, b := range todo {
			for chunk := range slices.Chunk(b.events, maxEventsPerDelivery) {
				s.deliverEvents(&b.hook, chunk)
			}
		}
	}
}

// deliverEvents POSTs one batch (one retry after a time-out, a connection
// error or a 5xx).
func (s *Server) deliverEvents(h *eventHook, events []LogEvent) {
	now := s.now()
	base := h.base
	if base == "" {
		base = "https://fakeokta.invalid"
	}
	id := newUUID()
	body, err := json.Marshal(map[string]any{
		"eventType": "com.okta.event_hook", "eventTypeVersion": "1.0", "cloudEventsVersion": "0.1",
		"source": base + "/api/v1/eventHooks/" + h.id, "eventId": id, "eventTime": fmtTime(now),
		"contentType": "application/json", "data": map[string]any{"events": events},
	})
	if err != nil {
		s.log.Error("fakeokta: encode event hook delivery", "err", err)
		return
	}
	call := EventHookCall{HookID: h.id, DeliveryID: id, At: now}
	for _, ev := range events {
		call.EventUUIDs = append(call.EventUUIDs, ev.UUID)
	}
	for attempt := 1; attempt <= 2; attempt++ {
		start := time.Now()
		status, _, err := s.eventHookAttempt(context.Background(), h, http.MethodPost, body, "")
		a := HookAttempt{Status: status, Duration: time.Since(start)}
		if err != nil {
			a.Err = err.Error()
		}
		call.Attempts = append(call.Attempts, a)
		call.OK = err == nil && status >= 200 && status < 300
		if !((err != nil && status == 0) || status >= 500) {
			break
		}
	}
	s.log.Debug("fakeokta event hook delivery", "hook", h.id, "delivery", id, "events", len(events), "ok", call.OK,
		"attempts", len(call.Attempts))
	s.recordEventHookCall(call)
}

// RegisterEventHook creates an event hook for the given event types calling
// uri with headerName: headerValue, and verifies it (the one-time GET), as
// an admin would with the API. It returns the hook's id.
func (s *Server) RegisterEventHook(ctx context.Context, uri, headerName, headerValue string, eventTypes ...string) (string, error) {
	now := s.now()
	in := &eventHookIn{}
	name := "entra2okta events"
	in.Name = &name
	in.Events = &struct {
		Type   string          `json:"type"`
		Items  []string        `json:"items"`
		Filter json.RawMessage `json:"filter"`
	}{Type: "EVENT_TYPE", Items: eventTypes}
	s.mu.Lock()
	s.eventHooks.init()
	h := &eventHook{id: oktaID("who"), status: "ACTIVE", verification: "UNVERIFIED", name: name, created: now, lastUpdated: now,
		uri: uri, authKey: headerName, authValue: headerValue}
	if _, e := s.applyEventHook(h, in); e != nil {
		s.mu.Unlock()
		return "", e
	}
	s.eventHooks.hooks[h.id] = h
	snap := *h
	s.mu.Unlock()
	if err := s.verifyChannel(ctx, &snap); err != nil {
		return h.id, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if h, ok := s.eventHooks.hooks[snap.id]; ok {
		h.verification = "VERIFIED"
	}
	return snap.id, nil
}

// EventHookCalls returns the calls made to event hooks (verifications and
// deliveries), oldest first.
func (s *Server) EventHookCalls() []EventHookCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.eventHooks.calls)
}

// WaitEventHooks waits until every event written so far was delivered (or
// its delivery failed), or ctx ends.
func (s *Server) WaitEventHooks(ctx context.Context) error {
	for {
		s.mu.Lock()
		idle := !s.eventHooks.delivering
		s.mu.Unlock()
		if idle {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}
