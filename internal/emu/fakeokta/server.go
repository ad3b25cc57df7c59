// Package fakeokta emulates the parts of Okta that entra2okta talks to: the
// Users API and user lifecycle, the inline hook management API with the
// password import hook, the Classic sign-in endpoint (POST /api/v1/authn) that
// fires that hook, and the System Log. It imports no SDK: it speaks the wire
// protocol Okta documents (https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/,
// https://developer.okta.com/docs/reference/rate-limits/, https://developer.okta.com/docs/concepts/inline-hooks/),
// so the real okta-sdk-golang can be driven against it over
// TLS (Start). Routing, fault rules, the request log and TLS serving come
// from internal/emu/emukit, shared with internal/emu/fakeentra.
//
// State is in memory and safe for concurrent use. Tests seed users (SeedUser),
// register the hook (SetPasswordImportHook), inject faults per route
// (InjectFault, FailNext, DropNext, SetLatency, SetErrorRate), toggle read-only
// mode (SetReadOnly) and inspect what happened (User, CheckPassword, Calls,
// Requests, HookCalls, Events). Passwords are never kept in clear: stored ones
// are salted SHA-256 hashes, and recorded requests to /api/v1/authn have their
// body redacted.
package fakeokta

import (
	"context"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"entra2okta/internal/emu/emukit"
)

// DefaultAPIToken is the SSWS token accepted when Options.APITokens is empty.
const DefaultAPIToken = "fakeokta-api-token"

// Route names one endpoint by its method and path pattern, for fault
// injection and call counting.
type Route string

// The routes the emulator serves.
const (
	RouteCreateUser        Route = "POST /api/v1/users"
	RouteListUsers         Route = "GET /api/v1/users"
	RouteGetUser           Route = "GET /api/v1/users/{id}"
	RouteUpdateUser        Route = "POST /api/v1/users/{id}"
	RouteReplaceUser       Route = "PUT /api/v1/users/{id}"
	RouteDeleteUser        Route = "DELETE /api/v1/users/{id}"
	RouteActivateUser      Route = "POST /api/v1/users/{id}/lifecycle/activate"
	RouteDeactivateUser    Route = "POST /api/v1/users/{id}/lifecycle/deactivate"
	RouteReactivateUser    Route = "POST /api/v1/users/{id}/lifecycle/reactivate"
	RouteResetPassword     Route = "POST /api/v1/users/{id}/lifecycle/reset_password"
	RouteExpirePassword    Route = "POST /api/v1/users/{id}/lifecycle/expire_password"
	RouteListInlineHooks   Route = "GET /api/v1/inlineHooks"
	RouteCreateInlineHook  Route = "POST /api/v1/inlineHooks"
	RouteGetInlineHook     Route = "GET /api/v1/inlineHooks/{id}"
	RouteUpdateInlineHook  Route = "POST /api/v1/inlineHooks/{id}"
	RouteReplaceInlineHook Route = "PUT /api/v1/inlineHooks/{id}"
	RouteDeleteInlineHook  Route = "DELETE /api/v1/inlineHooks/{id}"
	RouteActivateHook      Route = "POST /api/v1/inlineHooks/{id}/lifecycle/activate"
	RouteDeactivateHook    Route = "POST /api/v1/inlineHooks/{id}/lifecycle/deactivate"
	RouteExecuteHook       Route = "POST /api/v1/inlineHooks/{id}/execute"
	RouteAuthn             Route = "POST /api/v1/authn"
	RouteLogs              Route = "GET /api/v1/logs"
	// RouteAny matches every route in InjectFault and SetErrorRate.
	RouteAny Route = "*"
	// RouteUnknown counts requests no route matched (answered 404).
	RouteUnknown Route = "unknown"
)

// Bucket names a rate-limit counter
// (https://developer.okta.com/docs/reference/rate-limits/): each route counts against
// one bucket, in fixed 60 s windows.
type Bucket string

