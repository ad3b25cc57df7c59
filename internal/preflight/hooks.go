package preflight

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// HookTypePasswordImport is the inline hook type of Okta's password import
// hook (InlineHookType in Okta's management API:
// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/InlineHook/).
const HookTypePasswordImport = "com.okta.user.credential.password.import"

// The event types the hook server's event hook acts on: an assignment to the
// Office 365 app, and each run of the password import hook.
const (
	EventAppMembershipAdd = "application.user_membership.add"
	EventPasswordImport   = "user.import.password"
)

// InlineHooks lists and executes inline hooks.
type InlineHooks interface {
	// InlineHooks lists the org's inline hooks of one type
	// (GET /api/v1/inlineHooks?type=...).
	InlineHooks(ctx context.Context, hookType string) ([]InlineHook, error)
	// ExecuteInlineHook makes Okta call the hook with payload
	// (POST /api/v1/inlineHooks/{id}/execute). An answer of Okta's, even an
	// error, is a HookExecution; only a failure to get one is an error.
	ExecuteInlineHook(ctx context.Context, id string, payload []byte) (HookExecution, error)
}

// InlineHook is an inline hook as Okta lists it.
type InlineHook struct {
	ID, Name, Type, Status string
	URI                    string // the channel's URI
}

// HookExecution is Okta's answer to an execute request: on success (200)
// the hook's own answer, a PasswordImportResponse ({} when the hook sent
// none); when the hook could not be called or did not
// answer 2xx, Okta's 400 with what failed in Causes
// (https://developer.okta.com/docs/api/openapi/okta-management/management/tag/InlineHook/#tag/InlineHook/operation/executeInlineHook).
type HookExecution struct {
	Status  int
	Body    []byte
	Code    string   // Okta's errorCode on an error answer
	Summary string   // Okta's errorSummary
	Causes  []string // the errorCauses' summaries
	Elapsed time.Duration
}

// EventHooks lists event hooks.
type EventHooks interface {
	// EventHooks lists the org's event hooks (GET /api/v1/eventHooks).
	EventHooks(ctx context.Context) ([]EventHook, error)
}

// EventHook is an event hook as Okta lists it.
type EventHook struct {
	ID, Name, Status   string
	VerificationStatus string
	URI                string
	Events             []string // the event types it is subscribed to
}

// Check names of the hook groups.
const (
	NameInlineHook  = "okta: password import hook"
	NameHookExecute = "okta: hook reachable"
	NameEventHook   = "okta: event hook"
)

func checkInlineHook(ctx context.Context, c *Config) []Check {
	if c.OktaConfigError != "" || c.InlineHooks == nil {
		return []Check{skip(NameInlineHook, "no Okta client"), skip(NameHookExecute, "no Okta client")}
	}
	hooks, err := c.InlineHooks.InlineHooks(ctx, HookTypePasswordImport)
	if err != nil {
		return []Check{
			failed(NameInlineHook, "GET /api/v1/inlineHooks: "+errText(err),
				"give these credentials read access to inline hooks (scope okta.inlineHooks.read)"),
			skip(NameHookExecute, "the hook could not be read"),
		}
	}
	var h *InlineHook
	for i := range hooks {
		if hooks[i].Type == HookTypePasswordImport {
			h = &hooks[i]
			break
		}
	}
	if h == nil {
		return []Check{
			failed(NameInlineHook, "the org has no password import inline hook ("+HookTypePasswordImport+")",
				"register the hook server's https://<host>/okta/password-import as the org's password import inline hook (docs/going-live.md)"),
			skip(NameHookExecute, "no hook"),
		}
	}
	desc := fmt.Sprintf("%q (%s) calls %s", h.Name, h.ID, h.URI)
	if h.Status != "ACTIVE" {
		return []Check{
			failed(NameInlineHook, desc+" but is "+h.Status+": Okta does not call it, and users on it cannot sign in",
				fmt.Sprintf("activate it: Admin Console > Workflow > Inline Hooks, or POST /api/v1/inlineHooks/%s/lifecycle/activate", h.ID)),
			skip(NameHookExecute, "the hook is not ACTIVE"),
		}
	}
	return []Check{ok(NameInlineHook, desc+", ACTIVE"), c.executeCheck(ctx, h)}
}

// SampleUsername is the username of the sample payload preflight has Okta
// send to the hook: under the reserved .invalid top-level domain (RFC 2606),
// so no Entra account and no migration can have it.
const SampleUsername = "entra2okta-preflight@preflight.invalid"

