package fakeokta_test

import (
	"net/http/httptest"
	"testing"
	"time"

	"entra2okta/internal/emu/fakeokta"
	"entra2okta/internal/testkit/oktaspec"
)

// TestEventHooksMatchOpenAPI validates every event hook management and app
// assignment exchange with the emulator against Okta's published OpenAPI
// description (requests, statuses, bodies, undocumented properties).
func TestEventHooksMatchOpenAPI(t *testing.T) {
	spec := oktaspec.Skip(t)
	rep := oktaspec.NewReport()
	s := fakeokta.New(fakeokta.Options{AllowHTTPHookURI: true, HookTimeout: time.Second})
	hs := httptest.NewServer(spec.Middleware(s, rep))
	t.Cleanup(hs.Close)
	e := &env{t: t, srv: s, url: hs.URL}
	rv := newReceiver(t)

	appID, _ := s.AddApp("", "Microsoft Office 365")
	u, err := s.SeedUser(fakeokta.SeedUser{Profile: map[string]any{
		"login": "rae.cloud@example.com", "email": "rae.cloud@example.com", "firstName": "Rae", "lastName": "Cloud"}})
	if err != nil {
		t.Fatal(err)
	}
	created := e.do("POST", "/api/v1/eventHooks", map[string]any{
		"name":   "Event Hook Test",
		"events": map[string]any{"type": "EVENT_TYPE", "items": []string{fakeokta.EventAppMembershipAdd}},
		"channel": map[string]any{"type": "HTTP", "version": "1.0.0", "config": map[string]any{
			"uri":        rv.URL + "/userAdded",
			"headers":    []map[string]string{{"key": "X-Other-Header", "value": "my-header-value"}},
			"authScheme": map[string]string{"type": "HEADER", "key": "Authorization", "value": "my-shared-secret"}}},
	})
	id, _ := created.obj["id"].(string)
	if created.status != 200 || id == "" {
		t.Fatalf("create: %d %s", created.status, created.raw)
	}
	e.do("GET", "/api/v1/eventHooks", nil)
	e.do("GET", "/api/v1/eventHooks/"+id, nil)
	if r := e.do("POST", "/api/v1/eventHooks/"+id+"/lifecycle/verify", nil); r.status != 200 {
		t.Fatalf("verify: %d %s", r.status, r.raw)
	}
	if r := e.do("POST", "/api/v1/apps/"+appID+"/users", map[string]any{"id": u.ID, "scope": "USER",
		"credentials": map[string]string{"userName": "rae.cloud@example.com"}}); r.status != 200 {
		t.Fatalf("assign: %d %s", r.status, r.raw)
	}
	e.do("PUT", "/api/v1/eventHooks/"+id, map[string]any{
		"name":   "Event Hook Test",
		"events": map[string]any{"type": "EVENT_TYPE", "items": []string{fakeokta.EventAppMembershipAdd, fakeokta.EventPasswordImport}},
		"channel": map[string]any{"type": "HTTP", "version": "1.0.0", "config": map[string]any{
			"uri": rv.URL + "/userAdded", "authScheme": map[string]string{"type": "HEADER", "key": "Authorization", "value": "my-shared-secret"}}},
	})
	e.do("POST", "/api/v1/eventHooks/"+id+"/lifecycle/deactivate", nil)
	e.do("POST", "/api/v1/eventHooks/"+id+"/lifecycle/activate", nil)
	e.do("POST", "/api/v1/eventHooks/"+id+"/lifecycle/deactivate", nil)
	e.do("DELETE", "/api/v1/eventHooks/"+id, nil)
	e.do("GET", "/api/v1/eventHooks/"+id, nil)

	rep.AssertClean(t)
	for _, op := range []string{"createEventHook", "listEventHooks", "getEventHook", "verifyEventHook", "replaceEventHook",
		"activateEventHook", "deactivateEventHook", "deleteEventHook", "assignUserToApplication"} {
		rep.AssertSeen(t, op, 0)
	}
	rep.AssertSeen(t, "getEventHook", 404)
}
