package fakeokta_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"entra2okta/internal/emu/fakeokta"
)

// receiver is a stand-in event hook service recording what Okta sends.
type receiver struct {
	*httptest.Server
	mu        sync.Mutex
	gets      []http.Header
	posts     []map[string]any
	postHdrs  []http.Header
	status    []int // answers to the next POSTs (default 200)
	badVerify bool  // echo a wrong verification value
}

func newReceiver(t *testing.T) *receiver {
	rv := &receiver{}
	rv.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rv.mu.Lock()
		defer rv.mu.Unlock()
		if r.Method == http.MethodGet {
			rv.gets = append(rv.gets, r.Header.Clone())
			v := r.Header.Get("X-Okta-Verification-Challenge")
			if rv.badVerify {
				v += "x"
			}
			_ = json.NewEncoder(w).Encode(map[string]string{"verification": v})
			return
		}
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		_ = json.Unmarshal(raw, &body)
		rv.posts = append(rv.posts, body)
		rv.postHdrs = append(rv.postHdrs, r.Header.Clone())
		if len(rv.status) > 0 {
			w.WriteHeader(rv.status[0])
			rv.status = rv.status[1:]
		}
	}))
	t.Cleanup(rv.Close)
	return rv
}

func (rv *receiver) snapshot() ([]http.Header, []map[string]any) {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	return append([]http.Header(nil), rv.gets...), append([]map[string]any(nil), rv.posts...)
}

func waitHooks(t *testing.T, s *fakeokta.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.WaitEventHooks(ctx); err != nil {
		t.Fatal(err)
	}
}

// deliveredEvents returns the events of every delivery, in order.
func deliveredEvents(posts []map[string]any) []map[string]any {
	var out []map[string]any
	for _, p := range posts {
		for _, e := range path(p, "data", "events").([]any) {
			out = append(out, e.(map[string]any))
		}
	}
	return out
}

