package fakeokta_test

import (
	"strings"
	"testing"

	"entra2okta/internal/emu/fakeokta"
)

// TestExpiredPasswordMustBeChanged follows the Authentication API's
// expired-password flow: after lifecycle/expire_password the user is
// PASSWORD_EXPIRED, signing in with the old password yields a
// PASSWORD_EXPIRED transaction (no session), the change refuses a wrong old
// password, a new password below the policy and the same password, and a
// good change makes the user ACTIVE with the new password only.
func TestExpiredPasswordMustBeChanged(t *testing.T) {
	e := newEnv(t, fakeokta.Options{})
	seeded, err := e.srv.SeedUser(fakeokta.SeedUser{Profile: profile("weak@example.com"), Status: "ACTIVE", Password: "summer2024"})
	if err != nil {
		t.Fatal(err)
	}
	id := seeded.ID
	authn := func(pw string) resp {
		return e.do("POST", "/api/v1/authn", map[string]any{"username": "weak@example.com", "password": pw}, "Authorization", "")
	}
	authn("summer2024").wantStatus(t, 200, "")
	r := e.do("POST", "/api/v1/users/"+id+"/lifecycle/expire_password", nil)
	r.wantStatus(t, 200, "")
	if r.obj["status"] != "PASSWORD_EXPIRED" {
		t.Fatalf("after expire_password: status %v", r.obj["status"])
	}
	authn("wrong").wantStatus(t, 401, "E0000004")
	r = authn("summer2024")
	r.wantStatus(t, 200, "")
	tok, _ := r.obj["stateToken"].(string)
	next, _ := r.obj["_links"].(map[string]any)["next"].(map[string]any)
	if r.obj["status"] != "PASSWORD_EXPIRED" || tok == "" || r.obj["sessionToken"] != nil || next["name"] != "changePassword" ||
		!strings.HasSuffix(next["href"].(string), "/api/v1/authn/credentials/change_password") {
		t.Fatalf("sign-in with an expired password: %s", r.raw)
	}
	if cx := r.obj["_embedded"].(map[string]any)["policy"].(map[string]any)["complexity"].(map[string]any); cx["minLength"] != float64(8) {
		t.Errorf("the transaction's policy: %v", cx)
	}
	change := func(token, old, nw string) resp {
		return e.do("POST", "/api/v1/authn/credentials/change_password",
			map[string]any{"stateToken": token, "oldPassword": old, "newPassword": nw}, "Authorization", "")
	}
	change("nosuchtoken", "summer2024", "Much-Better-Passw0rd").wantStatus(t, 403, "E0000011")
	change(tok, "wrong", "Much-Better-Passw0rd").wantStatus(t, 403, "E0000014")
	change(tok, "summer2024", "short1A").wantStatus(t, 403, "E0000080")
	change(tok, "summer2024", "no-upper-case-1").wantStatus(t, 403, "E0000080")
	change(tok, "summer2024", "Weak-User-Name-1-weak").wantStatus(t, 403, "E0000080")
	r = change(tok, "summer2024", "Much-Better-Passw0rd")
	r.wantStatus(t, 200, "")
	if r.obj["status"] != "SUCCESS" || r.obj["sessionToken"] == nil {
		t.Fatalf("change: %s", r.raw)
	}
	change(tok, "summer2024", "Another-Passw0rd").wantStatus(t, 403, "E0000011") // the state token is spent
	if u := e.do("GET", "/api/v1/users/"+id, nil); u.obj["status"] != "ACTIVE" {
		t.Fatalf("after the change: status %v", u.obj["status"])
	}
	authn("summer2024").wantStatus(t, 401, "E0000004")
	authn("Much-Better-Passw0rd").wantStatus(t, 200, "")
	for _, rr := range e.srv.RequestLog() {
		if rr.Route == fakeokta.RouteAuthnChangePassword && strings.Contains(string(rr.Body), "Passw0rd") {
			t.Error("a recorded change-password request keeps its body")
		}
	}
}
