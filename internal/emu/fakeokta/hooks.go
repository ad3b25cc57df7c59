package fakeokta

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// HookTypePasswordImport is the inline hook type of the password import hook.
const HookTypePasswordImport = "com.okta.user.credential.password.import"

var hookTypes = []string{
	"com.okta.import.transform", "com.okta.oauth2.tokens.transform", "com.okta.saml.tokens.transform",
	"com.okta.telephony.provider", HookTypePasswordImport, "com.okta.user.pre-registration",
}

// maxHookResponse is the largest hook answer Okta accepts (less than 256 KB).
const maxHookResponse = 256 << 10

type hookHeader struct {
	Key   string `json:"key"`
	Value string `json:"value,omitempty"`
}

// inlineHook is a registered inline hook with an HTTP channel.
type inlineHook struct {
	id, name, typ, status string
	uri, method           string
	headers               []hookHeader
	authType, authKey     string
	authValue             string // never rendered
	created, lastUpdated  time.Time
}

type hookAuthIn struct {
	Type  string `json:"type"`
	Key   string `json:"key"`
	Value string `json:"value"`
}

type hookIn struct {
	Name    *string `json:"name"`
	Type    *string `json:"type"`
	Version string  `json:"version"`
	Channel *struct {
		Type    string `json:"type"`
		Version string `json:"version"`
		Config  *struct {
			URI        *string       `json:"uri"`
			Method     string        `json:"method"`
			Headers    *[]hookHeader `json:"headers"`
			AuthScheme *hookAuthIn   `json:"authScheme"`
		} `json:"config"`
	} `json:"channel"`
}

type hookOut struct {
	ID          string         `json:"id"`
	Status      string         `json:"status"`
	Name        string         `json:"name"`
	Type        string         `json:"type"`
	Version     string         `json:"version"`
	Channel     any            `json:"channel"`
	Created     string         `json:"created"`
	LastUpdated string         `json:"lastUpdated"`
	Links       map[string]any `json:"_links"`
}

// render answers the hook as Okta does: the authScheme's value and the
// custom headers' values are never echoed; like the OAS examples, the scheme
// type and header name come back in lower case.
func (h *inlineHook) render(base string) hookOut {
	headers := make([]hookHeader, 0, len(h.headers))
	for _, hh := range h.headers {
		headers = append(headers, hookHeader{Key: hh.Key})
	}
	cfg := map[string]any{"uri": h.uri, "headers": headers, "method": h.method}
	if h.authType != "" {
		cfg["authScheme"] = map[string]string{"type": strings.ToLower(h.authType), "key": strings.ToLower(h.authKey)}
	}
	self := base + "/api/v1/inlineHooks/" + h.id
	post := map[string]any{"allow": []string{"POST"}}
	links := map[string]any{"self": link{Href: self}}
	if h.status == "ACTIVE" {
		links["deactivate"] = link{Href: self + "/lifecycle/deactivate", Hints: post}
	} else {
		links["activate"] = link{Href: self + "/lifecycle/activate", Hints: post}
		links["delete"] = link{Href: self, Hints: map[string]any{"allow": []string{"DELETE"}}}
	}
	links["execute"] = link{Href: self + "/execute", Hints: post}
	return hookOut{
		ID: h.id, Status: h.status, Name: h.name, Type: h.typ, Version: "1.0.0",
		Channel:     map[string]any{"type": "HTTP", "version": "1.0.0", "config": cfg},
		Created:     fmtTime(h.created),
		LastUpdated: fmtTime(h.lastUpdated),
		Links:       links,
	}
}

