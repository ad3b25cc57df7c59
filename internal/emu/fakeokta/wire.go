package fakeokta

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"math"
	"math/big"
	"net/http"
	"strings"
	"time"
)

// oktaError is Okta's error body
// (https://developer.okta.com/docs/reference/core-okta-api/).
type oktaError struct {
	ErrorCode    string       `json:"errorCode"`
	ErrorSummary string       `json:"errorSummary"`
	ErrorLink    string       `json:"errorLink"`
	ErrorID      string       `json:"errorId"`
	ErrorCauses  []errorCause `json:"errorCauses"`
}

type errorCause struct {
	ErrorSummary string `json:"errorSummary"`
}

// apiError is a failure a handler returns; writeAPIError renders it.
type apiError struct {
	status  int
	code    string
	summary string
	causes  []string
}

func (e *apiError) Error() string { return e.code + " " + e.summary }

func notFound(what, kind string) *apiError {
	return &apiError{status: http.StatusNotFound, code: "E0000007",
		summary: "Not found: Resource not found: " + what + " (" + kind + ")"}
}

func validationFailed(field string, causes ...string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "E0000001",
		summary: "Api validation failed: " + field, causes: causes}
}

func notAllowedInStatus() *apiError {
	return &apiError{status: http.StatusForbidden, code: "E0000038",
		summary: "This operation is not allowed in the user's current status."}
}

func malformed() *apiError {
	return &apiError{status: http.StatusBadRequest, code: "E0000003", summary: "The request body was not well-formed."}
}

func tooManyRequests() *apiError {
	return &apiError{status: http.StatusTooManyRequests, code: "E0000047",
		summary: "API call exceeded rate limit due to too many requests."}
}

func invalidSearch() *apiError {
	return &apiError{status: http.StatusBadRequest, code: "E0000031", summary: "Invalid search criteria."}
}

func (s *Server) writeAPIError(w http.ResponseWriter, e *apiError) {
	body := oktaError{
		ErrorCode:    e.code,
		ErrorSummary: e.summary,
		ErrorLink:    e.code,
		ErrorID:      "oae" + randomID("", 22, idAlphabet),
		ErrorCauses:  []errorCause{},
	}
	for _, c := range e.causes {
		body.ErrorCauses = append(body.ErrorCauses, errorCause{ErrorSummary: c})
	}
	writeJSON(w, e.status, body)
}

// fail writes err: an *apiError as Okta's error body, anything else as 500.
func (s *Server) fail(w http.ResponseWriter, err error) {
	var ae *apiError
	if errors.As(err, &ae) {
		s.writeAPIError(w, ae)
		return
	}
	s.log.Error("fakeokta internal error", "err", err)
	s.writeAPIError(w, &apiError{status: http.StatusInternalServerError, code: "E0000009",
		summary: "Internal Server Error"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, `{"errorCode":"E0000009","errorSummary":"Internal Server Error"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// decodeBody decodes a JSON request body into v; an empty body is an error
// only when required.
func decodeBody(r *http.Request, v any, required bool) error {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return malformed()
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		if required {
			return malformed()
		}
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return malformed()
	}
	if dec.More() {
		return malformed()
	}
	return nil
}

// queryBool parses a boolean query parameter with a default.
func queryBool(r *http.Request, name string, def bool) (bool, error) {
	v := r.URL.Query().Get(name)
	switch strings.ToLower(v) {
	case "":
		return def, nil
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, &apiError{status: http.StatusBadRequest, code: "E0000001",
		summary: "Api validation failed: " + name, causes: []string{name + ": must be true or false"}}
}

const idAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// randomID returns prefix followed by n random characters of alphabet.
func randomID(prefix string, n int, alphabet string) string {
	var b strings.Builder
	b.WriteString(prefix)
	max := big.NewInt(int64(len(alphabet)))
	for i := 0; i < n; i++ {
		k, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic(err) // crypto/rand never fails on supported platforms
		}
		b.WriteByte(alphabet[k.Int64()])
	}
	return b.String()
}

// oktaID returns a 20-character Okta object id with a 3-character prefix
// (00u users, cal inline hooks).
func oktaID(prefix string) string { return randomID(prefix, 20-len(prefix), idAlphabet) }

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	const hex = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hex[c>>4], hex[c&0xf])
	}
	return string(out)
}

// timeFormat is how Okta writes timestamps: UTC with milliseconds.
const timeFormat = "2006-01-02T15:04:05.000Z"

func fmtTime(t time.Time) string { return t.UTC().Format(timeFormat) }

// nullTime is a JSON timestamp that is null when zero.
func nullTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := fmtTime(t)
	return &s
}

// ceilUnix returns t in whole epoch seconds, rounded up.
func ceilUnix(t time.Time) int64 {
	return int64(math.Ceil(float64(t.UnixNano()) / 1e9))
}

// link is a HAL link object.
type link struct {
	Href  string         `json:"href"`
	Hints map[string]any `json:"hints,omitempty"`
}
