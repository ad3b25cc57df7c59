package oktaclient

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	oktasdk "github.com/okta/okta-sdk-golang/v2/okta"
	"github.com/okta/okta-sdk-golang/v2/okta/query"

	"entra2okta/internal/okta"
)

// Config configures a Client.
type Config struct {
	// OrgURL is the org's base URL, e.g. https://example.okta.com (a trailing
	// slash is removed). http:// is accepted for local emulators only.
	OrgURL string
	// APIToken is the SSWS API token. Exactly one of APIToken and OAuth is
	// set.
	APIToken string
	// OAuth authenticates as an OAuth 2.0 service app instead of with an API
	// token (see OAuthConfig).
	OAuth OAuthConfig
	// HTTPClient is used for every call; nil means a client with sane
	// timeouts that trusts the system pool (which honours SSL_CERT_FILE).
	// The Client wraps its transport and never modifies it.
	HTTPClient *http.Client
	// RequestTimeout bounds each HTTP call when ctx has no deadline; default
	// 30 s.
	RequestTimeout time.Duration
	// Logger receives debug lines about failed calls; default discards.
	Logger *slog.Logger
	// RateObserver, when set, is told the rate-limit headers of every
	// answer from Okta, synchronously on the calling goroutine: it must be
	// quick and must not block.
	RateObserver func(RateObservation)
	// WaitForWindow holds back a request whose rate-limit bucket Okta said
	// has nothing left of its current window (X-Rate-Limit-Remaining) until
	// the window resets (X-Rate-Limit-Reset), instead of sending it to meet
	// a 429. When the call's deadline comes first, the call fails at once as
	// rate-limited, to be retried at the reset, without reaching Okta.
	WaitForWindow bool
}

// Client is the Okta adapter. It is safe for concurrent use.
type Client struct {
	sdk     *oktasdk.Client
	log     *slog.Logger
	timeout time.Duration
}

// New validates cfg and builds the SDK client: no cache (okta-sdk-golang v2
// caches GET answers for 300 s by default, and a write through another URL
// leaves them stale), no SDK retries (Temporal owns retries, so that attempts
// do not multiply and every 429 reaches the activity), explicit settings that
// win over ~/.okta/okta.yaml and OKTA_CLIENT_* variables. With cfg.OAuth it
// parses the private key here, so a bad key fails at start-up; the first
// call fetches the access token.
func New(ctx context.Context, cfg Config) (*Client, error) {
	org := strings.TrimRight(strings.TrimSpace(cfg.OrgURL), "/")
	u, err := url.Parse(org)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("okta: org URL %q must be an absolute https URL", cfg.OrgURL)
	}
	auth, err := authOptions(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 30 * time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = defaultHTTPClient()
	}
	wrapped := *hc
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	if cfg.OAuth.enabled() {
		base = &tokenTransport{base: base, timeout: cfg.RequestTimeout}
	}
	ot := &observingTransport{base: base, rates: cfg.RateObserver}
	if cfg.WaitForWindow {
		ot.guard = newWindowGuard()
	}
	wrapped.Transport = ot

	opts := append(auth,
		oktasdk.WithOrgUrl(org),
		oktasdk.WithHttpClientPtr(&wrapped),
		oktasdk.WithCache(false),
		oktasdk.WithRateLimitMaxRetries(0),
		oktasdk.WithRequestTimeout(0), // our own per-call deadline, see call
		oktasdk.WithUserAgentExtra("entra2okta"),
		// An http:// org URL is only ever a local emulator; real Okta and our
		// emulators over TLS keep the SDK's https check.
		oktasdk.WithTestingDisableHttpsCheck(u.Scheme == "http"),
	)
	_, sdk, err := oktasdk.NewClient(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("okta: %w", err)
	}
	return &Client{sdk: sdk, log: log, timeout: cfg.RequestTimeout}, nil
}

func defaultHTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	tr.TLSHandshakeTimeout = 10 * time.Second
	tr.IdleConnTimeout = 90 * time.Second // every call also has a deadline (RequestTimeout)
	tr.MaxIdleConnsPerHost = 32
	return &http.Client{Transport: tr}
}

// call runs one SDK call under the per-call deadline with an observation
// holder in its context, and classifies any failure.
func (c *Client) call(ctx context.Context, op string, fn func(ctx context.Context) (*oktasdk.Response, error)) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	obs := &observation{}
	resp, err := fn(withObservation(ctx, obs))
	if err == nil {
		return nil
	}
	e := classify(op, err, resp, obs)
	c.log.Debug("okta call failed", "op", op, "kind", e.Kind.String(), "status", e.Status, "code", e.Code,
		"requestId", obs.snapshot().requestID, "err", err)
	return e
}

// GetUser fetches a user by id, login or login short name. A missing user is
// an apierr NotFound.
func (c *Client) GetUser(ctx context.Context, idOrLogin string) (okta.User, error) {
	var u *oktasdk.User
	err := c.call(ctx, "get user", func(ctx context.Context) (resp *oktasdk.Response, err error) {
		// The SDK puts the argument in the path as is (fmt %v, not escaped).
		u, resp, err = c.sdk.User.GetUser(ctx, url.PathEscape(idOrLogin))
		return resp, err
	})
	if err != nil {
		return okta.User{}, err
	}
	return fromSDK(u), nil
}

// CreateUser creates a user; with PasswordHook the user's first sign-in
// calls the password import hook. A taken login is an apierr Conflict.
func (c *Client) CreateUser(ctx context.Context, nu okta.NewUser) (okta.User, error) {
	body := oktasdk.CreateUserRequest{Profile: sdkProfile(nu.Profile)}
	if nu.PasswordHook {
		body.Credentials = hookCredentials()
	}
	var u *oktasdk.User
	err := c.call(ctx, "create user", func(ctx context.Context) (resp *oktasdk.Response, err error) {
		u, resp, err = c.sdk.User.CreateUser(ctx, body, query.NewQueryParams(query.WithActivate(nu.Activate)))
		return resp, err
	})
	if err != nil {
		return okta.User{}, err
	}
	return fromSDK(u), nil
}

// UpdateUser applies a partial update (POST /api/v1/users/{id}): profile
// properties are merged, never replaced (the SDK's UpdateUser is a PUT).
func (c *Client) UpdateUser(ctx context.Context, id string, up okta.UserUpdate) (okta.User, error) {
	var body oktasdk.User
	if len(up.Profile) > 0 {
		body.Profile = sdkProfile(up.Profile)
	}
	if up.SetPasswordHook {
		body.Credentials = hookCredentials()
	}
	var u *oktasdk.User
	err := c.call(ctx, "update user", func(ctx context.Context) (resp *oktasdk.Response, err error) {
		u, resp, err = c.sdk.User.PartialUpdateUser(ctx, url.PathEscape(id), body, nil)
		return resp, err
	})
	if err != nil {
		return okta.User{}, err
	}
	return fromSDK(u), nil
}

// ActivateUser activates a STAGED or DEPROVISIONED user. Activating an
// ACTIVE user is an apierr Invalid (E0000016); one whose activation is still
// running (TransitioningToStatus) an apierr Busy (E0000112). Okta activates
// asynchronously: a nil error means the activation started.
func (c *Client) ActivateUser(ctx context.Context, id string, sendEmail bool) error {
	return c.call(ctx, "activate user", func(ctx context.Context) (*oktasdk.Response, error) {
		_, resp, err := c.sdk.User.ActivateUser(ctx, url.PathEscape(id), query.NewQueryParams(query.WithSendEmail(sendEmail)))
		return resp, err
	})
}