// The rate-limit buckets and what they cover.
const (
	// BucketUsers: GET and POST /api/v1/users (list, create). Default 600/min.
	BucketUsers Bucket = "users"
	// BucketUserGet: GET /api/v1/users/{idOrLogin}. Default 2000/min (Workforce).
	BucketUserGet Bucket = "user-get"
	// BucketUserWrite: POST, PUT, DELETE /api/v1/users/{id}. Default 600/min.
	BucketUserWrite Bucket = "user-write"
	// BucketAuthn: POST /api/v1/authn. Default 600/min (Okta's historic
	// authn limit; the per-user limit is 4 per second:
	// https://developer.okta.com/docs/reference/rl2-limits/).
	BucketAuthn Bucket = "authn"
	// BucketLogs: GET /api/v1/logs. Default 120/min (Okta's historic System
	// Log limit; configure it if your tenant differs).
	BucketLogs Bucket = "logs"
	// BucketOther: everything else under /api/v1 (user lifecycle, inline
	// hooks): "most other API actions", 1200/min for Workforce.
	BucketOther Bucket = "other"
)

// DefaultRateLimits are the per-minute quotas used for buckets that
// Options.RateLimits does not set.
var DefaultRateLimits = map[Bucket]int{
	BucketUsers:     600,
	BucketUserGet:   2000,
	BucketUserWrite: 600,
	BucketAuthn:     600,
	BucketLogs:      120,
	BucketOther:     1200,
	// groups.go
	BucketGroups:       500,
	BucketGroupByID:    1000,
	BucketGroupMembers: 500,
}

// Options configures a Server. The zero value is usable.
type Options struct {
	// APITokens are the SSWS tokens accepted; empty means DefaultAPIToken.
	APITokens []string
	// OAuthClients are the OAuth 2.0 service apps whose client assertions
	// the token endpoint accepts; their access tokens work as
	// "Authorization: Bearer" within their scopes (oauth.go).
	OAuthClients []OAuthClient
	// AccessTokenLifetime is how long an access token is accepted; default
	// DefaultAccessTokenLifetime (Okta's hour).
	AccessTokenLifetime time.Duration
	// RateLimits overrides per-minute quotas by bucket (DefaultRateLimits).
	RateLimits map[Bucket]int
	// RateWindow is the length of a rate-limit window; default 60 s.
	RateWindow time.Duration
	// TokenRateShare is the percentage of each bucket's limit that one API
	// token may use in a window, on top of the org-wide limit: 0 means
	// DefaultTokenRateShare (50, Okta's default); 100 gives a token the
	// whole bucket, as an org whose admin raised the token's share to 100 %.
	// SetTokenRateShare changes it.
	TokenRateShare int
	// ConcurrencyLimit caps simultaneous in-flight requests; default 75.
	ConcurrencyLimit int
	// HookTimeout is the per-attempt timeout of inline hook calls; default 3 s.
	HookTimeout time.Duration
	// HookRootCAs is trusted for https hook calls; nil means the system pool.
	HookRootCAs *x509.CertPool
	// AllowHTTPHookURI accepts http:// hook URIs (real Okta requires https).
	AllowHTTPHookURI bool
	// ProfileAttributes are custom profile attributes the org's user schema
	// defines, besides Okta's base attributes; others are rejected as Okta does.
	ProfileAttributes []string
	// ActivationDelay makes activation asynchronous, as Okta's is: for this
	// long after a create with activate=true, an activate or a reactivate,
	// the user keeps its status with transitioningToStatus set, and every
	// change to it answers 409 E0000112. Zero (the default) activates at
	// once. SetActivationDelay changes it.
	ActivationDelay time.Duration
	// ProvisionOnActivate models an Identity Engine authenticator enrollment
	// policy that requires the password authenticator: a user created or
	// activated with a password (the import hook counts) is left
	// PROVISIONED, unable to sign in, until it is reactivated. See
	// activationTarget. SetProvisionOnActivate changes it.
	ProvisionOnActivate bool
	// LogDelay is how long a System Log event takes to become visible to
	// GET /api/v1/logs (Okta's log is eventually consistent); default 0.
	LogDelay time.Duration
	// LockoutAttempts is the default password policy's lockout: after this
	// many failed sign-ins in a row (a wrong Okta password or an UNVERIFIED
	// password import hook answer; a failed hook call is not counted) the
	// user becomes LOCKED_OUT. Default 10, Okta's maxAttempts default;
	// negative disables lockout.
	LockoutAttempts int
	// LockoutAutoUnlock unlocks a LOCKED_OUT user at the next sign-in after
	// this long; 0, Okta's autoUnlockMinutes default, never does.
	LockoutAutoUnlock time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger receives one debug line per request; default discards.
	Logger *slog.Logger
	// RequestLogLimit bounds the requests kept for RequestLog (oldest dropped);
	// default 5000.
	RequestLogLimit int
	// ListenAddr is where Start listens; default 127.0.0.1:0.
	ListenAddr string
	// TLSNames are extra DNS names for Start's certificate (e.g. a compose
	// service name).
	TLSNames []string
}

