package fakeentra

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// writeJSON writes v as a JSON body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// tenantFor resolves an authority path segment: a tenant ID or one of its
// domain names. "organizations" resolves to "" with ok (the user's domain
// picks the tenant). Callers hold s.mu.
func (s *Server) tenantFor(seg string) (t *tenant, special string) {
	k := strings.ToLower(seg)
	switch k {
	case "common", "consumers", "organizations":
		return nil, k
	}
	if t := s.tenants[k]; t != nil {
		return t, ""
	}
	return s.domains[k], ""
}

// handleOpenIDConfig serves the tenant's OpenID configuration with the issuer
// on the same host (MSAL checks that the issuer matches the authority).
func (s *Server) handleOpenIDConfig(w http.ResponseWriter, r *http.Request) {
	seg := r.PathValue("tenant")
	s.mu.Lock()
	t, special := s.tenantFor(seg)
	s.mu.Unlock()
	base := baseURL(r)
	tid := "{tenantid}" // the literal placeholder of the real common documents
	switch {
	case t != nil:
		tid = t.ID
	case special == "":
		e := aadError(90002)
		e.args = []any{seg}
		e.err = "invalid_tenant"
		writeAADError(w, r, s.opts.Now(), e)
		return
	}
	auth := base + "/" + seg
	writeJSON(w, http.StatusOK, map[string]any{
		"token_endpoint":                        auth + "/oauth2/v2.0/token",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"jwks_uri":                              auth + "/discovery/v2.0/keys",
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"issuer":                                base + "/" + tid + "/v2.0",
		"request_uri_parameter_supported":       false,
		"userinfo_endpoint":                     "https://graph.microsoft.com/oidc/userinfo",
		"authorization_endpoint":                auth + "/oauth2/v2.0/authorize",
		"device_authorization_endpoint":         auth + "/oauth2/v2.0/devicecode",
		"http_logout_supported":                 true,
		"frontchannel_logout_supported":         true,
		"end_session_endpoint":                  auth + "/oauth2/v2.0/logout",
		"claims_supported":                      []string{"sub", "iss", "aud", "exp", "iat", "nbf", "name", "oid", "tid", "preferred_username"},
		"kerberos_endpoint":                     auth + "/kerberos",
		"tenant_region_scope":                   "NA",
		"cloud_instance_name":                   "microsoftonline.com",
		"cloud_graph_host_name":                 "graph.windows.net",
		"msgraph_host":                          "graph.microsoft.com",
		"rbac_url":                              "https://pas.windows.net",
	})
}

// handleInstanceDiscovery answers MSAL's instance discovery for this host.
func (s *Server) handleInstanceDiscovery(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ae, err := url.Parse(q.Get("authorization_endpoint"))
	if q.Get("authorization_endpoint") == "" || err != nil || ae.Host != r.Host {
		writeJSON(w, http.StatusBadRequest, map[string]any{
			"error":             "invalid_instance",
			"error_description": "AADSTS50049: Unknown or invalid instance.",
			"error_codes":       []int{50049},
		})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"tenant_discovery_endpoint": baseURL(r) + "/{tenant}/v2.0/.well-known/openid-configuration",
		"api-version":               "1.1",
		"metadata": []map[string]any{{
			"preferred_network": r.Host,
			"preferred_cache":   r.Host,
			"aliases":           []string{r.Host},
		}},
	})
}