// ReactivateUser restarts the activation of a PROVISIONED (or RECOVERY)
// user, without an email when sendEmail is false: a user who holds a
// password (the import hook counts) becomes ACTIVE; one without must finish
// Okta's activation flow. Any other status is an apierr Invalid
// (https://developer.okta.com/docs/api/openapi/okta-management/management/tag/UserLifecycle/#tag/UserLifecycle/operation/reactivateUser).
// The activation token Okta answers with is not exposed.
func (c *Client) ReactivateUser(ctx context.Context, id string, sendEmail bool) error {
	return c.call(ctx, "reactivate user", func(ctx context.Context) (*oktasdk.Response, error) {
		_, resp, err := c.sdk.User.ReactivateUser(ctx, url.PathEscape(id), query.NewQueryParams(query.WithSendEmail(sendEmail)))
		return resp, err
	})
}

// DeactivateUser moves a user to DEPROVISIONED.
func (c *Client) DeactivateUser(ctx context.Context, id string) error {
	return c.call(ctx, "deactivate user", func(ctx context.Context) (*oktasdk.Response, error) {
		return c.sdk.User.DeactivateUser(ctx, url.PathEscape(id), nil)
	})
}

// DeleteUser deletes a user, which must already be DEPROVISIONED: on any
// other user Okta's DELETE deactivates instead (and this returns nil).
func (c *Client) DeleteUser(ctx context.Context, id string) error {
	return c.call(ctx, "delete user", func(ctx context.Context) (*oktasdk.Response, error) {
		return c.sdk.User.DeactivateOrDeleteUser(ctx, url.PathEscape(id), nil)
	})
}

// ExpirePassword moves the user to PASSWORD_EXPIRED. It goes through the
// SDK's request executor: the SDK's ExpirePassword adds tempPassword=false,
// a legacy parameter the current API description no longer defines.
func (c *Client) ExpirePassword(ctx context.Context, id string) error {
	return c.call(ctx, "expire password", func(ctx context.Context) (*oktasdk.Response, error) {
		re := c.sdk.CloneRequestExecutor()
		req, err := re.WithAccept("application/json").WithContentType("application/json").
			NewRequest(http.MethodPost, "/api/v1/users/"+url.PathEscape(id)+"/lifecycle/expire_password", nil)
		if err != nil {
			return nil, err
		}
		var u oktasdk.User
		return re.Do(ctx, req, &u)
	})
}

// ResetPassword starts a password reset (the user moves to RECOVERY and off
// the import hook); with sendEmail false Okta returns the reset link, which
// is not exposed.
func (c *Client) ResetPassword(ctx context.Context, id string, sendEmail bool) error {
	return c.call(ctx, "reset password", func(ctx context.Context) (*oktasdk.Response, error) {
		_, resp, err := c.sdk.User.ResetPassword(ctx, url.PathEscape(id), query.NewQueryParams(query.WithSendEmail(sendEmail)))
		return resp, err
	})
}

// ListUsers calls fn for every user matching filter (Okta filter syntax,
// e.g. `profile.login eq "a@b.c"`; "" lists every user that is not
// DEPROVISIONED), following the Link header's next pages of 200. An error
// from fn stops the listing and is returned as is.
func (c *Client) ListUsers(ctx context.Context, filter string, fn func(okta.User) error) error {
	opts := []query.ParamOptions{query.WithLimit(200)}
	if filter != "" {
		opts = append(opts, query.WithFilter(filter))
	}
	var (
		page []*oktasdk.User
		resp *oktasdk.Response
	)
	err := c.call(ctx, "list users", func(ctx context.Context) (r *oktasdk.Response, err error) {
		page, resp, err = c.sdk.User.ListUsers(ctx, query.NewQueryParams(opts...))
		return resp, err
	})
	for err == nil {
		for _, u := range page {
			if ferr := fn(fromSDK(u)); ferr != nil {
				return ferr
			}
		}
		if resp == nil || !resp.HasNextPage() || len(page) == 0 {
			return nil
		}
		prev := resp
		page = nil
		err = c.call(ctx, "list users", func(ctx context.Context) (r *oktasdk.Response, err error) {
			resp, err = prev.Next(ctx, &page)
			return resp, err
		})
	}
	return err
}