func TestEventHookLifecycleAndDelivery(t *testing.T) {
	e := newEnv(t, fakeokta.Options{AllowHTTPHookURI: true, HookTimeout: time.Second})
	rv := newReceiver(t)
	appID, err := e.srv.AddApp("", "Microsoft Office 365")
	if err != nil {
		t.Fatal(err)
	}
	u, err := e.srv.SeedUser(fakeokta.SeedUser{Profile: map[string]any{
		"login": "staged@example.com", "email": "staged@example.com", "firstName": "Sta", "lastName": "Ged"}})
	if err != nil {
		t.Fatal(err)
	}

	created := e.do("POST", "/api/v1/eventHooks", map[string]any{
		"name":   "entra2okta",
		"events": map[string]any{"type": "EVENT_TYPE", "items": []string{fakeokta.EventAppMembershipAdd, fakeokta.EventPasswordImport}},
		"channel": map[string]any{"type": "HTTP", "version": "1.0.0", "config": map[string]any{
			"uri": rv.URL + "/okta/events", "headers": []map[string]string{{"key": "X-Other", "value": "other"}},
			"authScheme": map[string]string{"type": "HEADER", "key": "Authorization", "value": "Basic c2VjcmV0"}}},
	})
	if created.status != 200 || created.obj["status"] != "ACTIVE" || created.obj["verificationStatus"] != "UNVERIFIED" ||
		!strings.HasPrefix(created.obj["id"].(string), "who") {
		t.Fatalf("create: %d %s", created.status, created.raw)
	}
	if strings.Contains(string(created.raw), "c2VjcmV0") || path(created.obj, "channel", "config", "authScheme", "key") != "authorization" {
		t.Fatalf("the secret is echoed or the scheme is wrong: %s", created.raw)
	}
	id := created.obj["id"].(string)

	// Unverified: no delivery.
	if err := e.srv.AssignUserToApp(appID, "staged@example.com"); err != nil {
		t.Fatal(err)
	}
	waitHooks(t, e.srv)
	if _, posts := rv.snapshot(); len(posts) != 0 {
		t.Fatalf("an unverified hook received %d deliveries", len(posts))
	}

	// A failed verification is a 400 and leaves the hook UNVERIFIED.
	rv.mu.Lock()
	rv.badVerify = true
	rv.mu.Unlock()
	if r := e.do("POST", "/api/v1/eventHooks/"+id+"/lifecycle/verify", nil); r.status != 400 || r.obj["errorCode"] != "E0000001" ||
		!strings.Contains(string(r.raw), "Unable to verify event hook") {
		t.Fatalf("bad verification: %d %s", r.status, r.raw)
	}
	rv.mu.Lock()
	rv.badVerify = false
	rv.mu.Unlock()
	if r := e.do("POST", "/api/v1/eventHooks/"+id+"/lifecycle/verify", nil); r.status != 200 || r.obj["verificationStatus"] != "VERIFIED" {
		t.Fatalf("verify: %d %s", r.status, r.raw)
	}
	gets, _ := rv.snapshot()
	if len(gets) != 2 || gets[1].Get("Authorization") != "Basic c2VjcmV0" || gets[1].Get("X-Other") != "other" ||
		len(gets[1].Get("X-Okta-Verification-Challenge")) < 20 || gets[0].Get("X-Okta-Verification-Challenge") == gets[1].Get("X-Okta-Verification-Challenge") {
		t.Fatalf("verification requests %v", gets)
	}

	// Verified: an assignment over the API is delivered with Okta's envelope
	// and the three targets; an unsubscribed event type is not.
	other, _ := e.srv.SeedUser(fakeokta.SeedUser{Profile: map[string]any{
		"login": "other@example.com", "email": "other@example.com", "firstName": "O", "lastName": "T"}})
	if r := e.do("POST", "/api/v1/apps/"+appID+"/users", map[string]any{"id": other.ID, "scope": "USER",
		"credentials": map[string]string{"userName": "other@example.com"}}); r.status != 200 || r.obj["id"] != other.ID {
		t.Fatalf("assign: %d %s", r.status, r.raw)
	}
	e.do("POST", "/api/v1/users/"+u.ID+"/lifecycle/activate?sendEmail=false", nil) // user.lifecycle.activate: not subscribed
	waitHooks(t, e.srv)
	_, posts := rv.snapshot()
	if len(posts) != 1 {
		t.Fatalf("%d deliveries, want 1", len(posts))
	}
	p := posts[0]
	if p["eventType"] != "com.okta.event_hook" || p["eventTypeVersion"] != "1.0" || p["cloudEventsVersion"] != "0.1" ||
		p["contentType"] != "application/json" || p["eventId"] == "" || !strings.HasSuffix(p["source"].(string), "/api/v1/eventHooks/"+id) {
		t.Fatalf("envelope %v", p)
	}
	evs := deliveredEvents(posts)
	if len(evs) != 1 || evs[0]["eventType"] != fakeokta.EventAppMembershipAdd {
		t.Fatalf("events %v", evs)
	}
	types := map[string]string{}
	for _, tg := range evs[0]["target"].([]any) {
		m := tg.(map[string]any)
		types[m["type"].(string)] = m["alternateId"].(string) + "|" + m["id"].(string)
	}
	if types["User"] != "other@example.com|"+other.ID || !strings.HasPrefix(types["AppInstance"], "Microsoft Office 365|"+appID) ||
		!strings.HasPrefix(types["AppUser"], "other@example.com|0ua") {
		t.Fatalf("targets %v", types)
	}
	rv.mu.Lock()
	hdr := rv.postHdrs[0]
	rv.mu.Unlock()
	if hdr.Get("Authorization") != "Basic c2VjcmV0" || hdr.Get("Content-Type") != "application/json" {
		t.Fatalf("delivery headers %v", hdr)
	}
	// Assigning again writes no new event.
	if err := e.srv.AssignUserToApp(appID, "other@example.com"); err != nil {
		t.Fatal(err)
	}
	waitHooks(t, e.srv)
	if _, posts := rv.snapshot(); len(posts) != 1 {
		t.Fatalf("a repeated assignment was delivered: %d deliveries", len(posts))
	}

	// Deactivated: nothing delivered; only an INACTIVE hook can be deleted.
	if r := e.do("DELETE", "/api/v1/eventHooks/"+id, nil); r.status != 403 {
		t.Fatalf("delete while ACTIVE: %d", r.status)
	}
	if r := e.do("POST", "/api/v1/eventHooks/"+id+"/lifecycle/deactivate", nil); r.obj["status"] != "INACTIVE" {
		t.Fatalf("deactivate: %s", r.raw)
	}
	third, _ := e.srv.SeedUser(fakeokta.SeedUser{Profile: map[string]any{
		"login": "third@example.com", "email": "third@example.com", "firstName": "T", "lastName": "H"}})
	if err := e.srv.AssignUserToApp(appID, third.Login); err != nil {
		t.Fatal(err)
	}
	waitHooks(t, e.srv)
	if _, posts := rv.snapshot(); len(posts) != 1 {
		t.Fatalf("an INACTIVE hook received events")
	}
	if r := e.do("GET", "/api/v1/eventHooks", nil); r.status != 200 || len(r.arr) != 1 {
		t.Fatalf("list: %d %s", r.status, r.raw)
	}
	if r := e.do("DELETE", "/api/v1/eventHooks/"+id, nil); r.status != 204 {
		t.Fatalf("delete: %d", r.status)
	}
	if r := e.do("GET", "/api/v1/eventHooks/"+id, nil); r.status != 404 {
		t.Fatalf("get after delete: %d", r.status)
	}
}