// samplePayload is the password import request preflight has Okta send,
// shaped as Okta's own (PasswordImportPayloadExample in the InlineHook API
// description), with a random password and a documentation address
// (RFC 5737) as the client's IP.
func samplePayload(orgURL, hookID string, now time.Time) ([]byte, error) {
	rnd := make([]byte, 12)
	if _, err := rand.Read(rnd); err != nil {
		return nil, err
	}
	id := hex.EncodeToString(rnd)
	p := map[string]any{
		"eventId":           "preflight-" + id[:12],
		"eventTime":         now.UTC().Format("2006-01-02T15:04:05.000Z"),
		"eventType":         HookTypePasswordImport,
		"eventTypeVersion":  "1.0",
		"contentType":       "application/json",
		"cloudEventVersion": "0.1",
		"source":            strings.TrimRight(orgURL, "/") + "/api/v1/inlineHooks/" + hookID,
		"data": map[string]any{
			"context": map[string]any{
				"request": map[string]any{
					"id": "preflight" + id, "method": "POST",
					"url":       map[string]any{"value": "/api/v1/authn"},
					"ipAddress": "192.0.2.1",
				},
				"credential": map[string]any{"username": SampleUsername, "password": "Preflight-" + id},
			},
			"action": map[string]any{"credential": "UNVERIFIED"},
		},
	}
	return json.Marshal(p)
}

// executeCheck has Okta call the hook with the sample payload and judges
// the answer:
//
//   - ok: 200 with an UNVERIFIED command, within Okta's 3 s. The hook found
//     no migration of the sample's full login, checked it as typed, and
//     Entra knows no such account: Okta reaches the hook, the hook accepts
//     Okta's credentials, and it reaches Entra (and, with identity binding
//     on, Temporal). A 204 (no command, which Okta reads as UNVERIFIED) is
//     ok too.
//   - warn: Okta's 400 whose causes say the hook answered 403, its undecided
//     answer: reachable and authenticated, but the hook could not decide
//     about a login no migration has, as it answers every sign-in while it
//     cannot reach Temporal or Entra; or a round trip over the hook's budget.
//   - FAIL: a VERIFIED answer (a random password accepted), an answer that
//     is not a password import command, the hook's 401 (the hook's
//     authScheme in Okta does not match HOOK_AUTH_SECRET), a time-out, a
//     connection or TLS failure, any other error, or a round trip past 3 s.
//
// Okta documents that a failed execution is a 400 "with more information
// about what failed", not the wording of its causes: the 403 and 401 cases
// are recognised by "403" and "401" in them, and any other cause is shown
// as Okta wrote it.
func (c *Config) executeCheck(ctx context.Context, h *InlineHook) Check {
	payload, err := samplePayload(c.OktaOrgURL, h.ID, c.Now())
	if err != nil {
		return failed(NameHookExecute, "building the sample payload: "+errText(err), "")
	}
	ex, err := c.InlineHooks.ExecuteInlineHook(ctx, h.ID, payload)
	if err != nil {
		return failed(NameHookExecute, "POST /api/v1/inlineHooks/"+h.ID+"/execute: "+errText(err),
			"give these credentials the scope okta.inlineHooks.manage (execute needs it), and check that Okta is reachable")
	}
	took := ex.Elapsed.Round(time.Millisecond)
	timing := fmt.Sprintf("in %s (Okta waits %s)", took, OktaHookTimeout)
	slow := func(chk Check) Check {
		if chk.Status == StatusFail {
			return chk
		}
		if ex.Elapsed >= OktaHookTimeout {
			return failed(NameHookExecute, chk.Detail+"; but the round trip took "+took.String()+", past Okta's "+OktaHookTimeout.String(),
				"bring the hook server closer to Okta, or find what delays it (Entra latency: the hook's entra_latency logs)")
		}
		if ex.Elapsed > c.HookBudget {
			return warn(NameHookExecute, chk.Detail+"; the round trip took "+took.String()+", more than the hook's budget of "+c.HookBudget.String(),
				"measure from nearer Okta; a hook server far from Okta leaves little of the 3 s for Entra")
		}
		return chk
	}
	switch {
	case ex.Status >= 200 && ex.Status < 300 && noCommand(ex.Body):
		// Okta answers 200 with the hook's PasswordImportResponse; an
		// empty one is the hook's answer without a command (its 204).
		return slow(ok(NameHookExecute, "Okta called the hook; it answered with no command (UNVERIFIED for Okta) "+timing))
	case ex.Status >= 200 && ex.Status < 300:
		switch credentialCommand(ex.Body) {
		case "UNVERIFIED":
			return slow(ok(NameHookExecute, "Okta called the hook with a sample username no Entra account has; it answered UNVERIFIED "+timing))
		case "VERIFIED":
			return failed(NameHookExecute, "the hook answered VERIFIED for a random password of "+SampleUsername,
				"stop the campaign: check the hook server's Entra configuration (ENTRA_TENANT_ID, the verifier app) and HOOK_POLICY_* settings")
		default:
			return failed(NameHookExecute, "the hook's answer is not a password import command",
				"check that the hook's URI points at the hook server's /okta/password-import")
		}
	}
	causes := strings.Join(ex.Causes, "; ")
	said := fmt.Sprintf("Okta answered %d %s %s", ex.Status, ex.Code, ex.Summary)
	if causes != "" {
		said += " (" + causes + ")"
	}
	switch {
	case ex.Status == 400 && strings.Contains(causes, "403"):
		return slow(warn(NameHookExecute, "Okta called the hook and it accepted Okta's credentials, but it answered 403, undecided, "+
			"for a login no migration has "+timing+": it answers every sign-in so while it cannot reach Temporal or Entra",
			"check the hook server's /readyz (--hook-admin-url) and its log's password import lines (reason)"))
	case ex.Status == 400 && strings.Contains(causes, "401"):
		return failed(NameHookExecute, said+": the hook refused Okta's credentials",
			"make the hook's authScheme value in Okta equal to the hook server's HOOK_AUTH_SECRET (and header name to HOOK_AUTH_HEADER)")
	case ex.Status == 400:
		return failed(NameHookExecute, said,
			"check that Okta can reach the hook's URI over https with a publicly trusted certificate, and the hook server's logs")
	}
	return failed(NameHookExecute, said, "check the credentials' scope okta.inlineHooks.manage and Okta's status")
}