// Server is the emulator. It implements http.Handler.
type Server struct {
	opts     Options
	log      *slog.Logger
	mux      *emukit.Mux[Route]
	faults   emukit.Faults[Route, Fault]
	calls    emukit.Counts[Route]
	requests *emukit.Log[RecordedRequest]
	tokens   map[string]bool
	hookHTTP *http.Client
	inFlight atomic.Int64
	maxConc  atomic.Int64

	mu                  sync.Mutex
	signInLocks         map[string]*signInLockout // failed sign-ins by user id (authn.go)
	authnStates         map[string]authnState     // state tokens of PASSWORD_EXPIRED transactions (authn_expired.go)
	users               map[string]*user          // by id
	logins              map[string]string         // folded login -> id
	hooks               map[string]*inlineHook
	events              []LogEvent
	eventSeq            int64
	hookCalls           []HookCall
	windows             map[Bucket]*window
	latency             map[Route]time.Duration
	errorRate           map[Route]float64
	readOnly            bool
	profileExt          map[string]bool
	schema              schemaState // schema.go: custom attribute types
	limits              map[Bucket]int
	tokenShare          int            // Options.TokenRateShare, 1-100
	activationDelay     time.Duration  // Options.ActivationDelay
	provisionOnActivate bool           // Options.ProvisionOnActivate
	eventHooks          eventHookState // eventhooks.go
	apps                appState       // apps.go
	policies            policyState    // policies.go
	oauth               oauthState     // oauth.go
	groups              groupState     // groups.go
}

// New returns an empty emulator.
func New(opts Options) *Server {
	opts.RateWindow = emukit.Positive(opts.RateWindow, 60*time.Second)
	opts.ConcurrencyLimit = emukit.Positive(opts.ConcurrencyLimit, 75)
	opts.HookTimeout = emukit.Positive(opts.HookTimeout, 3*time.Second)
	opts.RequestLogLimit = emukit.Positive(opts.RequestLogLimit, 5000)
	opts.Now = emukit.Clock(opts.Now)
	s := &Server{
		opts:       opts,
		log:        emukit.Logger(opts.Logger),
		mux:        emukit.NewMux[Route](),
		requests:   emukit.NewLog[RecordedRequest](opts.RequestLogLimit),
		tokens:     map[string]bool{},
		users:      map[string]*user{},
		logins:     map[string]string{},
		hooks:      map[string]*inlineHook{},
		windows:    map[Bucket]*window{},
		latency:    map[Route]time.Duration{},
		errorRate:  map[Route]float64{},
		profileExt: map[string]bool{},
		limits:     map[Bucket]int{},

		tokenShare:          clampShare(opts.TokenRateShare),
		activationDelay:     opts.ActivationDelay,
		provisionOnActivate: opts.ProvisionOnActivate,
	}
	for b, n := range DefaultRateLimits {
		s.limits[b] = n
	}
	for b, n := range opts.RateLimits {
		if n > 0 {
			s.limits[b] = n
		}
	}
	s.maxConc.Store(int64(opts.ConcurrencyLimit))
	for _, t := range opts.APITokens {
		s.tokens[t] = true
	}
	if len(s.tokens) == 0 {
		s.tokens[DefaultAPIToken] = true
	}
	for _, a := range opts.ProfileAttributes {
		s.profileExt[a] = true
	}
	s.hookHTTP = newHookClient(opts.HookRootCAs)
	s.oauth.init(opts)
	s.routes()
	return s
}