// handleUserRealm answers GET /common/UserRealm/{user}?api-version=1.0
// (what MSAL asks before every ROPC call): Managed, Federated with the
// federation fields, or a realm
// without domain_name for an unknown domain. The federation endpoints point at
// this host, where they 404, so a client that follows them fails fast on
// loopback instead of reaching the network.
func (s *Server) handleUserRealm(w http.ResponseWriter, r *http.Request) {
	username := requestUser(r, RouteUserRealm)
	s.mu.Lock()
	t := s.domains[domainOf(username)]
	var d Domain
	if t != nil {
		for _, x := range t.domains {
			if strings.EqualFold(x.Name, domainOf(username)) {
				d = *x
			}
		}
	}
	s.mu.Unlock()
	if t == nil {
		writeJSON(w, http.StatusOK, map[string]any{
			"ver":                 "1.0",
			"account_type":        "Unknown",
			"cloud_instance_name": "microsoftonline.com",
		})
		return
	}
	if d.Federated {
		writeJSON(w, http.StatusOK, map[string]any{
			"ver":                        "1.0",
			"account_type":               "Federated",
			"domain_name":                d.Name,
			"federation_protocol":        "WSTrust",
			"federation_metadata_url":    baseURL(r) + "/adfs/services/trust/mex",
			"federation_active_auth_url": baseURL(r) + "/adfs/services/trust/2005/usernamemixed",
			"cloud_instance_name":        "microsoftonline.com",
			"cloud_audience_urn":         "urn:federation:MicrosoftOnline",
		})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"ver":                 "1.0",
		"account_type":        "Managed",
		"domain_name":         d.Name,
		"cloud_instance_name": "microsoftonline.com",
		"cloud_audience_urn":  "urn:federation:MicrosoftOnline",
	})
}

// aadErr is one token-endpoint error.
type aadErr struct {
	code     int
	err      string
	status   int
	suberror string
	text     string
	args     []any
	extra    map[string]any
}

// aadErrors are the documented AADSTS answers (texts from
// https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes). RFC 6749 §5.2: 400 for every error except
// invalid_client, which is 401.
var aadErrors = map[int]aadErr{
	50126:   {err: "invalid_grant", text: "Error validating credentials due to invalid username or password."},
	50034:   {err: "invalid_grant", text: "The user account {EmailHidden} does not exist in the %s directory. To sign into this application, the account must be added to the directory."},
	50053:   {err: "unauthorized_client", text: "Your account is locked because you've tried to sign in too many times with an incorrect user ID or password."},
	50055:   {err: "user_password_expired", suberror: "user_password_expired", text: "The password is expired."},
	50056:   {err: "invalid_grant", text: "Invalid or null password: password doesn't exist in the directory for this user."},
	50057:   {err: "invalid_grant", text: "The user account is disabled."},
	50076:   {err: "invalid_grant", suberror: "basic_action", text: "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '00000003-0000-0000-c000-000000000000'."},
	50079:   {err: "invalid_grant", suberror: "basic_action", text: "Due to a configuration change made by your administrator, or because you moved to a new location, you must enroll in multi-factor authentication to access '00000003-0000-0000-c000-000000000000'."},
	50074:   {err: "invalid_grant", suberror: "basic_action", text: "Strong Authentication is required."},
	50158:   {err: "interaction_required", suberror: "basic_action", text: "External security challenge not satisfied. User will be redirected to another page or authentication provider to satisfy additional authentication challenges."},
	53003:   {err: "interaction_required", suberror: "message_only", text: "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance."},
	50135:   {err: "invalid_grant", text: "Password change is required due to account risk."},
	50105:   {err: "invalid_grant", text: "Your administrator has configured the application to block users unless they are specifically granted ('assigned') access to the application. The signed in user is blocked because they are not a direct member of a group with access, nor had access directly assigned by an administrator."},
	50196:   {err: "invalid_grant", text: "The server terminated an operation because it encountered a client request loop. Please contact your app vendor."},
	65001:   {err: "invalid_grant", suberror: "consent_required", text: "The user or administrator has not consented to use the application with ID '%s'. Send an interactive authorization request for this user and resource."},
	700016:  {err: "unauthorized_client", text: "Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."},
	700025:  {err: "invalid_client", status: 401, text: "Client is public so neither 'client_assertion' nor 'client_secret' should be presented."},
	7000218: {err: "invalid_client", status: 401, text: "The request body must contain the following parameter: 'client_assertion' or 'client_secret'."},
	7000215: {err: "invalid_client", status: 401, text: "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'."},
	9001023: {err: "invalid_request", text: "The grant type isn't supported over the /common or /consumers endpoints. Please use the /organizations or tenant-specific endpoint."},
	90002:   {err: "invalid_request", text: "Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."},
	900144:  {err: "invalid_request", text: "The request body must contain the following parameter: '%s'."},
	70003:   {err: "unsupported_grant_type", text: "The app requested an unsupported grant type '%s'."},
	70011:   {err: "invalid_scope", text: "The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid."},
	90033:   {err: "temporarily_unavailable", status: 503, text: "A transient error has occurred. Please try again."},
}

