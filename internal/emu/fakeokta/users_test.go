package fakeokta_test

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"entra2okta/internal/emu/fakeokta"
)

func TestCommonHeadersAndErrors(t *testing.T) {
	e := newEnv(t, fakeokta.Options{})
	tests := []struct {
		name         string
		method, path string
		body         any
		hdr          []string
		status       int
		code         string
		summary      string
	}{
		{"no token", "GET", "/api/v1/users", nil, []string{"Authorization", ""}, 401, "E0000011", "Invalid token provided"},
		{"bad token", "GET", "/api/v1/users", nil, []string{"Authorization", "SSWS nope"}, 401, "E0000011", "Invalid token provided"},
		{"bearer is not SSWS", "GET", "/api/v1/users", nil, []string{"Authorization", "Bearer " + fakeokta.DefaultAPIToken}, 401, "E0000011", "Invalid token provided"},
		{"malformed JSON", "POST", "/api/v1/users", `{"profile":`, nil, 400, "E0000003", "The request body was not well-formed."},
		{"unknown user", "GET", "/api/v1/users/nobody@example.com", nil, nil, 404, "E0000007", "Not found: Resource not found: nobody@example.com (User)"},
		{"unknown route", "GET", "/api/v1/nothing", nil, nil, 404, "E0000007", ""},
		{"list", "GET", "/api/v1/users", nil, nil, 200, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(tc.method, tc.path, tc.body, tc.hdr...)
			r.wantStatus(t, tc.status, tc.code)
			if tc.summary != "" && r.obj["errorSummary"] != tc.summary {
				t.Errorf("errorSummary = %q, want %q", r.obj["errorSummary"], tc.summary)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			for _, h := range []string{"Date", "X-Okta-Request-Id", "X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset"} {
				if tc.path == "/api/v1/nothing" && strings.HasPrefix(h, "X-Rate") {
					continue
				}
				if r.header.Get(h) == "" {
					t.Errorf("header %s missing", h)
				}
			}
		})
	}
}