// routes registers every handler; patterns are the Route values.
func (s *Server) routes() {
	for route, fn := range map[Route]http.HandlerFunc{
		RouteCreateUser:        s.createUser,
		RouteListUsers:         s.listUsers,
		RouteGetUser:           s.onUser(s.getUser),
		RouteUpdateUser:        s.onUserChange(s.writeUser(false)),
		RouteReplaceUser:       s.onUserChange(s.writeUser(true)),
		RouteDeleteUser:        s.onUserChange(s.deleteUser),
		RouteActivateUser:      s.onUserChange(s.activateUser),
		RouteDeactivateUser:    s.onUserChange(s.deactivateUser),
		RouteReactivateUser:    s.onUserChange(s.reactivateUser),
		RouteResetPassword:     s.onUserChange(s.resetPassword),
		RouteExpirePassword:    s.onUserChange(s.expirePassword),
		RouteListInlineHooks:   s.listInlineHooks,
		RouteCreateInlineHook:  s.createInlineHook,
		RouteGetInlineHook:     s.onHook(s.getInlineHook),
		RouteUpdateInlineHook:  s.onHook(s.writeHook(false)),
		RouteReplaceInlineHook: s.onHook(s.writeHook(true)),
		RouteDeleteInlineHook:  s.onHook(s.deleteInlineHook),
		RouteActivateHook:      s.onHook(s.inlineHookStatus("ACTIVE")),
		RouteDeactivateHook:    s.onHook(s.inlineHookStatus("INACTIVE")),
		RouteExecuteHook:       s.executeInlineHook,
		RouteAuthn:             s.authn,
		RouteLogs:              s.listLogs,
	} {
		s.handle(route, fn)
	}
	s.addEventHookRoutes() // eventhooks.go, apps.go
	s.addPolicyRoutes()    // policies.go
	s.addSchemaRoutes()    // schema.go
	// The change of an expired password (authn_expired.go).
	s.addAuthnExpiredRoutes()
	s.addGroupRoutes() // groups.go
}

// handle serves route, whose value is its ServeMux pattern, with fn.
func (s *Server) handle(route Route, fn http.HandlerFunc) { s.mux.Handle(route, string(route), fn) }

// mustKnow panics unless r names a route or is RouteAny: a typo in a test.
func (s *Server) mustKnow(r Route) {
	if !s.mux.Known(r) && r != RouteAny {
		panic(fmt.Sprintf("fakeokta: unknown route %q", r))
	}
}

// bucketOf returns the rate-limit bucket of a route.
func bucketOf(r Route) Bucket {
	switch r {
	case RouteCreateUser, RouteListUsers:
		return BucketUsers
	case RouteGetUser:
		return BucketUserGet
	case RouteUpdateUser, RouteReplaceUser, RouteDeleteUser:
		return BucketUserWrite
	case RouteAuthn, RouteAuthnChangePassword:
		return BucketAuthn
	case RouteLogs:
		return BucketLogs
	case RouteCreateGroup, RouteListGroups:
		return BucketGroups
	case RouteGetGroup, RouteDeleteGroup:
		return BucketGroupByID
	case RouteListGroupUsers, RouteAssignGroupUser, RouteRemoveGroupUser:
		return BucketGroupMembers
	}
	return BucketOther
}

type ctxKey struct{}

// reqInfo travels with a request through the handlers.
type reqInfo struct {
	id    string
	route Route
	base  string // https://host:port of the org, as the client addressed it
}

func info(r *http.Request) *reqInfo {
	if ri, ok := r.Context().Value(ctxKey{}).(*reqInfo); ok {
		return ri
	}
	return &reqInfo{base: baseURL(r)}
}