// noCommand reports whether a password import hook answer, as Okta's
// execute returns it, holds no command: no body, {} or an empty commands.
func noCommand(body []byte) bool {
	if len(bytes.TrimSpace(body)) == 0 {
		return true
	}
	var resp map[string]json.RawMessage
	if json.Unmarshal(body, &resp) != nil {
		return false
	}
	switch len(resp) {
	case 0:
		return true
	case 1:
		return bytes.Equal(bytes.Join(bytes.Fields(resp["commands"]), nil), []byte("[]"))
	}
	return false
}

// credentialCommand returns the credential value of a password import
// hook answer's com.okta.action.update command, "" when there is none.
func credentialCommand(body []byte) string {
	var resp struct {
		Commands []struct {
			Type  string `json:"type"`
			Value struct {
				Credential string `json:"credential"`
			} `json:"value"`
		} `json:"commands"`
	}
	if json.Unmarshal(body, &resp) != nil {
		return ""
	}
	for _, cmd := range resp.Commands {
		if cmd.Type == "com.okta.action.update" {
			return cmd.Value.Credential
		}
	}
	return ""
}

func checkEventHook(ctx context.Context, c *Config) []Check {
	if c.OktaConfigError != "" || c.EventHooks == nil {
		return []Check{skip(NameEventHook, "no Okta client")}
	}
	hooks, err := c.EventHooks.EventHooks(ctx)
	if err != nil {
		return []Check{failed(NameEventHook, "GET /api/v1/eventHooks: "+errText(err),
			"give these credentials read access to event hooks (scope okta.eventHooks.read)")}
	}
	want := []string{EventAppMembershipAdd, EventPasswordImport}
	var candidates []EventHook
	for _, h := range hooks {
		if slices.ContainsFunc(want, func(t string) bool { return slices.Contains(h.Events, t) }) {
			candidates = append(candidates, h)
		}
	}
	if len(candidates) == 0 {
		return []Check{warn(NameEventHook, "no event hook is subscribed to "+strings.Join(want, " or ")+
			": assignments to the Office 365 app start no migration, and imports are confirmed only by the workers' System Log reads",
			"create an event hook for both types pointing at the hook server's https://<host>/okta/events and verify it (docs/event-hooks.md)")}
	}
	// The best candidate: ACTIVE, VERIFIED, then the most wanted types.
	score := func(h EventHook) int {
		n := 0
		if h.Status == "ACTIVE" {
			n += 100
		}
		if h.VerificationStatus == "VERIFIED" {
			n += 10
		}
		for _, t := range want {
			if slices.Contains(h.Events, t) {
				n++
			}
		}
		return n
	}
	best := slices.MaxFunc(candidates, func(a, b EventHook) int { return score(a) - score(b) })
	desc := fmt.Sprintf("%q (%s) calls %s", best.Name, best.ID, best.URI)
	var problems, fixes []string
	if best.Status != "ACTIVE" {
		problems = append(problems, "it is "+best.Status)
		fixes = append(fixes, "POST /api/v1/eventHooks/"+best.ID+"/lifecycle/activate")
	}
	if best.VerificationStatus != "VERIFIED" {
		problems = append(problems, "it is "+best.VerificationStatus+" (Okta sends events only to verified hooks)")
		fixes = append(fixes, "POST /api/v1/eventHooks/"+best.ID+"/lifecycle/verify while the hook server serves /okta/events")
	}
	for _, t := range want {
		if !slices.Contains(best.Events, t) {
			problems = append(problems, "it is not subscribed to "+t)
			fixes = append(fixes, "add "+t+" to its event types")
		}
	}
	if len(problems) > 0 {
		return []Check{failed(NameEventHook, desc+", but "+strings.Join(problems, "; "), strings.Join(fixes, "; "))}
	}
	return []Check{ok(NameEventHook, desc+", ACTIVE, VERIFIED, subscribed to "+strings.Join(want, " and "))}
}