func TestCreateUserScenarios(t *testing.T) {
	hook := map[string]any{"password": map[string]any{"hook": map[string]any{"type": "default"}}}
	pw := map[string]any{"password": map[string]any{"value": "S3cret-pass"}}
	tests := []struct {
		name         string
		query        string
		creds        map[string]any
		status       string
		provider     string
		wantPassword bool
	}{
		{"hook staged", "?activate=false", hook, "STAGED", "IMPORT", true},
		{"hook activate default true", "", hook, "ACTIVE", "IMPORT", true},
		{"password active", "?activate=true", pw, "ACTIVE", "OKTA", true},
		{"no credentials staged", "?activate=false", nil, "STAGED", "OKTA", false},
		{"no credentials activated", "?activate=true", nil, "PROVISIONED", "OKTA", false},
		{"password expired at next login", "?activate=true&nextLogin=changePassword", pw, "PASSWORD_EXPIRED", "OKTA", true},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, fakeokta.Options{})
			login := "user" + string(rune('a'+i)) + "@example.com"
			body := map[string]any{"profile": profile(login)}
			if tc.creds != nil {
				body["credentials"] = tc.creds
			}
			r := e.do("POST", "/api/v1/users"+tc.query, body)
			r.wantStatus(t, 200, "")
			if r.obj["status"] != tc.status {
				t.Errorf("status = %v, want %s", r.obj["status"], tc.status)
			}
			if p := path(r.obj, "credentials", "provider", "type"); p != tc.provider {
				t.Errorf("provider.type = %v, want %s", p, tc.provider)
			}
			if p := path(r.obj, "credentials", "provider", "name"); p != tc.provider {
				t.Errorf("provider.name = %v, want %s", p, tc.provider)
			}
			_, hasPw := path(r.obj, "credentials").(map[string]any)["password"]
			if hasPw != tc.wantPassword {
				t.Errorf("credentials.password present = %v, want %v", hasPw, tc.wantPassword)
			}
			if hasPw && len(path(r.obj, "credentials", "password").(map[string]any)) != 0 {
				t.Errorf("password is write-only, got %v", path(r.obj, "credentials", "password"))
			}
			id, _ := r.obj["id"].(string)
			if !regexp.MustCompile(`^00u[0-9A-Za-z]{17}$`).MatchString(id) {
				t.Errorf("id = %q, want 20 characters starting 00u", id)
			}
			if got := path(r.obj, "_links", "self", "href"); got != e.url+"/api/v1/users/"+id {
				t.Errorf("_links.self = %v", got)
			}
			for _, k := range []string{"created", "lastUpdated"} {
				if s, _ := r.obj[k].(string); !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`).MatchString(s) {
					t.Errorf("%s = %v, want Okta timestamp", k, r.obj[k])
				}
			}
			for _, k := range []string{"activated", "statusChanged", "lastLogin"} {
				if v, ok := r.obj[k]; !ok || v != nil {
					t.Errorf("%s = %v (present %v), want null as in the OAS example", k, v, ok)
				}
			}
			if got := path(r.obj, "profile", "login"); got != login {
				t.Errorf("profile.login = %v", got)
			}
		})
	}
}

func TestCreateUserValidation(t *testing.T) {
	e := newEnv(t, fakeokta.Options{ProfileAttributes: []string{"entraObjectId"}})
	e.do("POST", "/api/v1/users?activate=false", hookUser("Isaac.Brock@Example.com")).wantStatus(t, 200, "")
	long := strings.Repeat("x", 51)
	tests := []struct {
		name    string
		profile map[string]any
		summary string
		cause   string
	}{
		{"duplicate login", profile("isaac.brock@example.com"), "Api validation failed: login",
			"login: An object with this field already exists in the current organization"},
		{"duplicate login differing by diacritics", profile("ísaac.bröck@example.com"), "Api validation failed: login",
			"login: An object with this field already exists in the current organization"},
		{"login not an email", map[string]any{"login": "isaac", "email": "i@example.com", "firstName": "I", "lastName": "B"},
			"Api validation failed: login", "login: Username must be in the form of an email address"},
		{"login too short", map[string]any{"login": "a@b", "email": "i@example.com", "firstName": "I", "lastName": "B"},
			"Api validation failed: login", "login: The field must be between 5 and 100 characters"},
		{"firstName too long", map[string]any{"login": "x1@example.com", "email": "x1@example.com", "firstName": long, "lastName": "B"},
			"Api validation failed: firstName", "firstName: The field must be between 1 and 50 characters"},
		{"missing lastName", map[string]any{"login": "x2@example.com", "email": "x2@example.com", "firstName": "A"},
			"Api validation failed: lastName", "lastName: The field cannot be left blank"},
		{"bad email", map[string]any{"login": "x3@example.com", "email": "nope", "firstName": "A", "lastName": "B"},
			"Api validation failed: email", "email: The field must be between 5 and 100 characters"},
		{"undefined attribute", map[string]any{"login": "x4@example.com", "email": "x4@example.com", "firstName": "A", "lastName": "B", "shoeSize": "9"},
			"Api validation failed: shoeSize", "shoeSize: Property name 'shoeSize' is not defined in profile"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", "/api/v1/users?activate=false", map[string]any{"profile": tc.profile})
			r.wantStatus(t, 400, "E0000001")
			if r.obj["errorSummary"] != tc.summary {
				t.Errorf("errorSummary = %q, want %q", r.obj["errorSummary"], tc.summary)
			}
			if !slices.Contains(r.causes(), tc.cause) {
				t.Errorf("causes = %q, want %q", r.causes(), tc.cause)
			}
		})
	}
	t.Run("custom attribute defined in the schema", func(t *testing.T) {
		p := profile("x5@example.com")
		p["entraObjectId"] = "0000-1111"
		e.do("POST", "/api/v1/users?activate=false", map[string]any{"profile": p}).wantStatus(t, 200, "")
	})
}

func TestGetUserByIDLoginAndShortName(t *testing.T) {
	e := newEnv(t, fakeokta.Options{})
	created := e.do("POST", "/api/v1/users?activate=false", hookUser("isaac+brock@example.com"))
	created.wantStatus(t, 200, "")
	id := created.obj["id"].(string)
	for _, key := range []string{id, "isaac+brock@example.com", url.PathEscape("ISAAC+Brock@Example.com"),
		"isaac%2Bbrock%40example.com", "isaac+brock"} {
		t.Run(key, func(t *testing.T) {
			r := e.do("GET", "/api/v1/users/"+key, nil)
			r.wantStatus(t, 200, "")
			if r.obj["id"] != id {
				t.Errorf("id = %v, want %s", r.obj["id"], id)
			}
			if r.header.Get("ETag") == "" {
				t.Error("no ETag")
			}
		})
	}
}

func TestUpdateUser(t *testing.T) {
	e := newEnv(t, fakeokta.Options{})
	seed, err := e.srv.SeedUser(fakeokta.SeedUser{Profile: map[string]any{"login": "a@example.com", "email": "a@example.com",
		"firstName": "Ann", "lastName": "Lee", "mobilePhone": "555"}, Status: fakeokta.StatusActive, Password: "Old-password1"})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("partial merge keeps other fields", func(t *testing.T) {
		r := e.do("POST", "/api/v1/users/"+seed.ID, map[string]any{"profile": map[string]any{"firstName": "Anne"}})
		r.wantStatus(t, 200, "")
		if path(r.obj, "profile", "firstName") != "Anne" || path(r.obj, "profile", "mobilePhone") != "555" {
			t.Errorf("profile = %v", r.obj["profile"])
		}
	})
	t.Run("hook on an ACTIVE OKTA user flips to IMPORT and drops the password", func(t *testing.T) {
		r := e.do("POST", "/api/v1/users/"+seed.ID, map[string]any{"credentials": map[string]any{
			"password": map[string]any{"hook": map[string]any{"type": "default"}}}})
		r.wantStatus(t, 200, "")
		if path(r.obj, "credentials", "provider", "type") != "IMPORT" || r.obj["status"] != "ACTIVE" {
			t.Errorf("answer = %s", r.raw)
		}
		if e.srv.CheckPassword("a@example.com", "Old-password1") {
			t.Error("old password still accepted")
		}
	})
	t.Run("hook type must be default", func(t *testing.T) {
		e.do("POST", "/api/v1/users/"+seed.ID, map[string]any{"credentials": map[string]any{
			"password": map[string]any{"hook": map[string]any{"type": "other"}}}}).wantStatus(t, 400, "E0000001")
	})
	t.Run("login change to a taken login conflicts", func(t *testing.T) {
		if _, err := e.srv.SeedUser(fakeokta.SeedUser{Profile: profile("b@example.com")}); err != nil {
			t.Fatal(err)
		}
		e.do("POST", "/api/v1/users/"+seed.ID, map[string]any{"profile": map[string]any{"login": "B@example.com"}}).
			wantStatus(t, 400, "E0000001")
	})
	t.Run("PUT replaces the profile", func(t *testing.T) {
		r := e.do("PUT", "/api/v1/users/"+seed.ID, map[string]any{"profile": profile("a@example.com")})
		r.wantStatus(t, 200, "")
		if _, ok := path(r.obj, "profile").(map[string]any)["mobilePhone"]; ok {
			t.Errorf("mobilePhone survived PUT: %v", r.obj["profile"])
		}
	})
	t.Run("PUT without required fields fails", func(t *testing.T) {
		e.do("PUT", "/api/v1/users/"+seed.ID, map[string]any{"profile": map[string]any{"login": "a@example.com"}}).
			wantStatus(t, 400, "E0000001")
	})
	t.Run("unknown user", func(t *testing.T) {
		e.do("POST", "/api/v1/users/00unknown", map[string]any{"profile": map[string]any{}}).wantStatus(t, 404, "E0000007")
	})
}

func TestLifecycle(t *testing.T) {
	e := newEnv(t, fakeokta.Options{})
	staged := e.do("POST", "/api/v1/users?activate=false", hookUser("s@example.com")).obj["id"].(string)
	prov := e.do("POST", "/api/v1/users?activate=true", map[string]any{"profile": profile("p@example.com")}).obj["id"].(string)

	r := e.do("POST", "/api/v1/users/"+staged+"/lifecycle/activate?sendEmail=false", nil)
	r.wantStatus(t, 200, "")
	tok, _ := r.obj["activationToken"].(string)
	if tok == "" || r.obj["activationUrl"] != e.url+"/tokens/"+tok+"/verify" {
		t.Errorf("activation answer = %s", r.raw)
	}
	u, _ := e.srv.User(staged)
	if u.Status != fakeokta.StatusActive || u.Activated.IsZero() {
		t.Errorf("after activate: %+v", u)
	}

	steps := []struct {
		name, method, path string
		status             int
		code               string
		wantStatus         string
		wantBody           string
	}{
		{"activate ACTIVE", "POST", "/api/v1/users/" + staged + "/lifecycle/activate?sendEmail=false", 403, "E0000016", "ACTIVE", ""},
		{"activate PROVISIONED", "POST", "/api/v1/users/" + prov + "/lifecycle/activate", 403, "E0000038", "PROVISIONED", ""},
		{"expire password", "POST", "/api/v1/users/" + staged + "/lifecycle/expire_password?tempPassword=false", 200, "", "PASSWORD_EXPIRED", ""},
		{"reset password without email", "POST", "/api/v1/users/" + staged + "/lifecycle/reset_password?sendEmail=false", 200, "", "RECOVERY", "resetPasswordUrl"},
		{"reset password needs sendEmail", "POST", "/api/v1/users/" + staged + "/lifecycle/reset_password", 400, "E0000001", "RECOVERY", ""},
		{"deactivate", "POST", "/api/v1/users/" + staged + "/lifecycle/deactivate", 200, "", "DEPROVISIONED", ""},
		{"deactivate again", "POST", "/api/v1/users/" + staged + "/lifecycle/deactivate", 403, "E0000038", "DEPROVISIONED", ""},
		{"activate DEPROVISIONED (no password since the reset)", "POST", "/api/v1/users/" + staged + "/lifecycle/activate", 200, "", "PROVISIONED", "{}"},
		{"delete deactivates first", "DELETE", "/api/v1/users/" + staged, 204, "", "DEPROVISIONED", ""},
		{"delete again deletes", "DELETE", "/api/v1/users/" + staged, 204, "", "", ""},
		{"gone", "DELETE", "/api/v1/users/" + staged, 404, "E0000007", "", ""},
	}
	for _, st := range steps {
		r := e.do(st.method, st.path, nil)
		r.wantStatus(t, st.status, st.code)
		u, ok := e.srv.User(strings.Split(strings.TrimPrefix(st.path, "/api/v1/users/"), "/")[0])
		if got := map[bool]string{true: u.Status}[ok]; got != st.wantStatus {
			t.Errorf("%s: user status = %q, want %q", st.name, got, st.wantStatus)
		}
		if st.wantBody != "" && !strings.Contains(string(r.raw), st.wantBody) {
			t.Errorf("%s: body %s lacks %s", st.name, r.raw, st.wantBody)
		}
	}
	// reset_password took the user off the import hook.
	if u, _ := e.srv.User(prov); u.ProviderType != "OKTA" {
		t.Errorf("provider = %s", u.ProviderType)
	}
}

func TestListUsersFilterSearchAndPaging(t *testing.T) {
	e := newEnv(t, fakeokta.Options{})
	var ids []string
	for _, l := range []string{"ann@example.com", "bob@example.com", "cid@example.com", "dan@example.com", "eve@other.com"} {
		ids = append(ids, e.do("POST", "/api/v1/users?activate=false", hookUser(l)).obj["id"].(string))
	}
	e.do("POST", "/api/v1/users/"+ids[1]+"/lifecycle/activate?sendEmail=false", nil).wantStatus(t, 200, "")
	e.do("POST", "/api/v1/users/"+ids[4]+"/lifecycle/deactivate", nil).wantStatus(t, 200, "")

	logins := func(r resp) []string {
		var out []string
		for _, u := range r.arr {
			out = append(out, path(u.(map[string]any), "profile", "login").(string))
		}
		slices.Sort(out)
		return out
	}
	tests := []struct {
		name  string
		query string
		want  []string
	}{
		{"default omits DEPROVISIONED", "", []string{"ann@example.com", "bob@example.com", "cid@example.com", "dan@example.com"}},
		{"filter login eq, case-insensitive", `filter=profile.login eq "BOB@example.com"`, []string{"bob@example.com"}},
		{"filter status", `filter=status eq "ACTIVE"`, []string{"bob@example.com"}},
		{"filter DEPROVISIONED included", `filter=status eq "DEPROVISIONED"`, []string{"eve@other.com"}},
		{"filter or", `filter=profile.login eq "ann@example.com" or profile.email eq "cid@example.com"`, []string{"ann@example.com", "cid@example.com"}},
		{"filter and", `filter=status eq "STAGED" and profile.login eq "ann@example.com"`, []string{"ann@example.com"}},
		{"filter id", `filter=id eq "` + ids[3] + `"`, []string{"dan@example.com"}},
		{"search sw", `search=profile.email sw "e"`, []string{"eve@other.com"}},
		{"q prefix", `q=da`, []string{"dan@example.com"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, _ := url.ParseQuery(tc.query)
			r := e.do("GET", "/api/v1/users?"+v.Encode(), nil)
			r.wantStatus(t, 200, "")
			if got := logins(r); !slices.Equal(got, tc.want) {
				t.Errorf("logins = %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("unsupported filter", func(t *testing.T) {
		e.do("GET", "/api/v1/users?"+url.Values{"filter": {`profile.city eq "x"`}}.Encode(), nil).wantStatus(t, 400, "E0000031")
		e.do("GET", "/api/v1/users?"+url.Values{"filter": {`profile.login eq`}}.Encode(), nil).wantStatus(t, 400, "E0000031")
	})
	t.Run("paging with Link headers", func(t *testing.T) {
		var got []string
		next := e.url + "/api/v1/users?limit=2"
		pages := 0
		for next != "" {
			r := e.do("GET", strings.TrimPrefix(next, e.url), nil)
			r.wantStatus(t, 200, "")
			pages++
			got = append(got, logins(r)...)
			next = ""
			links := r.header.Values("Link")
			if !slices.ContainsFunc(links, func(l string) bool { return strings.HasSuffix(l, `rel="self"`) }) {
				t.Errorf("no self link in %q", links)
			}
			for _, l := range links {
				if strings.HasSuffix(l, `rel="next"`) {
					next = strings.TrimSuffix(strings.TrimPrefix(l, "<"), `>; rel="next"`)
				}
			}
		}
		slices.Sort(got)
		if pages != 2 || len(got) != 4 {
			t.Errorf("pages = %d, users = %v", pages, got)
		}
	})
}

func TestRateLimitBuckets(t *testing.T) {
	c := newClock()
	// The org-wide quota alone: the token may use the whole bucket (a share
	// of 100 %; TestTokenRateShare covers the default 50 %).
	e := newEnv(t, fakeokta.Options{Now: c.Now, RateLimits: map[fakeokta.Bucket]int{fakeokta.BucketUsers: 2}, TokenRateShare: 100})
	for i := range 2 {
		r := e.do("GET", "/api/v1/users", nil)
		r.wantStatus(t, 200, "")
		if r.header.Get("X-Rate-Limit-Limit") != "2" || r.header.Get("X-Rate-Limit-Remaining") != strconv.Itoa(1-i) {
			t.Errorf("call %d: limit %s remaining %s", i, r.header.Get("X-Rate-Limit-Limit"), r.header.Get("X-Rate-Limit-Remaining"))
		}
	}
	r := e.do("POST", "/api/v1/users", hookUser("x@example.com"))
	r.wantStatus(t, 429, "E0000047")
	if r.header.Get("X-Rate-Limit-Remaining") != "0" {
		t.Errorf("remaining = %s", r.header.Get("X-Rate-Limit-Remaining"))
	}
	wantReset := c.Now().Unix() + 60
	if r.header.Get("X-Rate-Limit-Reset") != strconv.FormatInt(wantReset, 10) {
		t.Errorf("reset = %s, want %d", r.header.Get("X-Rate-Limit-Reset"), wantReset)
	}
	if r.header.Get("Date") != c.Now().Format(http.TimeFormat) {
		t.Errorf("Date = %s, want the emulator clock", r.header.Get("Date"))
	}
	// Other buckets are independent.
	e.do("GET", "/api/v1/users/x@example.com", nil).wantStatus(t, 404, "E0000007")
	c.Add(60e9)
	e.do("GET", "/api/v1/users", nil).wantStatus(t, 200, "")
}