func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// ServeHTTP implements http.Handler: common headers, authentication,
// concurrency and rate limits, faults, then the route's handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	if r.Method == http.MethodPost && r.URL.Path == TokenPath {
		s.serveToken(w, r) // oauth.go: not counted, recorded or limited as an API call
		return
	}

	// Match once to know the route (for counting, limits and faults); the
	// mux matches again when it serves, which sets the path values.
	route, ok := s.mux.Match(r)
	if !ok {
		route = RouteUnknown
	}
	ri := &reqInfo{id: randomID("", 27, idAlphabet+"-_"), route: route, base: baseURL(r)}
	r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, ri))
	body, err := s.record(r, route)
	if err != nil {
		s.writeAPIError(w, malformed())
		return
	}
	r.Body = body

	rec := &emukit.StatusRecorder{ResponseWriter: w}
	w = rec
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Date", s.now().UTC().Format(http.TimeFormat))
	h.Set("X-Okta-Request-Id", ri.id)
	defer func() {
		emukit.LogRequest(s.log, "fakeokta request", r, string(route), rec.Status(), start, "requestId", ri.id)
	}()

	if route == RouteUnknown {
		s.writeAPIError(w, notFound(r.URL.Path, "Resource"))
		return
	}
	if !signIn(route) && !s.authorized(r) {
		s.rateHeaders(w, bucketOf(route), "", false)
		s.writeAPIError(w, &apiError{status: http.StatusUnauthorized, code: "E0000011", summary: "Invalid token provided"})
		return
	}
	if !signIn(route) && !s.scopeAllows(w, r, route) {
		return
	}
	if s.inFlight.Load() > s.maxConc.Load() {
		h.Set("X-Rate-Limit-Limit", "0")
		h.Set("X-Rate-Limit-Remaining", "0")
		h.Set("X-Rate-Limit-Reset", strconv.FormatInt(ceilUnix(s.now().Add(time.Second)), 10))
		s.writeAPIError(w, tooManyRequests())
		return
	}
	token := ""
	if !signIn(route) {
		token = s.rateToken(r)
	}
	if !s.rateHeaders(w, bucketOf(route), token, true) {
		s.writeAPIError(w, tooManyRequests())
		return
	}
	if s.applyFaults(w, r, route) {
		return
	}
	s.mux.ServeHTTP(w, r)
}

// authorized checks Authorization: SSWS <API token>, or Bearer <access
// token> from the token endpoint, unexpired (oauth.go).
func (s *Server) authorized(r *http.Request) bool {
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "SSWS "); ok {
		return s.tokens[strings.TrimSpace(tok)]
	}
	_, ok := s.bearerToken(r)
	return ok
}

func (s *Server) now() time.Time { return s.opts.Now() }

// InFlight returns the number of requests being served right now.
func (s *Server) InFlight() int { return int(s.inFlight.Load()) }

// SetConcurrencyLimit changes the cap on simultaneous requests.
func (s *Server) SetConcurrencyLimit(n int) {
	if n > 0 {
		s.maxConc.Store(int64(n))
	}
}

// SetRateLimit changes a bucket's per-window quota (the current window's
// count is kept).
func (s *Server) SetRateLimit(b Bucket, perWindow int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if perWindow > 0 {
		s.limits[b] = perWindow
	}
}

// SetActivationDelay changes Options.ActivationDelay for the activations
// that follow.
func (s *Server) SetActivationDelay(d time.Duration) { s.locked(func() { s.activationDelay = d }) }

// SetProvisionOnActivate changes Options.ProvisionOnActivate for the
// activations that follow.
func (s *Server) SetProvisionOnActivate(on bool) { s.locked(func() { s.provisionOnActivate = on }) }

// Running is an emulator served over TLS on a loopback address. Its URL
// (https://127.0.0.1:PORT, no trailing slash) is the org URL; HTTPClient and
// WriteCAFile trust its CA.
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
		return nil, fmt.Errorf("fakeokta: %w", err)
	}
	return &Running{Server: s, TLS: t}, nil
}

// Close stops serving.
func (r *Running) Close() error { return r.TLS.Close() }

// locked runs f holding s.mu: the body of the setters of test settings.
func (s *Server) locked(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f()
}