// apply merges a create/update/replace request into h and validates the
// result. The caller holds s.mu.
func (s *Server) applyHook(h *inlineHook, in *hookIn) *apiError {
	if in.Name != nil {
		h.name = *in.Name
	}
	if in.Type != nil {
		if h.typ != "" && *in.Type != h.typ {
			return validationFailed("type", "type: The inline hook type cannot be changed")
		}
		h.typ = *in.Type
	}
	if c := in.Channel; c != nil {
		if c.Type != "" && c.Type != "HTTP" {
			return validationFailed("channel", "channel.type: only HTTP channels are emulated by fakeokta")
		}
		if cfg := c.Config; cfg != nil {
			if cfg.URI != nil {
				h.uri = *cfg.URI
			}
			if cfg.Method != "" {
				h.method = cfg.Method
			}
			if cfg.Headers != nil {
				h.headers = slices.Clone(*cfg.Headers)
			}
			if a := cfg.AuthScheme; a != nil {
				h.authType, h.authKey, h.authValue = a.Type, a.Key, a.Value
			}
		}
	}
	switch {
	case len([]rune(h.name)) < 1 || len([]rune(h.name)) > 255:
		return validationFailed("name", "name: The field must be between 1 and 255 characters")
	case !slices.Contains(hookTypes, h.typ):
		return validationFailed("type", "type: Invalid inline hook type")
	case h.uri == "":
		return validationFailed("channel", "channel.config.uri: The field cannot be left blank")
	case len(h.uri) > 1024 || strings.ContainsAny(h.uri, " \t\r\n"):
		return validationFailed("channel", "channel.config.uri: invalid URL provided")
	case !strings.HasPrefix(h.uri, "https://") && !(s.opts.AllowHTTPHookURI && strings.HasPrefix(h.uri, "http://")):
		return validationFailed("channel", "channel.config.uri: invalid URL provided; the URI must begin with https://")
	case h.method != "POST":
		return validationFailed("channel", "channel.config.method: Only POST is supported")
	case h.authType != "" && !strings.EqualFold(h.authType, "HEADER"):
		return validationFailed("channel", "channel.config.authScheme.type: Only HEADER is supported")
	case h.authType != "" && (h.authKey == "" || h.authValue == ""):
		return validationFailed("channel", "channel.config.authScheme: key and value are required")
	}
	return nil
}

func (s *Server) hookByPath(r *http.Request) (*inlineHook, *apiError) {
	id := r.PathValue("id")
	if h, ok := s.hooks[id]; ok {
		return h, nil
	}
	return nil, notFound(id, "InlineHook")
}

// onePasswordHook rejects a second password import hook (one per org).
func (s *Server) onePasswordHook(h *inlineHook) *apiError {
	if h.typ != HookTypePasswordImport {
		return nil
	}
	for _, o := range s.hooks {
		if o.id != h.id && o.typ == HookTypePasswordImport {
			return validationFailed("type", "type: You can create only one password import inline hook per org")
		}
	}
	return nil
}