// PasswordImportEvents returns the System Log's user.import.password events
// about userID published since the given time, oldest first (outcome SUCCESS
// means the password was stored: https://developer.okta.com/docs/api/openapi/okta-management/management/tags/inlinehook/webhooks/createpasswordimportinlinehook).
func (c *Client) PasswordImportEvents(ctx context.Context, userID string, since time.Time) ([]okta.LogEvent, error) {
	filter := fmt.Sprintf(`eventType eq %q and target.id eq %q`, okta.EventTypePasswordImport, userID)
	qp := query.NewQueryParams(
		query.WithFilter(filter),
		query.WithSince(since.UTC().Format("2006-01-02T15:04:05.000Z")),
		query.WithSortOrder("ASCENDING"),
		query.WithLimit(pageSizeLogs),
	)
	var (
		out  []okta.LogEvent
		page []*oktasdk.LogEvent
		resp *oktasdk.Response
	)
	err := c.call(ctx, "list password import events", func(ctx context.Context) (r *oktasdk.Response, err error) {
		page, resp, err = c.sdk.LogEvent.GetLogs(ctx, qp)
		return resp, err
	})
	for err == nil {
		for _, ev := range page {
			out = append(out, logEventFromSDK(ev))
		}
		// A query without until is a polling query: Okta always answers a
		// next link, so a short page is the end.
		if resp == nil || !resp.HasNextPage() || len(page) < pageSizeLogs {
			return out, nil
		}
		prev := resp
		page = nil
		err = c.call(ctx, "list password import events", func(ctx context.Context) (r *oktasdk.Response, err error) {
			resp, err = prev.Next(ctx, &page)
			return resp, err
		})
	}
	return nil, err
}

const pageSizeLogs = 100

func hookCredentials() *oktasdk.UserCredentials {
	return &oktasdk.UserCredentials{Password: &oktasdk.PasswordCredential{
		Hook: &oktasdk.PasswordCredentialHook{Type: "default"},
	}}
}

func sdkProfile(p okta.Profile) *oktasdk.UserProfile {
	up := oktasdk.UserProfile{}
	for k, v := range p {
		up[k] = v
	}
	return &up
}

func fromSDK(u *oktasdk.User) okta.User {
	if u == nil {
		return okta.User{}
	}
	out := okta.User{ID: u.Id, Status: u.Status, TransitioningToStatus: u.TransitioningToStatus, Profile: okta.Profile{}}
	if u.Profile != nil {
		for k, v := range *u.Profile {
			out.Profile[k] = v
		}
	}
	out.Login, _ = out.Profile["login"].(string)
	if u.Credentials != nil && u.Credentials.Provider != nil {
		out.ProviderType = u.Credentials.Provider.Type
		out.ProviderName = u.Credentials.Provider.Name
	}
	if u.Credentials != nil && u.Credentials.Password != nil {
		out.HasPassword = true
	}
	out.Created = deref(u.Created)
	out.Activated = deref(u.Activated)
	out.PasswordChanged = deref(u.PasswordChanged)
	out.LastLogin = deref(u.LastLogin)
	return out
}

func logEventFromSDK(ev *oktasdk.LogEvent) okta.LogEvent {
	out := okta.LogEvent{UUID: ev.Uuid, EventType: ev.EventType, Published: deref(ev.Published)}
	if ev.Outcome != nil {
		out.Outcome, out.Reason = ev.Outcome.Result, ev.Outcome.Reason
	}
	if ev.Actor != nil {
		out.ActorID = ev.Actor.Id
	}
	for _, t := range ev.Target {
		if t != nil {
			out.TargetIDs = append(out.TargetIDs, t.Id)
		}
	}
	return out
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}
