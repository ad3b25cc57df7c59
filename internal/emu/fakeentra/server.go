// Package fakeentra emulates the parts of Microsoft Entra ID (the authority:
// OpenID configuration, instance discovery, UserRealm, the v2.0 token endpoint
// with ROPC and client credentials) and of Microsoft Graph v1.0 (users, group
// members, managers, domains) that entra2okta talks to. It imports no SDK: it
// speaks the documented wire protocol (https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth-ropc,
// https://learn.microsoft.com/en-us/graph/api/resources/user), so the real MSAL and msgraph-sdk-go clients can
// be driven against it over TLS (Start). Routing, fault rules, the request
// logs and TLS serving come from internal/emu/emukit, shared with
// internal/emu/fakeokta.
//
// State is in memory and safe for concurrent use. Tests seed it (AddTenant,
// AddDomain, AddUser, AddGroup, AddClient, or SeedDemo), inject faults per
// route (InjectFault) and inspect what happened (Requests, TokenRequests,
// TokenLog, GraphLog, Lockout). The emulator never stores a password in clear
// in its logs or inspection records.
package fakeentra

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"entra2okta/internal/emu/emukit"
)

// Route names one endpoint of the emulator, for fault injection and request
// counting.
type Route string

// The routes the emulator serves.
const (
	RouteOpenIDConfig      Route = "openid-configuration" // GET /{tenant}/v2.0/.well-known/openid-configuration
	RouteInstanceDiscovery Route = "instance-discovery"   // GET /common/discovery/instance
	RouteUserRealm         Route = "userrealm"            // GET /common/UserRealm/{user}
	RouteToken             Route = "token"                // POST /{tenant}/oauth2/v2.0/token
	RouteGraphUser         Route = "graph-user"           // GET /v1.0/users/{id|upn}
	RouteGraphUsers        Route = "graph-users"          // GET /v1.0/users
	RouteGraphManager      Route = "graph-manager"        // GET /v1.0/users/{id}/manager
	RouteGraphMembers      Route = "graph-members"        // GET /v1.0/groups/{id}/members[/cast]
	RouteGraphTransitive   Route = "graph-transitive"     // GET /v1.0/groups/{id}/transitiveMembers[/cast]
	RouteGraphDomains      Route = "graph-domains"        // GET /v1.0/domains
	RouteOther             Route = "other"                // anything else: 404 or 405; under /v1.0, Graph's 400
)