func (s *Server) createInlineHook(w http.ResponseWriter, r *http.Request) {
	var in hookIn
	if err := decodeBody(r, &in, true); err != nil {
		s.fail(w, err)
		return
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	h := &inlineHook{id: oktaID("cal"), status: "ACTIVE", method: "POST", created: now, lastUpdated: now}
	if e := s.applyHook(h, &in); e != nil {
		s.fail(w, e)
		return
	}
	if e := s.onePasswordHook(h); e != nil {
		s.fail(w, e)
		return
	}
	s.hooks[h.id] = h
	writeJSON(w, http.StatusOK, h.render(info(r).base))
}

func (s *Server) listInlineHooks(w http.ResponseWriter, r *http.Request) {
	typ := r.URL.Query().Get("type")
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []hookOut{}
	for _, h := range s.hooks {
		if typ == "" || h.typ == typ {
			out = append(out, h.render(info(r).base))
		}
	}
	slices.SortFunc(out, func(a, b hookOut) int { return strings.Compare(a.Created+a.ID, b.Created+b.ID) })
	writeJSON(w, http.StatusOK, out)
}

// hookOp handles a request on /api/v1/inlineHooks/{id}[/...] under the
// lock with the hook the path names, as userOp does for users.
type hookOp func(w http.ResponseWriter, r *http.Request, h *inlineHook, now time.Time) error

func (s *Server) onHook(op hookOp) http.HandlerFunc { return onObject(s, s.hookByPath, op) }

func (s *Server) getInlineHook(w http.ResponseWriter, r *http.Request, h *inlineHook, _ time.Time) error {
	writeJSON(w, http.StatusOK, h.render(info(r).base))
	return nil
}

// writeHook serves the partial update (POST) of an inline hook or, with
// replace, its replacement (PUT).
func (s *Server) writeHook(replace bool) hookOp {
	return func(w http.ResponseWriter, r *http.Request, h *inlineHook, now time.Time) error {
		return s.writeHookAs(w, r, h, now, replace)
	}
}

func (s *Server) writeHookAs(w http.ResponseWriter, r *http.Request, h *inlineHook, now time.Time, replace bool) error {
	var in hookIn
	if err := decodeBody(r, &in, true); err != nil {
		return err
	}
	next := *h
	if replace {
		next.name, next.uri, next.headers, next.authType, next.authKey, next.authValue = "", "", nil, "", "", ""
		next.method = "POST"
	}
	if e := s.applyHook(&next, &in); e != nil {
		return e
	}
	next.lastUpdated = now
	*h = next
	writeJSON(w, http.StatusOK, h.render(info(r).base))
	return nil
}

func (s *Server) deleteInlineHook(w http.ResponseWriter, r *http.Request, h *inlineHook, _ time.Time) error {
	if h.status != "INACTIVE" {
		return onlyInactiveDeleted("inline hooks")
	}
	delete(s.hooks, h.id)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// inlineHookStatus serves the lifecycle operations: the hook gets status
// ("ACTIVE" or "INACTIVE") and is answered.
func (s *Server) inlineHookStatus(status string) hookOp {
	return func(w http.ResponseWriter, r *http.Request, h *inlineHook, now time.Time) error {
		h.status, h.lastUpdated = status, now
		return s.getInlineHook(w, r, h, now)
	}
}

// onlyInactiveDeleted is Okta's answer to deleting a hook that is not
// INACTIVE; what names the kind of hook.
func onlyInactiveDeleted(what string) *apiError {
	return &apiError{status: http.StatusForbidden, code: "E0000038",
		summary: "This operation is not allowed in the current status.",
		causes:  []string{"Only " + what + " with a status of INACTIVE can be deleted"}}
}

// SetPasswordImportHook registers (or replaces) the org's password import
// inline hook, ACTIVE, calling uri with headerName: headerValue. It returns
// the hook's id.
func (s *Server) SetPasswordImportHook(uri, headerName, headerValue string) (string, error) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.passwordHookLocked(false)
	if h == nil {
		h = &inlineHook{id: oktaID("cal"), created: now, typ: HookTypePasswordImport}
	}
	next := *h
	next.name, next.status, next.method = "Password import", "ACTIVE", "POST"
	next.uri, next.headers, next.lastUpdated = uri, nil, now
	next.authType, next.authKey, next.authValue = "", "", ""
	if headerName != "" {
		next.authType, next.authKey, next.authValue = "HEADER", headerName, headerValue
	}
	if e := s.applyHook(&next, &hookIn{}); e != nil {
		return "", e
	}
	*h = next
	s.hooks[h.id] = h
	return h.id, nil
}

// passwordHookLocked returns the password import hook (only an ACTIVE one
// when active is set). The caller holds s.mu.
func (s *Server) passwordHookLocked(active bool) *inlineHook {
	for _, h := range s.hooks {
		if h.typ == HookTypePasswordImport && (!active || h.status == "ACTIVE") {
			return h
		}
	}
	return nil
}

// --- calling a hook ------------------------------------------------------------

func newHookClient(pool *x509.CertPool) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil // Okta calls the hook directly
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	tr.MaxIdleConnsPerHost = 64
	return &http.Client{
		Transport: tr,
		// Okta never follows a hook's redirect (https://developer.okta.com/docs/concepts/inline-hooks/).
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// HookAttempt is one HTTP attempt of a hook call.
type HookAttempt struct {
	Status   int    // 0 when no response was received
	Err      string // transport error or time-out, "" when a response came
	Duration time.Duration
}

// hookResult is the outcome of a hook call, after the retry.
type hookResult struct {
	status   int
	body     []byte
	err      error // set when no usable HTTP answer was received
	attempts []HookAttempt
}

// callHook POSTs body to the hook: per-attempt time-out, exactly one retry
// on a time-out, a connection error or a 5xx, none on 2xx/3xx/4xx, redirects
// not followed, answers capped at 256 KB (https://developer.okta.com/docs/concepts/inline-hooks/).
func (s *Server) callHook(ctx context.Context, h *inlineHook, body []byte) hookResult {
	var res hookResult
	for attempt := 1; attempt <= 2; attempt++ {
		start := time.Now()
		status, respBody, err := s.hookAttempt(ctx, h, body)
		a := HookAttempt{Status: status, Duration: time.Since(start)}
		if err != nil {
			a.Err = err.Error()
		}
		res.attempts = append(res.attempts, a)
		res.status, res.body, res.err = status, respBody, err
		retry := (err != nil && status == 0) || status >= 500
		if !retry || ctx.Err() != nil {
			break
		}
	}
	if res.err == nil {
		switch {
		case res.status >= 300 && res.status < 400:
			res.err = fmt.Errorf("hook answered a redirect (%d), not followed", res.status)
		case res.status < 200 || res.status >= 300:
			res.err = fmt.Errorf("hook answered HTTP %d", res.status)
		}
	}
	return res
}

// hookAttempt makes one POST of body to the inline hook's channel.
func (s *Server) hookAttempt(ctx context.Context, h *inlineHook, body []byte) (int, []byte, error) {
	return s.channelAttempt(ctx, channelRequest{
		what: "hook", method: http.MethodPost, uri: h.uri, body: body,
		header:  http.Header{"User-Agent": {"Okta Inline Hook (fakeokta)"}},
		custom:  h.headers,
		authKey: h.authKey, authValue: h.authValue,
		refuseLarge: true,
	})
}

// channelRequest is one call to a hook's HTTP channel (inline or event hook).
type channelRequest struct {
	what        string // "hook" or "event hook", in errors
	method, uri string
	body        []byte      // nil: no body
	header      http.Header // the hook type's own headers
	custom      []hookHeader
	authKey     string
	authValue   string
	// refuseLarge makes an answer over maxHookResponse an error (inline
	// hooks); otherwise the answer is cut there.
	refuseLarge bool
}

// channelAttempt makes one call with the per-attempt time-out: Accept and,
// with a body, Content-Type JSON, then c.header, the channel's custom headers
// and its authScheme header.
func (s *Server) channelAttempt(ctx context.Context, c channelRequest) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.HookTimeout)
	defer cancel()
	var rd io.Reader
	if c.body != nil {
		rd = bytes.NewReader(c.body)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, c.uri, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Accept", "application/json")
	if c.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	for _, hh := range c.custom {
		req.Header.Set(hh.Key, hh.Value)
	}
	if c.authKey != "" {
		req.Header.Set(c.authKey, c.authValue)
	}
	failed := func(err error) error {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("%s timed out after %s", c.what, s.opts.HookTimeout)
		}
		return fmt.Errorf("%s connection failed: %w", c.what, err)
	}
	resp, err := s.hookHTTP.Do(req)
	if err != nil {
		return 0, nil, failed(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxHookResponse+1))
	if err != nil {
		return 0, nil, failed(err)
	}
	if len(raw) > maxHookResponse {
		if c.refuseLarge {
			return resp.StatusCode, nil, errors.New(c.what + " response is larger than 256 KB")
		}
		raw = raw[:maxHookResponse]
	}
	return resp.StatusCode, raw, nil
}