func TestEventHookRetriesOnceOn5xxOnly(t *testing.T) {
	e := newEnv(t, fakeokta.Options{AllowHTTPHookURI: true, HookTimeout: time.Second})
	rv := newReceiver(t)
	appID, _ := e.srv.AddApp("0oa1o365fakeapp00001", "Microsoft Office 365")
	if _, err := e.srv.RegisterEventHook(context.Background(), rv.URL, "Authorization", "s3cret", fakeokta.EventAppMembershipAdd); err != nil {
		t.Fatal(err)
	}
	seed := func(login string) {
		if _, err := e.srv.SeedUser(fakeokta.SeedUser{Profile: map[string]any{
			"login": login, "email": login, "firstName": "A", "lastName": "B"}}); err != nil {
			t.Fatal(err)
		}
	}
	rv.mu.Lock()
	rv.status = []int{503, 200, 400, 500, 500}
	rv.mu.Unlock()
	for _, login := range []string{"a@example.com", "b@example.com", "c@example.com"} {
		seed(login)
		if err := e.srv.AssignUserToApp(appID, login); err != nil {
			t.Fatal(err)
		}
		waitHooks(t, e.srv)
	}
	var deliveries []fakeokta.EventHookCall
	for _, c := range e.srv.EventHookCalls() {
		if !c.Verification {
			deliveries = append(deliveries, c)
		}
	}
	if len(deliveries) != 3 {
		t.Fatalf("%d deliveries, want 3", len(deliveries))
	}
	want := []struct {
		attempts int
		ok       bool
	}{{2, true}, {1, false}, {2, false}} // 503 then 200; 400 final; 500 twice
	for i, w := range want {
		if d := deliveries[i]; len(d.Attempts) != w.attempts || d.OK != w.ok || len(d.EventUUIDs) != 1 {
			t.Errorf("delivery %d: %+v, want %d attempts ok=%v", i, d, w.attempts, w.ok)
		}
	}
	// The retry carries the same delivery (same eventId and event uuids).
	_, posts := rv.snapshot()
	if len(posts) != 5 || posts[0]["eventId"] != posts[1]["eventId"] {
		t.Fatalf("%d posts; a retry must resend the same delivery", len(posts))
	}
}

func TestAssignUserToAppErrors(t *testing.T) {
	e := newEnv(t, fakeokta.Options{})
	appID, _ := e.srv.AddApp("", "Office")
	if r := e.do("POST", "/api/v1/apps/0oaNope/users", map[string]any{"id": "00uNope"}); r.status != 404 {
		t.Errorf("unknown app: %d", r.status)
	}
	if r := e.do("POST", "/api/v1/apps/"+appID+"/users", map[string]any{"id": "00uNope"}); r.status != 404 {
		t.Errorf("unknown user: %d", r.status)
	}
	if r := e.do("POST", "/api/v1/apps/"+appID+"/users", map[string]any{}); r.status != 400 {
		t.Errorf("no id: %d", r.status)
	}
	if err := e.srv.AssignUserToApp(appID, "nobody@example.com"); err == nil {
		t.Error("assigning an unknown user succeeded")
	}
	if r := e.do("POST", "/api/v1/eventHooks", map[string]any{"name": "x", "events": map[string]any{"type": "EVENT_TYPE", "items": []string{"user.import.password"}},
		"channel": map[string]any{"type": "HTTP", "version": "1.0.0", "config": map[string]any{"uri": "http://insecure.example/hook"}}}); r.status != 400 {
		t.Errorf("http uri without AllowHTTPHookURI: %d", r.status)
	}
}