// Options configures a Server. The zero value is usable.
type Options struct {
	// LockoutThreshold is the number of counted password failures after which
	// a user is locked out (smart lockout:
	// https://learn.microsoft.com/en-us/entra/identity/authentication/howto-password-smart-lockout). Default 10.
	LockoutThreshold int
	// LockoutDuration is the first lockout's length; each further lockout of
	// the same user doubles it, as Entra's grows "longer".
	// Default 60 s.
	LockoutDuration time.Duration
	// IPLockoutThreshold, when positive, blocks a client IP address after
	// that many counted password failures from it (across users) for
	// LockoutDuration: every sign-in from it then gets AADSTS50053, as
	// Entra answers for IPs it deems malicious. Default off.
	IPLockoutThreshold int
	// CountRepeatedPasswords counts a repeat of a recent bad password again,
	// as smart lockout does in tenants with pass-through authentication.
	CountRepeatedPasswords bool
	// MFAFirst answers an MFA-enforced user's ROPC sign-in with the MFA
	// interrupt (50076/50079/50074) before checking the password, so a wrong
	// password gets it too: the tenant behaviour that breaks the premise of
	// HOOK_POLICY_MFA.
	MFAFirst bool
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger receives one debug line per request (route, status, never a
	// credential); default discards.
	Logger *slog.Logger
	// RequestLogLimit bounds the TokenLog and GraphLog records kept (oldest dropped).
	// Default 10000.
	RequestLogLimit int
	// ListenAddr is where Start listens; default 127.0.0.1:0.
	ListenAddr string
	// TLSNames are extra DNS names for Start's certificate (e.g. a compose
	// service name).
	TLSNames []string
}

// Server is the emulator. It implements http.Handler.
type Server struct {
	opts      Options
	log       *slog.Logger
	key       []byte // HMAC key for the tokens it issues
	stop      chan struct{}
	stopMu    sync.Once
	mux       *emukit.Mux[Route]
	faults    emukit.Faults[Route, Fault]
	counts    emukit.Counts[Route]
	tokenByUP emukit.Counts[string] // token requests per lower-case username
	tokenLog  *emukit.Log[TokenRequest]
	graphLog  *emukit.Log[GraphRequest]

	mu        sync.Mutex
	tenants   map[string]*tenant  // by lower-case tenant ID
	domains   map[string]*tenant  // by lower-case domain name
	clients   map[string]*Client  // by client ID
	lockouts  map[string]*lockout // by lower-case UPN
	ipBlocked bool
	ipFails   map[string]*ipState // by client IP
}

// New returns an empty emulator.
func New(opts Options) *Server {
	opts.LockoutThreshold = emukit.Positive(opts.LockoutThreshold, 10)
	opts.LockoutDuration = emukit.Positive(opts.LockoutDuration, 60*time.Second)
	opts.RequestLogLimit = emukit.Positive(opts.RequestLogLimit, 10000)
	opts.Now = emukit.Clock(opts.Now)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	s := &Server{
		opts:     opts,
		log:      emukit.Logger(opts.Logger),
		key:      key,
		stop:     make(chan struct{}),
		mux:      emukit.NewMux[Route](),
		tokenLog: emukit.NewLog[TokenRequest](opts.RequestLogLimit),
		graphLog: emukit.NewLog[GraphRequest](opts.RequestLogLimit),
		tenants:  map[string]*tenant{},
		domains:  map[string]*tenant{},
		clients:  map[string]*Client{},
		lockouts: map[string]*lockout{},
		ipFails:  map[string]*ipState{},
	}
	s.routes()
	return s
}

// Running is an emulator served over TLS on a loopback address. Its URL
// (https://127.0.0.1:PORT, no trailing slash) is the authority host and the
// Graph base URL (Graph is under URL + "/v1.0"); HTTPClient and WriteCAFile
// trust its CA.
type Running struct {
	*Server
	*emukit.TLS
}

// Start serves a new emulator over TLS (opts.ListenAddr, default
// 127.0.0.1:0) with a fresh loopback CA.
func Start(opts Options) (*Running, error) {
	s := New(opts)
	t, err := emukit.ServeTLS(s, opts.ListenAddr, opts.TLSNames...)
	if err != nil {
		return nil, fmt.Errorf("fakeentra: %w", err)
	}
	return &Running{Server: s, TLS: t}, nil
}

// Close releases hanging requests and stops the server.
func (r *Running) Close() error {
	r.Server.Release()
	return r.TLS.Close()
}

// Release ends every request currently held by a Hang fault and makes
// further Hang faults return at once. Close calls it.
func (s *Server) Release() { s.stopMu.Do(func() { close(s.stop) }) }

// routes registers the authority's and Graph's patterns. Paths are matched
// case-sensitively: MSAL sends "UserRealm" capitalised.
func (s *Server) routes() {
	m := s.mux
	m.Handle(RouteOpenIDConfig, "GET /{tenant}/v2.0/.well-known/openid-configuration", s.handleOpenIDConfig)
	m.Handle(RouteInstanceDiscovery, "GET /common/discovery/instance", s.handleInstanceDiscovery)
	m.Handle(RouteUserRealm, "GET /common/UserRealm/{user}", s.handleUserRealm)
	m.Handle(RouteToken, "POST /{tenant}/oauth2/v2.0/token", s.handleToken)
	get := func(route Route, path string, h graphHandler) {
		m.Handle(route, "GET /v1.0"+path, s.graph(route, http.MethodGet, h))
	}
	get(RouteGraphUsers, "/users", s.handleUsers)
	get(RouteGraphUser, "/users/{id}", s.handleUser)
	get(RouteGraphManager, "/users/{id}/manager", s.handleManager)
	for _, cast := range []string{"", "/{cast}"} {
		get(RouteGraphMemberOf, "/users/{id}/memberOf"+cast, s.handleMemberOf(false))
		get(RouteGraphTransitiveMemberOf, "/users/{id}/transitiveMemberOf"+cast, s.handleMemberOf(true))
		get(RouteGraphMembers, "/groups/{id}/members"+cast, s.handleMembers(false))
		get(RouteGraphTransitive, "/groups/{id}/transitiveMembers"+cast, s.handleMembers(true))
	}
	get(RouteGraphDomains, "/domains", s.handleDomains)
}

// ServeHTTP counts the request, applies a matching fault, then serves it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	route, h := s.route(r)
	s.counts.Add(route)
	if route == RouteToken {
		if user := strings.ToLower(requestUser(r, route)); user != "" { // ParseForm caches the form for the handler
			s.tokenByUP.Add(user)
		}
	}
	rec := &emukit.StatusRecorder{ResponseWriter: w}
	faulted := true
	defer func() {
		// Faulted Graph requests are logged too (the handler logs the others).
		if faulted && isGraph(route) {
			s.graphLog.Append(graphRequest(r, route, rec.Status(), true))
		}
		emukit.LogRequest(s.log, "fakeentra request", r, string(route), rec.Status(), start, "fault", faulted)
	}()
	if !s.applyFault(rec, r, route) {
		return
	}
	faulted = false
	h(rec, r)
}

