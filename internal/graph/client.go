// Package graph reads the Entra ID directory (users, group members, managers,
// domains) through Microsoft Graph v1.0 with msgraph-sdk-go. It is the only
// package importing msgraph-sdk-go, msgraph-sdk-go-core, kiota and
// azidentity, and it returns the types of internal/entra.
//
// To keep the compile cost down it does not import the msgraph-sdk-go root
// package (which pulls in every request builder): it builds the request
// adapter from msgraph-sdk-go-core and uses the users, groups and domains
// request builders only.
// Kiota's retry handler is left out of the middleware: Temporal owns retries
// (SDK retries under Temporal's would multiply the attempts and hide the
// 429s), so a 429 comes back at once
// as apierr.RateLimited with RetryAt.
package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	abs "github.com/microsoft/kiota-abstractions-go"
	absser "github.com/microsoft/kiota-abstractions-go/serialization"
	kiotaauth "github.com/microsoft/kiota-authentication-azure-go"
	khttp "github.com/microsoft/kiota-http-go"
	jsonser "github.com/microsoft/kiota-serialization-json-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"

	"entra2okta/internal/apierr"
)

// Defaults of the public cloud.
const (
	DefaultBaseURL       = "https://graph.microsoft.com"
	DefaultAuthorityHost = "https://login.microsoftonline.com"
	// graphScope is the client-credentials scope
	// (https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow).
	graphScope = "https://graph.microsoft.com/.default"
)

// Config configures a Client.
type Config struct {
	// BaseURL defaults to DefaultBaseURL; "/v1.0" is appended.
	BaseURL string
	// AuthorityHost defaults to DefaultAuthorityHost. A non-default host
	// turns azidentity's instance discovery off.
	AuthorityHost string
	// TenantID, ClientID and ClientSecret are the app registration used
	// with client credentials (application permissions User.Read.All,
	// GroupMember.Read.All, Domain.Read.All).
	TenantID, ClientID, ClientSecret string
	// HTTPClient carries both the token and the Graph calls; nil means a
	// client with a 30 s timeout and the system trust store. Its Transport
	// is wrapped in kiota's middleware; its Timeout bounds every request.
	HTTPClient *http.Client
	// Logger defaults to discarding.
	Logger *slog.Logger
}

// Client reads the directory. It is safe for concurrent use.
type Client struct {
	adapter *msgraphcore.GraphRequestAdapterBase
	log     *slog.Logger
}

