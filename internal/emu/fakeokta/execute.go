package fakeokta

import (
	"encoding/json"
	"io"
	"net/http"
)

// executeInlineHook answers POST /api/v1/inlineHooks/{id}/execute as Okta
// documents it: it sends the request body through the hook's channel (3 s
// per attempt, one retry after a time-out, a connection error or a 5xx:
// callHook, the client the sign-in flow uses) and answers the hook's
// response "if it matches the correct data contract. Otherwise it returns an
// error"; "if a successful response isn't received", a 400 with what failed
// (https://developer.okta.com/docs/api/openapi/okta-management/management/tag/InlineHook/#tag/InlineHook/operation/executeInlineHook).
// The contract checked is the password import hook's (PasswordImportResponse:
// no body, or commands of type com.okta.action.update whose value's
// credential is VERIFIED or UNVERIFIED); other hook types' answers are
// passed through.
//
// Okta documents one success answer, 200 with the hook's response as JSON;
// no 204. A hook that answered with no body (the password import hook's
// documented 204, which leaves the credential UNVERIFIED) is answered as
// an empty PasswordImportResponse, {}: Okta's documentation gives no other
// shape for it. An unknown hook is Okta's 404. Okta does not document the
// execution of an INACTIVE hook; the emulator does not call it and answers
// the documented 400, with the hook's status as the cause.
func (s *Server) executeInlineHook(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil || !json.Valid(body) {
		s.fail(w, malformed())
		return
	}
	s.mu.Lock()
	h, e := s.hookByPath(r)
	var snap inlineHook
	if e == nil {
		snap = *h
	}
	s.mu.Unlock()
	if e != nil {
		s.fail(w, e)
		return
	}
	if snap.status != "ACTIVE" {
		s.fail(w, &apiError{status: http.StatusBadRequest, code: "E0000001",
			summary: "Api validation failed: inline hook execution", causes: []string{"the inline hook is " + snap.status}})
		return
	}
	res := s.callHook(r.Context(), &snap, body)
	if res.err == nil && snap.typ == HookTypePasswordImport {
		res.err = checkPasswordImportAnswer(res.body)
	}
	if res.err != nil {
		s.fail(w, &apiError{status: http.StatusBadRequest, code: "E0000001",
			summary: "Api validation failed: inline hook execution", causes: []string{res.err.Error()}})
		return
	}
	if len(res.body) == 0 {
		res.body = []byte("{}")
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(res.body)
}

// contractError is an answer that does not match the hook type's contract.
type contractError string

func (e contractError) Error() string { return string(e) }

// checkPasswordImportAnswer checks a password import hook's 2xx answer
// against PasswordImportResponse.
func checkPasswordImportAnswer(body []byte) error {
	if len(body) == 0 {
		return nil // 204 or an empty 200: Okta keeps data.action.credential, UNVERIFIED
	}
	var resp struct {
		Commands *[]struct {
			Type  string `json:"type"`
			Value *struct {
				Credential string `json:"credential"`
			} `json:"value"`
		} `json:"commands"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return contractError("the hook's response is not a JSON object")
	}
	if resp.Commands == nil {
		return contractError("the hook's response has no commands")
	}
	for _, c := range *resp.Commands {
		if c.Type != "com.okta.action.update" || c.Value == nil || (c.Value.Credential != "VERIFIED" && c.Value.Credential != "UNVERIFIED") {
			return contractError("the hook's command is not com.okta.action.update with credential VERIFIED or UNVERIFIED")
		}
	}
	return nil
}
