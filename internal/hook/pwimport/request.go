package pwimport

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/netip"
	"unicode/utf8"

	"entra2okta/internal/redact"
)

// EventTypePasswordImport is the eventType Okta puts in every password import
// inline hook request (https://developer.okta.com/docs/api/openapi/okta-management/management/tags/inlinehook/webhooks/createpasswordimportinlinehook).
const EventTypePasswordImport = "com.okta.user.credential.password.import"

// Limits on what a credential may look like before it is worth asking Entra.
// Okta logins are at most 100 characters (https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/)
// but the username is
// "whatever the user typed"; Entra passwords are at most 256 characters.
const (
	maxUsernameBytes = 512
	maxPasswordBytes = 1024
	maxJSONDepth     = 32
)

// importRequest is the part of Okta's payload the hook uses. Password is the
// user's plaintext password, held so that no log line, error or metric can
// print it (redact.String).
type importRequest struct {
	EventID   string
	EventType string
	Username  string
	Password  redact.String
	IP        string // data.context.request.ipAddress, "" if absent
	RequestID string // data.context.request.id: the end user's request, the same in Okta's retry
}

// badRequest is a decoding failure. Its text is a fixed, log-safe category:
// it never quotes the body (encoding/json's syntax errors quote input
// characters, which may be characters of a password).
type badRequest string

func (e badRequest) Error() string { return string(e) }

const (
	errInvalidUTF8  badRequest = "invalid_utf8"
	errSyntax       badRequest = "malformed_json"
	errDuplicateKey badRequest = "duplicate_key"
	errTooDeep      badRequest = "too_deep"
	errTrailingData badRequest = "trailing_data"
	errNotObject    badRequest = "not_an_object"
	errWrongType    badRequest = "wrong_field_type"
	errMissingField badRequest = "missing_field"
	errEmptyField   badRequest = "empty_credential"
	errWrongEvent   badRequest = "wrong_event_type"
	errTooLarge     badRequest = "body_too_large"
	errContentType  badRequest = "wrong_content_type"
	errReadingBody  badRequest = "read_error"
)

// parseImportRequest decodes Okta's password import payload.
//
// "Strict" here means: the body is one well-formed UTF-8 JSON object with
// nothing after it; no object repeats a member name (two "username" members
// could be read differently by a proxy and by us); member names match exactly
// (encoding/json would accept "USERNAME"); every member we read (eventId,
// eventType, data.context.credential, data.context.request.ipAddress) has
// the documented type; eventType, when present, is the password import type; and
// the credential is present with non-empty strings (as Okta's own sample
// service requires: https://developer.okta.com/docs/guides/password-import-inline-hook/nodejs/main/).
// Members we do not know are accepted at any
// level, because Okta adds fields to its payloads over time.
func parseImportRequest(body []byte) (importRequest, error) {
	var req importRequest
	if !utf8.Valid(body) {
		return req, errInvalidUTF8
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	v, err := readValue(dec, 0)
	if err != nil {
		return req, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return req, errTrailingData
	}
	root, ok := v.(map[string]any)
	if !ok {
		return req, errNotObject
	}
	if req.EventID, err = optString(root, "eventId"); err != nil {
		return req, err
	}
	if req.EventType, err = optString(root, "eventType"); err != nil {
		return req, err
	}
	if req.EventType != "" && req.EventType != EventTypePasswordImport {
		return req, errWrongEvent
	}
	data, err := reqObject(root, "data")
	if err != nil {
		return req, err
	}
	ctx, err := reqObject(data, "context")
	if err != nil {
		return req, err
	}
	cred, err := reqObject(ctx, "credential")
	if err != nil {
		return req, err
	}
	if req.Username, err = reqString(cred, "username"); err != nil {
		return req, err
	}
	pw, err := reqString(cred, "password")
	if err != nil {
		return req, err
	}
	req.Password = redact.New(pw)
	if r, ok := ctx["request"]; ok && r != nil {
		ro, ok := r.(map[string]any)
		if !ok {
			return req, errWrongType
		}
		if req.IP, err = optString(ro, "ipAddress"); err != nil {
			return req, err
		}
		if req.RequestID, err = optString(ro, "id"); err != nil {
			return req, err
		}
	}
	return req, nil
}

// readValue reads one JSON value, rejecting duplicate member names and
// nesting deeper than maxJSONDepth.
func readValue(dec *json.Decoder, depth int) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, errSyntax
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return tok, nil // string, json.Number, bool or nil
	}
	if depth >= maxJSONDepth {
		return nil, errTooDeep
	}
	switch d {
	case '{':
		m := make(map[string]any)
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, errSyntax
			}
			k, ok := kt.(string)
			if !ok {
				return nil, errSyntax
			}
			if _, dup := m[k]; dup {
				return nil, errDuplicateKey
			}
			v, err := readValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			m[k] = v
		}
		if _, err := dec.Token(); err != nil { // '}'
			return nil, errSyntax
		}
		return m, nil
	case '[':
		var a []any
		for dec.More() {
			v, err := readValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		if _, err := dec.Token(); err != nil { // ']'
			return nil, errSyntax
		}
		return a, nil
	}
	return nil, errSyntax
}

func reqObject(m map[string]any, k string) (map[string]any, error) {
	v, ok := m[k]
	if !ok || v == nil {
		return nil, errMissingField
	}
	o, ok := v.(map[string]any)
	if !ok {
		return nil, errWrongType
	}
	return o, nil
}

func reqString(m map[string]any, k string) (string, error) {
	v, ok := m[k]
	if !ok || v == nil {
		return "", errMissingField
	}
	s, ok := v.(string)
	if !ok {
		return "", errWrongType
	}
	if s == "" {
		return "", errEmptyField
	}
	return s, nil
}

func optString(m map[string]any, k string) (string, error) {
	v, ok := m[k]
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", errWrongType
	}
	return s, nil
}

// ipKey returns the key of the per-source budget for Okta's ipAddress: the
// address itself for IPv4, its /64 for IPv6 (one host usually owns a whole
// /64), and "" when absent or not an address.
func ipKey(s string) string {
	if s == "" {
		return ""
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return ""
	}
	a = a.Unmap()
	if a.Is6() {
		p, err := a.Prefix(64)
		if err != nil {
			return ""
		}
		return p.String()
	}
	return a.String()
}