// New builds a Client. It makes no network call: the token is fetched on the
// first request (and cached by azidentity until it expires).
func New(cfg Config) (*Client, error) {
	if cfg.TenantID == "" || cfg.ClientID == "" || cfg.ClientSecret == "" {
		return nil, errors.New("graph: TenantID, ClientID and ClientSecret are required")
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	if base == "" {
		base = DefaultBaseURL
	}
	bu, err := url.Parse(base)
	if err != nil || bu.Hostname() == "" || (bu.Scheme != "https" && bu.Scheme != "http") {
		return nil, fmt.Errorf("graph: invalid base URL %q", cfg.BaseURL)
	}
	authority := strings.TrimRight(cfg.AuthorityHost, "/")
	if authority == "" {
		authority = DefaultAuthorityHost
	}
	if !strings.HasPrefix(authority, "https://") {
		return nil, fmt.Errorf("graph: authority host %q must be https", cfg.AuthorityHost)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cred, err := azidentity.NewClientSecretCredential(cfg.TenantID, cfg.ClientID, cfg.ClientSecret,
		&azidentity.ClientSecretCredentialOptions{
			ClientOptions: azcore.ClientOptions{
				Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: authority + "/"},
				Transport: hc,
				// Temporal owns retries: one token attempt per call.
				Retry: policy.RetryOptions{MaxRetries: -1},
			},
			DisableInstanceDiscovery: authority != DefaultAuthorityHost,
		})
	if err != nil {
		return nil, fmt.Errorf("graph: credential: %w", err)
	}
	// validHosts must hold the Graph host, or kiota sends requests without
	// a token and without an error (kiota-authentication-azure-go returns an
	// empty token for a host outside validHosts).
	hosts := []string{bu.Hostname()}
	if bu.Hostname() != "graph.microsoft.com" {
		hosts = append(hosts, "graph.microsoft.com")
	}
	auth, err := kiotaauth.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(cred, []string{scopeFor(bu.Hostname())}, hosts)
	if err != nil {
		return nil, fmt.Errorf("graph: auth provider: %w", err)
	}
	opts := msgraphcore.GraphClientOptions{GraphServiceVersion: "v1.0", GraphServiceLibraryVersion: "entra2okta"}
	parent := hc.Transport
	if parent == nil {
		parent = http.DefaultTransport
	}
	// kiota's default middleware minus the retry handler
	// (khttp.GetDefaultMiddlewares adds NewRetryHandler).
	mws := []khttp.Middleware{
		msgraphcore.NewGraphTelemetryHandler(&opts),
		khttp.NewUrlReplaceHandler(true, msgraphcore.ReplacementPairs),
		khttp.NewRedirectHandler(),
		khttp.NewCompressionHandler(),
		khttp.NewParametersNameDecodingHandler(),
		khttp.NewUserAgentHandler(),
		khttp.NewHeadersInspectionHandler(),
	}
	graphHC := &http.Client{
		Transport:     khttp.NewCustomTransportWithParentTransport(&statusTap{next: parent}, mws...),
		Timeout:       hc.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	parseNodes, writers := jsonRegistries()
	adapter, err := msgraphcore.NewGraphRequestAdapterBaseWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(
		auth, opts, parseNodes, writers, graphHC)
	if err != nil {
		return nil, fmt.Errorf("graph: adapter: %w", err)
	}
	adapter.SetBaseUrl(base + "/v1.0")
	return &Client{adapter: adapter, log: log}, nil
}

// scopeFor returns the client-credentials scope for a Graph host: each
// national cloud's Graph host takes its own ".default" scope; any other host
// (an emulator) gets the public cloud's.
func scopeFor(host string) string {
	switch host {
	case "graph.microsoft.us", "dod-graph.microsoft.us", "microsoftgraph.chinacloudapi.cn", "graph.microsoft.de":
		return "https://" + host + "/.default"
	}
	return graphScope
}

// jsonRegistries returns JSON (de)serializer registries for one client: the
// root msgraph package would register them in kiota's global defaults; the
// slim build keeps them per client (no package-level state).
func jsonRegistries() (*absser.ParseNodeFactoryRegistry, *absser.SerializationWriterFactoryRegistry) {
	pr := absser.NewParseNodeFactoryRegistry()
	pf := jsonser.NewJsonParseNodeFactory()
	pr.ContentTypeAssociatedFactories["application/json"] = pf
	wr := absser.NewSerializationWriterFactoryRegistry()
	wf := jsonser.NewJsonSerializationWriterFactory()
	wr.ContentTypeAssociatedFactories["application/json"] = wf
	return pr, wr
}

// tapKey carries a *tap in a request context.
type tapKey struct{}

// tap records the status and Retry-After of the last Graph response of one
// call, for errors kiota reports without them (a body it cannot parse, such
// as a proxy's text/html 502 or a text/plain 429).
type tap struct {
	mu         sync.Mutex
	status     int
	retryAfter string
}

func withTap(ctx context.Context) (context.Context, *tap) {
	t := &tap{}
	return context.WithValue(ctx, tapKey{}, t), t
}

func (t *tap) get() (int, string) {
	if t == nil {
		return 0, ""
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.status, t.retryAfter
}

// statusTap is the transport under kiota's middleware.
type statusTap struct{ next http.RoundTripper }

// RoundTrip implements http.RoundTripper.
func (s *statusTap) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := s.next.RoundTrip(req)
	if t, ok := req.Context().Value(tapKey{}).(*tap); ok && resp != nil {
		t.mu.Lock()
		t.status, t.retryAfter = resp.StatusCode, resp.Header.Get("Retry-After")
		t.mu.Unlock()
	}
	return resp, err
}

// kindOfStatus maps an HTTP status to an apierr.Kind.
func kindOfStatus(status int) apierr.Kind {
	switch {
	case status == http.StatusNotFound:
		return apierr.NotFound
	case status == http.StatusTooManyRequests:
		return apierr.RateLimited
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return apierr.Unauthorized
	case status == http.StatusNotImplemented:
		// 501 NotImplemented: e.g. $select of a single-user-only property
		// on a collection; retrying cannot help.
		return apierr.Invalid
	case status >= 500 || status == 0:
		return apierr.Transient
	case status >= 400:
		return apierr.Invalid
	}
	return apierr.Transient
}

// classify turns an SDK error into an *apierr.Error{Service: "graph"}:
// 404 NotFound, 400 Invalid, 401/403 Unauthorized, 429 RateLimited with
// RetryAt from Retry-After, 5xx and network errors Transient (501 Invalid).
// Error texts from the token endpoint are not kept (they may echo request
// details). tp, if not nil, supplies the status of responses kiota could not
// parse.
func classify(op string, err error, tp *tap) error {
	if err == nil {
		return nil
	}
	var already *apierr.Error
	if errors.As(err, &already) {
		return err
	}
	e := &apierr.Error{Service: "graph", Op: op, Kind: apierr.Transient, Err: err}
	var authErr *azidentity.AuthenticationFailedError
	var apiErr abs.ApiErrorable
	switch {
	case errors.As(err, &authErr):
		status := 0
		var hdr http.Header
		if authErr.RawResponse != nil {
			status, hdr = authErr.RawResponse.StatusCode, authErr.RawResponse.Header
		}
		e.Status = status
		e.Err = fmt.Errorf("token request failed (HTTP %d)", status)
		switch {
		case status == http.StatusTooManyRequests:
			e.Kind = apierr.RateLimited
			e.RetryAt = retryAt(hdr.Get("Retry-After"), time.Now())
		case status >= 500 || status == 0:
			e.Kind = apierr.Transient
		default:
			e.Kind = apierr.Unauthorized
		}
		return e
	case errors.As(err, &apiErr):
		e.Status = apiErr.GetStatusCode()
		e.Code = odataCode(err)
		e.Kind = kindOfStatus(e.Status)
		if e.Kind == apierr.RateLimited {
			if h := apiErr.GetResponseHeaders(); h != nil {
				if v := h.Get("Retry-After"); len(v) > 0 {
					e.RetryAt = retryAt(v[0], time.Now())
				}
			}
		}
		return e
	}
	if status, ra := tp.get(); status >= 400 {
		e.Status = status
		e.Kind = kindOfStatus(status)
		if e.Kind == apierr.RateLimited {
			e.RetryAt = retryAt(ra, time.Now())
		}
	}
	return e
}

// retryAt converts Retry-After (seconds or HTTP date) to an instant; zero if
// absent or unparsable.
func retryAt(h string, now time.Time) time.Time {
	h = strings.TrimSpace(h)
	if h == "" {
		return time.Time{}
	}
	if secs, err := strconv.Atoi(h); err == nil && secs >= 0 {
		return now.Add(time.Duration(secs) * time.Second)
	}
	if t, err := http.ParseTime(h); err == nil {
		return t
	}
	return time.Time{}
}
