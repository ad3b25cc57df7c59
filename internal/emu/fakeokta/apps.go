package fakeokta

import (
	"errors"
	"net/http"
	"strings"
	"time"
)

// Apps: just enough of the Applications API for an app assignment to write
// the System Log event application.user_membership.add (OAS
// assignUserToApplication). Apps are seeded with AddApp; there is no app
// CRUD, provisioning or app-user profile mapping.

// EventAppMembershipAdd is written when a user is assigned to an app.
const EventAppMembershipAdd = "application.user_membership.add"

// appState is the emulator's apps (Server.apps), guarded by Server.mu.
type appState struct {
	apps map[string]*app // by id
}

type app struct {
	id, label string
	users     map[string]*appUser // by user id
}

type appUser struct {
	id       string // the AppUser's own id (0ua…), shown in the log event
	userName string
	created  time.Time
}

// AddApp adds an app instance with this label (id "" generates a 0oa… id)
// and returns its id.
func (s *Server) AddApp(id, label string) (string, error) {
	if label == "" {
		return "", errors.New("fakeokta: an app needs a label")
	}
	if id == "" {
		id = oktaID("0oa")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.apps.apps == nil {
		s.apps.apps = map[string]*app{}
	}
	if _, ok := s.apps.apps[id]; ok {
		return "", errors.New("fakeokta: app " + id + " exists")
	}
	s.apps.apps[id] = &app{id: id, label: label, users: map[string]*appUser{}}
	return id, nil
}

// AssignUserToApp assigns the user with this login (or id) to the app, as
// POST /api/v1/apps/{appId}/users does, writing application.user_membership.add.
func (s *Server) AssignUserToApp(appID, login string) error {
	r, err := http.NewRequest(http.MethodPost, "/api/v1/apps/"+appID+"/users", nil)
	if err != nil {
		return err
	}
	r.Header.Set("User-Agent", "fakeokta")
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	a, u, e := s.appAndUserLocked(appID, login)
	if e != nil {
		return e
	}
	s.assignLocked(r, a, u, "", now)
	return nil
}

// AppUsers returns the logins assigned to an app.
func (s *Server) AppUsers(appID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	if a, ok := s.apps.apps[appID]; ok {
		for id := range a.users {
			if u := s.users[id]; u != nil {
				out = append(out, u.login())
			}
		}
	}
	return out
}

func (s *Server) appAndUserLocked(appID, userKey string) (*app, *user, *apiError) {
	a, ok := s.apps.apps[appID]
	if !ok {
		return nil, nil, notFound(appID, "AppInstance")
	}
	u := s.findUser(userKey)
	if u == nil {
		return nil, nil, notFound(userKey, "User")
	}
	if u.status == StatusDeprovisioned {
		return nil, nil, &apiError{status: http.StatusForbidden, code: "E0000038",
			summary: "This operation is not allowed in the user's current status."}
	}
	return a, u, nil
}

// assignLocked assigns u to a; a new assignment writes the log event. The
// caller holds s.mu.
func (s *Server) assignLocked(r *http.Request, a *app, u *user, userName string, now time.Time) *appUser {
	if userName == "" {
		userName = u.login()
	}
	if au, ok := a.users[u.id]; ok {
		au.userName = userName
		return au
	}
	au := &appUser{id: oktaID("0ua"), userName: userName, created: now}
	a.users[u.id] = au
	ue := userEntity(u)
	s.appendEventLocked(r, EventAppMembershipAdd, "Add user to application membership", "SUCCESS", "", adminActor,
		[]LogTarget{
			{ID: au.id, Type: "AppUser", AlternateID: userName, DisplayName: ue.DisplayName},
			{ID: a.id, Type: "AppInstance", AlternateID: a.label, DisplayName: a.label},
			ue,
		}, map[string]any{"appname": a.label})
	return au
}

type appUserIn struct {
	ID          string `json:"id"`
	Scope       string `json:"scope"`
	Credentials *struct {
		UserName string `json:"userName"`
	} `json:"credentials"`
	Profile map[string]any `json:"profile"`
}

// assignUserToApp serves POST /api/v1/apps/{appId}/users (an existing
// assignment is updated and answered the same way, without a new event).
func (s *Server) assignUserToApp(w http.ResponseWriter, r *http.Request) {
	var in appUserIn
	if err := decodeBody(r, &in, true); err != nil {
		s.fail(w, err)
		return
	}
	if strings.TrimSpace(in.ID) == "" {
		s.fail(w, validationFailed("id", "id: The field cannot be left blank"))
		return
	}
	userName := ""
	if in.Credentials != nil {
		userName = in.Credentials.UserName
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	a, u, e := s.appAndUserLocked(r.PathValue("appId"), in.ID)
	if e != nil {
		s.fail(w, e)
		return
	}
	au := s.assignLocked(r, a, u, userName, now)
	profile := in.Profile
	if profile == nil {
		profile = map[string]any{}
	}
	base := info(r).base
	// externalId (null in Okta's examples) is omitted: the schema does not
	// declare it nullable.
	writeJSON(w, http.StatusOK, map[string]any{
		"id": u.id, "created": fmtTime(au.created), "lastUpdated": fmtTime(now),
		"scope": "USER", "status": "ACTIVE", "statusChanged": fmtTime(au.created), "passwordChanged": nil,
		"syncState": "DISABLED", "credentials": map[string]string{"userName": au.userName}, "profile": profile,
		"_links": map[string]any{
			"app":  link{Href: base + "/api/v1/apps/" + a.id},
			"user": link{Href: base + "/api/v1/users/" + u.id},
		},
	})
}
