package fakeokta

import (
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Event types the emulator writes.
const (
	// EventPasswordImport is written each time the password import hook is
	// fired: outcome SUCCESS when the password was stored, else FAILURE
	// (OAS createPasswordImportInlineHook, "Password removal from an existing
	// user store").
	EventPasswordImport = "user.import.password"
	// EventInlineHookExecuted is written when a hook call fails (no answer,
	// time-out, non-2xx, redirect) (https://developer.okta.com/docs/concepts/inline-hooks/).
	EventInlineHookExecuted = "inline_hook.executed"
	// EventSessionStart is written for each sign-in attempt.
	EventSessionStart = "user.session.start"
)

// LogEvent is a System Log event in Okta's LogEvent shape (OAS LogEvent).
// Members Okta's examples show as null (legacyEventType, detailEntry,
// client.id, outcome.reason, ...) are omitted when empty: the schema does not
// declare them nullable.
type LogEvent struct {
	UUID                  string          `json:"uuid"`
	Published             string          `json:"published"`
	EventType             string          `json:"eventType"`
	Version               string          `json:"version"`
	Severity              string          `json:"severity"`
	LegacyEventType       *string         `json:"legacyEventType,omitempty"`
	DisplayMessage        string          `json:"displayMessage"`
	Actor                 LogActor        `json:"actor"`
	Client                LogClient       `json:"client"`
	AuthenticationContext map[string]any  `json:"authenticationContext"`
	Outcome               LogOutcome      `json:"outcome"`
	SecurityContext       map[string]any  `json:"securityContext"`
	DebugContext          LogDebugContext `json:"debugContext"`
	Transaction           LogTransaction  `json:"transaction"`
	Request               LogRequest      `json:"request"`
	Target                []LogTarget     `json:"target"`
	seq                   int64           // order of recording, the paging cursor
	at                    time.Time       // Published as a time
}

// LogActor is the entity that performed the action.
type LogActor struct {
	ID          string         `json:"id"`
	Type        string         `json:"type"`
	AlternateID string         `json:"alternateId"`
	DisplayName string         `json:"displayName"`
	DetailEntry map[string]any `json:"detailEntry,omitempty"`
}

// LogTarget is an entity the action was performed on.
type LogTarget = LogActor

// LogClient describes the HTTP client that caused the event.
type LogClient struct {
	UserAgent           map[string]any `json:"userAgent"`
	Zone                string         `json:"zone"`
	Device              string         `json:"device"`
	ID                  *string        `json:"id,omitempty"`
	IPAddress           string         `json:"ipAddress"`
	GeographicalContext map[string]any `json:"geographicalContext,omitempty"`
}

// LogOutcome is the result of the action.
type LogOutcome struct {
	Result string  `json:"result"`
	Reason *string `json:"reason,omitempty"`
}

// LogDebugContext carries event-specific details.
type LogDebugContext struct {
	DebugData map[string]any `json:"debugData"`
}

// LogTransaction ties the event to the request that caused it.
type LogTransaction struct {
	Type   string         `json:"type"`
	ID     string         `json:"id"`
	Detail map[string]any `json:"detail"`
}

// LogRequest lists the IP chain of the request.
type LogRequest struct {
	IPChain []map[string]any `json:"ipChain"`
}

// adminActor is the actor of management API calls: the owner of the token.
var adminActor = LogActor{ID: "00ufakeoktaadmin0001", Type: "User", AlternateID: "admin@fakeokta.example",
	DisplayName: "Fake Okta Admin"}

func userEntity(u *user) LogActor {
	first, _ := u.profile["firstName"].(string)
	last, _ := u.profile["lastName"].(string)
	return LogActor{ID: u.id, Type: "User", AlternateID: u.login(), DisplayName: strings.TrimSpace(first + " " + last)}
}

// clientIP is the sign-in client's address: the first X-Forwarded-For entry,
// else the connection's remote address.
func clientIP(r *http.Request) string {
	if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
		first, _, _ := strings.Cut(xff, ",")
		if ip := strings.TrimSpace(first); ip != "" {
			return ip
		}
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// addEventLocked records an event about user u caused by request r. The
// actor is the user on sign-in, the API token's admin otherwise. The caller
// holds s.mu.
func (s *Server) addEventLocked(r *http.Request, eventType, message, result, reason string, u *user) {
	actor := adminActor
	if signIn(info(r).route) {
		actor = userEntity(u)
	}
	s.appendEventLocked(r, eventType, message, result, reason, actor, []LogTarget{userEntity(u)}, nil)
}

func (s *Server) appendEventLocked(r *http.Request, eventType, message, result, reason string, actor LogActor,
	targets []LogTarget, debug map[string]any) {
	now := s.now()
	ri := info(r)
	ip := clientIP(r)
	severity := "INFO"
	if result == "FAILURE" {
		severity = "WARN"
	}
	dd := map[string]any{"requestId": ri.id, "requestUri": r.URL.Path, "url": r.URL.RequestURI()}
	for k, v := range debug {
		dd[k] = v
	}
	ver := "V4"
	if strings.Contains(ip, ":") {
		ver = "V6"
	}
	s.eventSeq++
	ev := LogEvent{
		UUID:           newUUID(),
		Published:      fmtTime(now),
		EventType:      eventType,
		Version:        "0",
		Severity:       severity,
		DisplayMessage: message,
		Actor:          actor,
		Client: LogClient{
			UserAgent: map[string]any{"rawUserAgent": r.UserAgent(), "os": "Unknown", "browser": "UNKNOWN"},
			Zone:      "null", Device: "Unknown", IPAddress: ip,
		},
		AuthenticationContext: map[string]any{"authenticationStep": 0, "externalSessionId": "trs" + ri.id},
		Outcome:               LogOutcome{Result: result},
		SecurityContext:       map[string]any{},
		DebugContext:          LogDebugContext{DebugData: dd},
		Transaction:           LogTransaction{Type: "WEB", ID: ri.id, Detail: map[string]any{}},
		Request:               LogRequest{IPChain: []map[string]any{{"ip": ip, "version": ver}}},
		Target:                targets,
		seq:                   s.eventSeq,
		at:                    now,
	}
	if reason != "" {
		ev.Outcome.Reason = &reason
	}
	s.events = append(s.events, ev)
	s.queueEventHooksLocked(ev) // eventhooks.go
}

// eventAttr returns an event attribute for filter expressions.
func (e *LogEvent) attr(name string) ([]string, bool) {
	one := func(v string) ([]string, bool) { return []string{v}, v != "" }
	switch name {
	case "uuid":
		return one(e.UUID)
	case "eventType":
		return one(e.EventType)
	case "severity":
		return one(e.Severity)
	case "displayMessage":
		return one(e.DisplayMessage)
	case "published":
		return one(e.Published)
	case "outcome.result":
		return one(e.Outcome.Result)
	case "outcome.reason":
		if e.Outcome.Reason == nil {
			return nil, false
		}
		return one(*e.Outcome.Reason)
	case "actor.id":
		return one(e.Actor.ID)
	case "actor.type":
		return one(e.Actor.Type)
	case "actor.alternateId":
		return one(e.Actor.AlternateID)
	case "client.ipAddress":
		return one(e.Client.IPAddress)
	case "transaction.id":
		return one(e.Transaction.ID)
	}
	if field, ok := strings.CutPrefix(name, "target."); ok {
		var out []string
		for _, t := range e.Target {
			switch field {
			case "id":
				out = append(out, t.ID)
			case "type":
				out = append(out, t.Type)
			case "alternateId":
				out = append(out, t.AlternateID)
			case "displayName":
				out = append(out, t.DisplayName)
			}
		}
		return out, len(out) > 0
	}
	return nil, false
}

// listLogs serves GET /api/v1/logs: filter, q, since, until, limit (default
// 100, at most 1000), sortOrder and the after cursor. A query without until
// is a polling query: like Okta it always answers a next link, so clients
// must stop on an empty (or short) page.
func (s *Server) listLogs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	now := s.now()
	until := now
	bounded := q.Get("until") != ""
	if bounded {
		t, err := time.Parse(time.RFC3339Nano, q.Get("until"))
		if err != nil {
			s.fail(w, validationFailed("until", "until: must be an ISO 8601 timestamp"))
			return
		}
		until = t
	}
	since := until.Add(-7 * 24 * time.Hour)
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			s.fail(w, validationFailed("since", "since: must be an ISO 8601 timestamp"))
			return
		}
		since = t
	}
	limit := 100
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			s.fail(w, validationFailed("limit", "limit: must be an integer between 0 and 1000"))
			return
		}
		limit = min(n, 1000)
	}
	desc := false
	switch strings.ToUpper(q.Get("sortOrder")) {
	case "", "ASCENDING":
	case "DESCENDING":
		desc = true
	default:
		s.fail(w, validationFailed("sortOrder", "sortOrder: must be ASCENDING or DESCENDING"))
		return
	}
	var filter node
	if f := q.Get("filter"); f != "" {
		n, err := parseExpr(f, nil)
		if err != nil {
			s.fail(w, invalidSearch())
			return
		}
		filter = n
	}
	keywords := strings.Fields(strings.ToLower(q.Get("q")))
	var after int64 = -1
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			s.fail(w, validationFailed("after", "after: invalid cursor"))
			return
		}
		after = n
	}

	s.mu.Lock()
	var page []LogEvent
	more := false
	n := len(s.events)
	for i := range n {
		e := &s.events[i]
		if desc {
			e = &s.events[n-1-i]
		}
		if after >= 0 && ((!desc && e.seq <= after) || (desc && e.seq >= after)) {
			continue
		}
		if e.at.Before(since) || !e.at.Before(until.Add(time.Millisecond)) || now.Sub(e.at) < s.opts.LogDelay {
			continue
		}
		if filter != nil && !filter.eval(e.attr) {
			continue
		}
		if !matchKeywords(e, keywords) {
			continue
		}
		if len(page) == limit {
			more = true
			break
		}
		page = append(page, *e)
	}
	s.mu.Unlock()

	base := info(r).base
	w.Header().Add("Link", "<"+base+r.URL.RequestURI()+`>; rel="self"`)
	if more || !bounded {
		next := url.Values{}
		for k, v := range q {
			next[k] = v
		}
		if len(page) > 0 {
			next.Set("after", strconv.FormatInt(page[len(page)-1].seq, 10))
		}
		w.Header().Add("Link", "<"+base+"/api/v1/logs?"+next.Encode()+`>; rel="next"`)
	}
	if page == nil {
		page = []LogEvent{}
	}
	writeJSON(w, http.StatusOK, page)
}

func matchKeywords(e *LogEvent, kws []string) bool {
	if len(kws) == 0 {
		return true
	}
	hay := strings.ToLower(e.EventType + " " + e.DisplayMessage + " " + e.Actor.AlternateID + " " + e.Actor.DisplayName)
	for _, t := range e.Target {
		hay += " " + strings.ToLower(t.AlternateID+" "+t.DisplayName+" "+t.ID)
	}
	for _, k := range kws {
		if !strings.Contains(hay, k) {
			return false
		}
	}
	return true
}