// route returns the route of r and its handler. A path under /v1.0 that no
// Graph pattern matches is Graph's: answered after the token check with 405
// when another method is served there, else 400. Any other path gets the
// mux's own 404 or 405.
func (s *Server) route(r *http.Request) (Route, http.HandlerFunc) {
	graphPath := strings.Split(strings.Trim(r.URL.Path, "/"), "/")[0] == "v1.0"
	if route, ok := s.mux.Match(r); ok && isGraph(route) == graphPath {
		return route, s.mux.ServeHTTP
	}
	if !graphPath {
		return RouteOther, s.mux.ServeHTTP
	}
	get := r.Clone(r.Context())
	get.Method = http.MethodGet
	if route, ok := s.mux.Match(get); ok && isGraph(route) {
		// The method check of s.graph answers 405 before h would run.
		return route, s.graph(route, http.MethodGet, func(http.ResponseWriter, *http.Request, *tenant) {})
	}
	return RouteOther, s.graph(RouteOther, "", nil)
}

// Calls returns how many requests reached route (faulted ones included).
func (s *Server) Calls(route Route) int { return s.counts.Get(route) }

// ResetCounts zeroes the request counters and clears the request logs.
func (s *Server) ResetCounts() {
	s.counts.Reset()
	s.tokenByUP.Reset()
	s.tokenLog.Reset()
	s.graphLog.Reset()
}

// TokenRequests returns how many token requests named username (ROPC),
// case-insensitively, faulted ones included.
func (s *Server) TokenRequests(username string) int {
	return s.tokenByUP.Get(strings.ToLower(username))
}

// TokenRequest records one token request without its secrets.
type TokenRequest struct {
	Tenant    string
	GrantType string
	ClientID  string
	Username  string
	Scope     string
	// Fields lists the form field names sent, sorted (values of password and
	// client_secret are never recorded).
	Fields          []string
	HasPassword     bool
	HasClientSecret bool // client_secret field or HTTP Basic credentials
	AADSTS          int  // the code answered, 0 on success
	Status          int
}

// TokenLog returns the token requests received, oldest first.
func (s *Server) TokenLog() []TokenRequest {
	return s.tokenLog.All()
}

// GraphRequest records one Graph request.
type GraphRequest struct {
	Method string
	// Path is the escaped path as sent (e.g. /v1.0/users/a%40contoso.com).
	Path string
	// Query is the decoded query (e.g. $select).
	Query url.Values
	// RawQuery is the query string as sent.
	RawQuery string
	Route    Route
	// Bearer reports whether an Authorization: Bearer header was present.
	Bearer bool
	Status int
	// Faulted reports that an injected fault answered (or dropped) it.
	Faulted bool
}

// GraphLog returns the Graph requests received, oldest first.
func (s *Server) GraphLog() []GraphRequest {
	return s.graphLog.All()
}

// graphRequest is the GraphLog record of r.
func graphRequest(r *http.Request, route Route, status int, faulted bool) GraphRequest {
	return GraphRequest{
		Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.Query(), RawQuery: r.URL.RawQuery,
		Route: route, Bearer: strings.HasPrefix(r.Header.Get("Authorization"), "Bearer "), Status: status, Faulted: faulted,
	}
}

// newID returns a random GUID-formatted identifier (trace and request IDs).
func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return guid(b)
}

func guid(b []byte) string {
	h := hex.EncodeToString(b[:16])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// baseURL returns the scheme and host the request came in on.
func baseURL(r *http.Request) string {
	scheme := "https"
	if r.TLS == nil {
		scheme = "http"
	}
	return scheme + "://" + r.Host
}