// aadError returns the documented error for code (a generic invalid_grant for
// codes not in the table).
func aadError(code int) aadErr {
	e, ok := aadErrors[code]
	if !ok {
		e = aadErr{err: "invalid_grant", text: "Emulated error."}
	}
	e.code = code
	if e.status == 0 {
		e.status = http.StatusBadRequest
	}
	return e
}

// writeAADError writes Microsoft's token-endpoint error JSON
// (https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes):
// error, error_description "AADSTSnnnnn: text\r\nTrace ID: ..\r\nCorrelation
// ID: ..\r\nTimestamp: ..", error_codes, timestamp, trace_id, correlation_id,
// error_uri, and suberror/password_change_url where documented.
func writeAADError(w http.ResponseWriter, r *http.Request, now time.Time, e aadErr) {
	text := e.text
	if strings.Contains(text, "%s") {
		args := e.args
		for strings.Count(text, "%s") > len(args) {
			args = append(args, "")
		}
		text = fmt.Sprintf(text, args...)
	}
	trace := newID()
	corr := r.Header.Get("client-request-id")
	if corr == "" {
		corr = newID()
	}
	ts := now.UTC().Format("2006-01-02 15:04:05Z")
	body := map[string]any{
		"error": e.err,
		"error_description": fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s",
			e.code, text, trace, corr, ts),
		"error_codes":    []int{e.code},
		"timestamp":      ts,
		"trace_id":       trace,
		"correlation_id": corr,
		"error_uri":      fmt.Sprintf("https://login.microsoftonline.com/error?code=%d", e.code),
	}
	if e.suberror != "" {
		body["suberror"] = e.suberror
	}
	for k, v := range e.extra {
		body[k] = v
	}
	if e.code == 50055 {
		body["password_change_url"] = "https://portal.microsoftonline.com/ChangePassword.aspx"
	}
	w.Header().Set("x-ms-request-id", trace)
	w.Header().Set("x-ms-ests-server", "fakeentra")
	if e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="`+r.Host+`"`)
	}
	writeJSON(w, e.status, body)
}

// writeTokenFault answers a scripted AADSTS code on the token endpoint.
func (s *Server) writeTokenFault(w http.ResponseWriter, r *http.Request, code int) {
	e := aadError(code)
	s.logToken(r, code, e.status)
	writeAADError(w, r, s.opts.Now(), e)
}

// logToken records the token request without any secret value.
func (s *Server) logToken(r *http.Request, code, status int) {
	_ = r.ParseForm()
	f := r.PostForm
	fields := make([]string, 0, len(f))
	for k := range f {
		fields = append(fields, k)
	}
	slices.Sort(fields)
	_, _, basic := r.BasicAuth()
	seg := strings.Split(strings.Trim(r.URL.Path, "/"), "/")[0]
	s.tokenLog.Append(TokenRequest{
		Tenant:          seg,
		GrantType:       f.Get("grant_type"),
		ClientID:        clientIDOf(r),
		Username:        f.Get("username"),
		Scope:           f.Get("scope"),
		Fields:          fields,
		HasPassword:     f.Has("password"),
		HasClientSecret: f.Has("client_secret") || basic,
		AADSTS:          code,
		Status:          status,
	})
}

func clientIDOf(r *http.Request) string {
	if id := r.PostForm.Get("client_id"); id != "" {
		return id
	}
	if id, _, ok := r.BasicAuth(); ok {
		return id
	}
	return ""
}

// oidcScopes are the scopes MSAL appends and Entra handles itself.
var oidcScopes = map[string]bool{"openid": true, "profile": true, "offline_access": true, "email": true}

// shortScope turns https://graph.microsoft.com/User.Read into User.Read, as
// Entra echoes scopes (its documented answer to user.read is
// "User.Read profile openid email": https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth-ropc).
func shortScope(sc string) string {
	if i := strings.LastIndexByte(sc, '/'); i >= 0 && strings.Contains(sc, "://") {
		return sc[i+1:]
	}
	return sc
}

// handleToken serves POST /{tenant}/oauth2/v2.0/token.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	now := s.opts.Now()
	fail := func(code int, args ...any) {
		e := aadError(code)
		e.args = args
		s.logToken(r, code, e.status)
		writeAADError(w, r, now, e)
	}
	if err := r.ParseForm(); err != nil {
		fail(900144, "grant_type")
		return
	}
	f := r.PostForm
	seg := r.PathValue("tenant")
	grant := f.Get("grant_type")
	if grant == "" {
		fail(900144, "grant_type")
		return
	}
	s.mu.Lock()
	t, special := s.tenantFor(seg)
	s.mu.Unlock()
	if special == "common" || special == "consumers" {
		fail(9001023)
		return
	}
	if t == nil && special == "" {
		fail(90002, seg)
		return
	}
	switch grant {
	case "password":
		s.tokenPassword(w, r, t, fail)
	case "client_credentials":
		if t == nil {
			fail(9001023)
			return
		}
		s.tokenClientCredentials(w, r, t, fail)
	default:
		fail(70003, grant)
	}
}

// checkClient validates the client and its authentication. It returns false
// after writing the error.
func (s *Server) checkClient(r *http.Request, t *tenant, tenantName string, fail func(int, ...any)) (*Client, bool) {
	id := clientIDOf(r)
	if id == "" {
		fail(900144, "client_id")
		return nil, false
	}
	s.mu.Lock()
	c := s.clients[id]
	s.mu.Unlock()
	if c == nil || (c.TenantID != "" && t != nil && !strings.EqualFold(c.TenantID, t.ID)) {
		fail(700016, id, tenantName)
		return nil, false
	}
	_, basicSecret, basic := r.BasicAuth()
	secret := r.PostForm.Get("client_secret")
	hasSecret := r.PostForm.Has("client_secret") || basic || r.PostForm.Has("client_assertion")
	if basic {
		secret = basicSecret
	}
	if c.Public {
		if hasSecret {
			fail(700025)
			return nil, false
		}
		return c, true
	}
	if !hasSecret {
		fail(7000218)
		return nil, false
	}
	if !hmac.Equal([]byte(secret), []byte(c.Secret)) {
		fail(7000215, c.ID)
		return nil, false
	}
	return c, true
}

// tokenPassword implements the ROPC grant with the per-user states and smart
// lockout (https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth-ropc,
// https://learn.microsoft.com/en-us/entra/identity/authentication/howto-password-smart-lockout).
func (s *Server) tokenPassword(w http.ResponseWriter, r *http.Request, t *tenant, fail func(int, ...any)) {
	f := r.PostForm
	username, password := f.Get("username"), f.Get("password")
	if t == nil { // organizations: the user's domain picks the tenant
		s.mu.Lock()
		t = s.domains[domainOf(username)]
		s.mu.Unlock()
	}
	tenantName := ""
	if t != nil {
		tenantName = t.ID
		if t.DisplayName != "" {
			tenantName = t.DisplayName
		}
	}
	c, ok := s.checkClient(r, t, tenantName, fail)
	if !ok {
		return
	}
	if username == "" {
		fail(900144, "username")
		return
	}
	if password == "" { // ESTS treats an empty parameter as a missing one
		fail(900144, "password")
		return
	}
	requested := strings.Fields(f.Get("scope"))
	ip, _, _ := net.SplitHostPort(r.RemoteAddr)
	code, u := s.authenticate(t, username, password, ip)
	if code != 0 {
		if code == 50034 {
			fail(code, tenantName)
			return
		}
		fail(code)
		return
	}
	// Consent is checked once the user is authenticated.
	var granted []string
	for _, sc := range requested {
		short := shortScope(sc)
		if oidcScopes[strings.ToLower(short)] {
			continue
		}
		if strings.EqualFold(short, ".default") {
			granted = append(granted, c.ConsentedScopes...)
			continue
		}
		i := slices.IndexFunc(c.ConsentedScopes, func(x string) bool { return strings.EqualFold(x, short) })
		if i < 0 {
			fail(65001, c.ID)
			return
		}
		granted = append(granted, c.ConsentedScopes[i])
	}
	s.logToken(r, 0, http.StatusOK)
	now := s.opts.Now()
	scope := strings.Join(append(granted, "profile", "openid", "email"), " ")
	s.mu.Lock()
	oid, upn, tid := u.ID, u.UserPrincipalName, u.tenant.ID
	name, _ := u.Attributes["displayName"].(string)
	s.mu.Unlock()
	iss := baseURL(r) + "/" + tid + "/v2.0"
	exp := now.Add(3599 * time.Second)
	idClaims := map[string]any{
		"aud": c.ID, "iss": iss, "iat": now.Unix(), "nbf": now.Unix(), "exp": exp.Unix(),
		"name": name, "oid": oid, "preferred_username": upn, "sub": deterministicID("sub", c.ID, oid),
		"tid": tid, "ver": "2.0",
	}
	at := s.mintToken(map[string]any{
		"aud": "00000003-0000-0000-c000-000000000000", "iss": "https://sts.windows.net/" + tid + "/",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": exp.Unix(), "oid": oid, "tid": tid, "upn": upn,
		"appid": c.ID, "scp": strings.Join(granted, " "), "ver": "1.0",
	})
	ci, _ := json.Marshal(map[string]string{"uid": oid, "utid": tid})
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type":     "Bearer",
		"scope":          scope,
		"expires_in":     3599,
		"ext_expires_in": 3599,
		"access_token":   at,
		"refresh_token":  "1.AAAA" + base64.RawURLEncoding.EncodeToString(randomBytes(48)),
		"id_token":       s.mintToken(idClaims),
		"client_info":    base64.RawURLEncoding.EncodeToString(ci),
	})
}

// authenticate decides the ROPC outcome for a user: 0 with the user on
// success, else the AADSTS code. It runs the smart-lockout model.
func (s *Server) authenticate(t *tenant, username, password, ip string) (int, *user) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	if s.ipBlocked || s.ipLocked(ip, now) {
		return 50053, nil
	}
	if t == nil {
		return 50034, nil
	}
	dom := domainOf(username)
	var d *Domain
	for _, x := range t.domains {
		if strings.EqualFold(x.Name, dom) {
			d = x
		}
	}
	u := t.byUPN[strings.ToLower(username)]
	if d != nil && d.Federated && !d.AllowCloudPasswordValidation {
		// Without AllowCloudPasswordValidation Entra cannot validate a
		// federated user's password: 50126 even when it is right (HDInsight doc).
		return 50126, nil
	}
	if u == nil || u.tenant != t {
		return 50034, nil
	}
	if u.State == StateLocked {
		return 50053, nil
	}
	lk := s.lockoutFor(u.UserPrincipalName)
	if lk.lockedAt(now) {
		return 50053, nil
	}
	if u.Disabled {
		return 50057, nil
	}
	if u.Password == "" {
		return 50056, nil
	}
	if code := mfaStates[u.State]; s.opts.MFAFirst && code != 0 {
		// A tenant that demands MFA before it checks the password: the
		// same answer whatever the password.
		return code, nil
	}
	// ROPC does not support passwords with leading or trailing spaces
	// (https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth-ropc):
	// such a password never matches, even when it is the user's.
	if password != strings.TrimSpace(password) || !hmac.Equal([]byte(password), []byte(u.Password)) {
		if lk.fail(password, now, s.opts.LockoutThreshold, s.opts.LockoutDuration, s.opts.CountRepeatedPasswords) {
			s.ipFailed(ip, now)
		}
		return 50126, nil
	}
	lk.succeed()
	switch u.State {
	case StateMFARequired:
		return 50076, nil
	case StateMFAEnrollment:
		return 50079, nil
	case StateMFAInterrupt:
		return 50074, nil
	case StateExternalChallenge:
		return 50158, nil
	case StatePasswordExpired:
		return 50055, nil
	case StateConditionalAccess:
		return 53003, nil
	case StateCompromised:
		return 50135, nil
	case StateNotAssigned:
		return 50105, nil
	}
	return 0, u
}

// mfaStates are the MFA interrupts by user state, for Options.MFAFirst.
var mfaStates = map[State]int{StateMFARequired: 50076, StateMFAEnrollment: 50079, StateMFAInterrupt: 50074}

// tokenClientCredentials implements client credentials for Graph.
func (s *Server) tokenClientCredentials(w http.ResponseWriter, r *http.Request, t *tenant, fail func(int, ...any)) {
	c, ok := s.checkClient(r, t, t.ID, fail)
	if !ok {
		return
	}
	if c.Public {
		fail(7000218)
		return
	}
	resource := ""
	for _, sc := range strings.Fields(r.PostForm.Get("scope")) {
		if strings.HasSuffix(sc, "/.default") {
			resource = strings.TrimSuffix(sc, "/.default")
		}
	}
	if resource == "" {
		fail(70011)
		return
	}
	s.logToken(r, 0, http.StatusOK)
	now := s.opts.Now()
	at := s.mintToken(map[string]any{
		"aud": resource, "iss": "https://sts.windows.net/" + t.ID + "/", "iat": now.Unix(), "nbf": now.Unix(),
		"exp": now.Add(3599 * time.Second).Unix(), "tid": t.ID, "appid": c.ID, "roles": []string{"User.Read.All", "Group.Read.All", "Domain.Read.All"},
		"ver": "1.0",
	})
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type":     "Bearer",
		"expires_in":     3599,
		"ext_expires_in": 3599,
		"access_token":   at,
	})
}

// mintToken returns a JWT (HS256 over the server's random key) carrying
// claims. Clients do not check the signature (MSAL Go does not verify the
// id_token's); Graph checks it
// to recognise tokens this emulator issued.
func (s *Server) mintToken(claims map[string]any) string {
	hdr, _ := json.Marshal(map[string]string{"typ": "JWT", "alg": "HS256", "kid": "fakeentra"})
	pl, _ := json.Marshal(claims)
	msg := base64.RawURLEncoding.EncodeToString(hdr) + "." + base64.RawURLEncoding.EncodeToString(pl)
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(msg))
	return msg + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// verifyToken checks that tok is an unexpired token this server minted and
// returns its claims, or Graph's message for the failure.
func (s *Server) verifyToken(tok string) (map[string]any, string) {
	const invalid = "Access token validation failure. Invalid audience."
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, "IDX14100: JWT is not well formed, there are no dots (.)."
	}
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(parts[0] + "." + parts[1]))
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, m.Sum(nil)) {
		return nil, invalid
	}
	pl, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, invalid
	}
	var claims map[string]any
	if json.Unmarshal(pl, &claims) != nil {
		return nil, invalid
	}
	exp, _ := claims["exp"].(float64)
	if int64(exp) < s.opts.Now().Unix() {
		return nil, "Lifetime validation failed, the token is expired."
	}
	return claims, ""
}
