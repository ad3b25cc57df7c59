package pwimport

import (
	"net/http"
	"testing"
	"time"

	"entra2okta/internal/entra"
)

// FuzzPasswordImport sends arbitrary bodies through the authenticated
// handler: it must never panic, must answer either a well-formed Okta command
// (200) or 400, must reach the verifier only for bodies that decode into a
// complete credential, and must answer fixed bodies that never echo the input.
func FuzzPasswordImport(f *testing.F) {
	f.Add(fixture(f, "identity-engine.json"))
	f.Add(fixture(f, "classic.json"))
	f.Add([]byte(`{"data":{"context":{"credential":{"username":"a@example.com","password":"p"}}}}`))
	f.Add([]byte(`{"data":{"context":{"credential":{"username":"a","username":"b","password":"p"}}}}`))
	f.Add([]byte(`{"data":{"context":{"credential":{"username":"a","password":"p"}}}}{}`))
	f.Add([]byte(`{"data":{"context":{"request":{"ipAddress":"::ffff:1.2.3.4"},"credential":{"username":"a","password":"p"}}}}`))
	f.Add([]byte(`[`))
	f.Add([]byte(``))
	f.Add([]byte("{\"data\":\xff}"))

	v := verifierReturning(entra.Result{Verdict: entra.Rejected, Code: 50126, Reason: "wrong_password"})
	h, err := NewHandler(Config{AuthSecret: testSecret, Budget: time.Second, Shield: ShieldConfig{LockoutThreshold: 1 << 31, UserDailyAttempts: 1 << 30, UserAttempts: 1 << 30, IPAttempts: -1, GlobalFailures: -1}},
		v, &fakeSignaler{}, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		before := v.calls.Load()
		w := post(h, body)
		_, perr := parseImportRequest(body)
		switch w.Code {
		case http.StatusOK:
			if perr != nil {
				t.Fatalf("answered 200 to a body the decoder rejects (%v)", perr)
			}
			if got := credentialOf(t, w); got != "UNVERIFIED" || w.Body.String() != string(bodyUnverified) {
				t.Fatalf("credential %q, body %q", got, w.Body.String())
			}
		case StatusUndecided:
			if perr != nil || w.Body.String() != string(bodyUndecided) {
				t.Fatalf("undecided answer to a body the decoder rejects (%v), or body %q", perr, w.Body.String())
			}
		case http.StatusBadRequest:
			if perr == nil {
				t.Fatalf("answered 400 to a decodable body")
			}
			if v.calls.Load() != before {
				t.Fatal("a malformed body reached the verifier")
			}
			if w.Body.String() != `{"error":{"errorSummary":"malformed password import request"}}` {
				t.Fatalf("400 body %q", w.Body.String()) // fixed: never echoes the input
			}
		default:
			t.Fatalf("status %d", w.Code)
		}
	})
}
