package oktaspec_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"entra2okta/internal/testkit/oktaspec"
)

// miniOkta answers POST /api/v1/users with Okta's create-user example, or with the
// example's "activated" renamed when the login says so; it echoes nothing
// else. It records the body it received.
type miniOkta struct{ got []string }

func (m *miniOkta) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	m.got = append(m.got, string(b))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Rate-Limit-Limit", "600")
	w.Header().Set("X-Rate-Limit-Remaining", "599")
	w.Header().Set("X-Rate-Limit-Reset", "1609459200")
	body := createUserResponse
	if strings.Contains(string(b), "renamed") {
		body = strings.Replace(body, `"activated"`, `"activatedAt"`, 1)
	}
	_, _ = io.WriteString(w, body)
}

// TestTransportAndMiddleware: the RoundTripper (client side) and the
// middleware (server side) see the same exchanges, report the same
// violations, and pass requests and responses through unchanged.
func TestTransportAndMiddleware(t *testing.T) {
	s := oktaspec.Skip(t)
	server := &miniOkta{}
	srvRep, cliRep := oktaspec.NewReport(), oktaspec.NewReport()
	ts := httptest.NewTLSServer(s.Middleware(server, srvRep))
	defer ts.Close()
	client := ts.Client()
	client.Transport = s.Transport(client.Transport, cliRep)

	post := func(body string) string {
		t.Helper()
		req, err := http.NewRequestWithContext(context.Background(), "POST", ts.URL+"/api/v1/users?activate=false", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		req.Header.Set("Authorization", "SSWS 00abc")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	if got := post(createUserRequest); got != createUserResponse {
		t.Errorf("client received %q, want the handler's body unchanged", got)
	}
	renamed := strings.Replace(createUserRequest, "Isaac", "renamed", 1)
	if got := post(renamed); !strings.Contains(got, "activatedAt") {
		t.Errorf("client received %q, want the handler's (deviant) body unchanged", got)
	}
	if len(server.got) != 2 || server.got[0] != createUserRequest || server.got[1] != renamed {
		t.Errorf("handler received %q, want the two request bodies unchanged", server.got)
	}

	for name, rep := range map[string]*oktaspec.Report{"middleware": srvRep, "transport": cliRep} {
		if n := rep.Seen("createUser", 200); n != 2 {
			t.Errorf("%s: saw createUser 200 %d times, want 2 (seen: %v)", name, n, rep.Operations())
		}
		vs := rep.Violations()
		if len(vs) != 1 || vs[0].Field != "/activatedAt" || vs[0].Rule != oktaspec.RuleUndocProperty || vs[0].Operation != "createUser" || vs[0].Direction != oktaspec.Response {
			t.Errorf("%s: violations = %v, want exactly the renamed member", name, vs)
		}
	}

	// AssertClean reports each violation through Errorf.
	ft := &fakeT{TB: t}
	cliRep.AssertClean(ft)
	if len(ft.errs) != 1 || !strings.Contains(ft.errs[0], "createUser POST /api/v1/users") || !strings.Contains(ft.errs[0], "/activatedAt") || !strings.Contains(ft.errs[0], oktaspec.RuleUndocProperty) {
		t.Errorf("AssertClean reported %q", ft.errs)
	}
	ft = &fakeT{TB: t}
	cliRep.AssertSeen(ft, "activateUser", 0)
	if len(ft.errs) != 1 {
		t.Errorf("AssertSeen on an operation never called reported %q, want one error", ft.errs)
	}
}

// fakeT records Errorf calls instead of failing the test.
type fakeT struct {
	testing.TB
	errs []string
}

func (f *fakeT) Errorf(format string, args ...any) {
	f.errs = append(f.errs, strings.TrimSpace(fmt.Sprintf(format, args...)))
}

func (f *fakeT) Helper() {}

// TestHookMiddleware checks both directions of a hook exchange: a
// documented request answered correctly is clean; a wrong answer is caught
// with its rule, and the request's own deviations are reported too.
func TestHookMiddleware(t *testing.T) {
	s := oktaspec.Skip(t)
	answer := hookVerified
	rep := oktaspec.NewReport()
	ts := httptest.NewServer(s.HookMiddleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, answer)
	}), rep))
	defer ts.Close()
	post := func(body string) {
		t.Helper()
		req, err := http.NewRequestWithContext(context.Background(), "POST", ts.URL+"/okta/password-import", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if string(got) != answer {
			t.Errorf("client received %q, want %q unchanged", got, answer)
		}
	}

	post(hookRequestConcrete)
	if vs := rep.Violations(); len(vs) != 0 || rep.Seen(oktaspec.HookOperation, 200) != 1 {
		t.Fatalf("documented exchange: violations %v, seen %v", vs, rep.Operations())
	}

	answer = strings.Replace(hookVerified, "com.okta.action.update", "com.okta.action.updated", 1)
	post(strings.Replace(hookRequestConcrete, `"eventTypeVersion": "1.0"`, `"eventTypeVersion": "1"`, 1))
	vs := rep.Violations()
	wantViolation(t, vs, "/commands/0/type", "enum")
	wantViolation(t, vs, "/eventTypeVersion", "enum")
	if len(vs) != 2 {
		t.Errorf("violations = %v, want exactly the two deviations", vs)
	}
}
