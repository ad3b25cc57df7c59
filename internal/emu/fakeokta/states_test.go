package fakeokta_test

import (
	"net/url"
	"testing"
	"time"

	"entra2okta/internal/emu/fakeokta"
)

// TestAsyncActivationOnTheWire: with an activation delay the user answers
// transitioningToStatus (and only then), changes are 409 E0000112, and the
// transition completes on time.
func TestAsyncActivationOnTheWire(t *testing.T) {
	clk := newClock()
	e := newEnv(t, fakeokta.Options{Now: clk.Now})
	sync := e.do("POST", "/api/v1/users?activate=true", hookUser("now@example.com"))
	sync.wantStatus(t, 200, "")
	if _, ok := sync.obj["transitioningToStatus"]; ok || sync.obj["status"] != "ACTIVE" {
		t.Fatalf("synchronous activation answered %s", sync.raw)
	}

	e.srv.SetActivationDelay(5 * time.Second)
	r := e.do("POST", "/api/v1/users?activate=true", hookUser("async@example.com"))
	r.wantStatus(t, 200, "")
	if r.obj["status"] != "STAGED" || r.obj["transitioningToStatus"] != "ACTIVE" {
		t.Fatalf("asynchronous create answered %s", r.raw)
	}
	id := r.obj["id"].(string)
	for _, c := range []struct{ method, path string }{
		{"POST", "/api/v1/users/" + id + "/lifecycle/activate?sendEmail=false"},
		{"POST", "/api/v1/users/" + id + "/lifecycle/deactivate"},
		{"POST", "/api/v1/users/" + id + "/lifecycle/reactivate"},
		{"POST", "/api/v1/users/" + id + "/lifecycle/expire_password"},
		{"POST", "/api/v1/users/" + id},
		{"DELETE", "/api/v1/users/" + id},
	} {
		var body any
		if c.method == "POST" && c.path == "/api/v1/users/"+id {
			body = map[string]any{"profile": map[string]any{"nickName": "x"}}
		}
		e.do(c.method, c.path, body).wantStatus(t, 409, "E0000112")
	}
	clk.Add(5 * time.Second)
	r = e.do("GET", "/api/v1/users/"+id, nil)
	if r.obj["status"] != "ACTIVE" || r.obj["transitioningToStatus"] != nil {
		t.Fatalf("after the delay: %s", r.raw)
	}
	if u, _ := e.srv.User(id); u.StatusChanged != clk.Now() {
		t.Errorf("statusChanged = %v, want the end of the transition %v", u.StatusChanged, clk.Now())
	}
	// A listing settles transitions too.
	e.srv.SetActivationDelay(time.Second)
	id2 := e.do("POST", "/api/v1/users?activate=true", hookUser("list@example.com")).obj["id"].(string)
	clk.Add(time.Second)
	for _, v := range e.do("GET", "/api/v1/users?filter="+url.QueryEscape(`status eq "STAGED"`), nil).arr {
		if v.(map[string]any)["id"] == id2 {
			t.Errorf("listed as STAGED after its activation completed")
		}
	}
}

// TestProvisionOnActivate: the enrollment policy leaves a user activated
// with a password PROVISIONED (created or activated); reactivate makes it
// ACTIVE; sign-in is refused until then.
func TestProvisionOnActivate(t *testing.T) {
	e := newEnv(t, fakeokta.Options{ProvisionOnActivate: true})
	created := e.do("POST", "/api/v1/users?activate=true", hookUser("c@example.com"))
	if created.obj["status"] != "PROVISIONED" {
		t.Fatalf("create: %s", created.raw)
	}
	staged := e.do("POST", "/api/v1/users?activate=false", hookUser("s@example.com")).obj["id"].(string)
	e.do("POST", "/api/v1/users/"+staged+"/lifecycle/activate?sendEmail=false", nil).wantStatus(t, 200, "")
	if u, _ := e.srv.User(staged); u.Status != fakeokta.StatusProvisioned {
		t.Fatalf("activated: %s", u.Status)
	}
	if r := e.do("POST", "/api/v1/authn", map[string]string{"username": "s@example.com", "password": "whatever1"}); r.status != 401 {
		t.Errorf("authn of a PROVISIONED user: %d", r.status)
	}
	r := e.do("POST", "/api/v1/users/"+staged+"/lifecycle/reactivate?sendEmail=false", nil)
	r.wantStatus(t, 200, "")
	if tok, _ := r.obj["activationToken"].(string); tok == "" {
		t.Errorf("reactivate without email answered %s", r.raw)
	}
	if u, _ := e.srv.User(staged); u.Status != fakeokta.StatusActive || !u.OnImportHook {
		t.Errorf("after reactivate: %+v", u)
	}
	e.do("POST", "/api/v1/users/"+staged+"/lifecycle/reactivate", nil).wantStatus(t, 403, "E0000038")
	if r := e.do("POST", "/api/v1/users/"+staged+"/lifecycle/reactivate?sendEmail=true", nil); r.status != 403 {
		t.Errorf("reactivate of an ACTIVE user: %d", r.status)
	}
}

// TestIdentityProviderUsers: FEDERATION and SOCIAL users are created without
// a password, and a password or the hook is refused on them.
func TestIdentityProviderUsers(t *testing.T) {
	e := newEnv(t, fakeokta.Options{})
	fed := map[string]any{"profile": profile("fed@example.com"),
		"credentials": map[string]any{"provider": map[string]any{"type": "FEDERATION", "name": "FEDERATION"}}}
	r := e.do("POST", "/api/v1/users?provider=true&activate=true", fed)
	r.wantStatus(t, 200, "")
	if r.obj["status"] != "ACTIVE" || path(r.obj, "credentials", "provider", "type") != "FEDERATION" || path(r.obj, "credentials", "password") != nil {
		t.Fatalf("federated create: %s", r.raw)
	}
	id := r.obj["id"].(string)
	e.do("POST", "/api/v1/users/"+id, map[string]any{"credentials": map[string]any{"password": map[string]any{"hook": map[string]any{"type": "default"}}}}).
		wantStatus(t, 400, "E0000001")
	if u, _ := e.srv.User(id); u.ProviderType != "FEDERATION" || u.OnImportHook {
		t.Errorf("after the refused hook: %+v", u)
	}
	social := map[string]any{"profile": profile("soc@example.com"), "credentials": map[string]any{
		"password": map[string]any{"value": "Passw0rd!"}, "provider": map[string]any{"type": "SOCIAL", "name": "Google"}}}
	e.do("POST", "/api/v1/users?provider=true", social).wantStatus(t, 400, "E0000001")
	if _, ok := e.srv.User("soc@example.com"); ok {
		t.Error("the refused SOCIAL user was created")
	}
}
