package ropc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	msalerrors "github.com/AzureAD/microsoft-authentication-library-for-go/apps/errors"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"

	"entra2okta/internal/entra"
)

// Config configures a Verifier.
type Config struct {
	// AuthorityHost defaults to DefaultAuthorityHost. A non-default host
	// turns MSAL's instance discovery off (it would call the real
	// login.microsoftonline.com first).
	AuthorityHost string
	// TenantID is the tenant GUID or a verified domain: not common or
	// consumers (AADSTS9001023).
	TenantID string
	// ClientID is the app registration, a public client ("Allow public
	// client flows"): MSAL Go sends no client secret with ROPC, even from a
	// confidential client.
	ClientID string
	// Scopes default to User.Read, in the short form: Entra echoes short
	// scopes and MSAL rejects a 200 whose scopes differ.
	Scopes []string
	// HTTPClient is used for every call; nil means a default client (TLS
	// trust from the system pool, SSL_CERT_FILE).
	HTTPClient *http.Client
	// Policy decides the contested codes; the zero value rejects them all,
	// so pass DefaultPolicy() unless deciding otherwise.
	Policy entra.Policy
	// Logger defaults to discarding.
	Logger *slog.Logger
}

// Verifier checks passwords against Entra ID with MSAL Go's public-client
// ROPC flow. It is safe for concurrent use. It never reads MSAL's token cache
// (no AcquireTokenSilent: a cached token would answer without checking the
// password) and removes the account MSAL cached after every
// success, so nothing is kept.
type Verifier struct {
	client public.Client
	scopes []string
	policy entra.Policy
	log    *slog.Logger
}

// NewVerifier builds a Verifier. It makes no network call.
func NewVerifier(cfg Config) (*Verifier, error) {
	if cfg.TenantID == "" || cfg.ClientID == "" {
		return nil, errors.New("entra: TenantID and ClientID are required")
	}
	switch strings.ToLower(cfg.TenantID) {
	case "common", "consumers":
		return nil, fmt.Errorf("entra: tenant %q cannot be used with ROPC (AADSTS9001023)", cfg.TenantID)
	}
	host := strings.TrimRight(cfg.AuthorityHost, "/")
	if host == "" {
		host = entra.DefaultAuthorityHost
	}
	if !strings.HasPrefix(host, "https://") {
		return nil, fmt.Errorf("entra: authority host %q must be https", host)
	}
	scopes := cfg.Scopes
	if len(scopes) == 0 {
		scopes = []string{"User.Read"}
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opts := []public.Option{
		public.WithAuthority(host + "/" + cfg.TenantID),
		public.WithHTTPClient(&realmGuard{hc: hc}),
	}
	if host != entra.DefaultAuthorityHost {
		opts = append(opts, public.WithInstanceDiscovery(false))
	}
	c, err := public.New(cfg.ClientID, opts...)
	if err != nil {
		return nil, fmt.Errorf("entra: msal client: %w", err)
	}
	return &Verifier{client: c, scopes: append([]string(nil), scopes...), policy: cfg.Policy, log: log}, nil
}

// VerifyPassword asks Entra whether password is username's password. ctx's
// deadline bounds the whole check (MSAL otherwise waits 30 s); keep it well
// inside Okta's hook budget (Okta waits 3 s:
// https://developer.okta.com/docs/concepts/inline-hooks/). The Result never holds the
// password or a token, and its Reason is one of the Reason constants.
func (v *Verifier) VerifyPassword(ctx context.Context, username, password string) entra.Result {
	if strings.TrimSpace(username) == "" || password == "" {
		// Nothing to ask Entra, and an empty password must not count
		// towards the user's smart lockout.
		return entra.Result{Verdict: entra.Rejected, Reason: entra.ReasonEmptyCredentials}
	}
	start := time.Now()
	st := &callState{}
	cctx := context.WithValue(ctx, callStateKey{}, st)
	//lint:ignore SA1019 ROPC is deprecated by Microsoft but is the only password check available to an import hook.
	res, err := v.client.AcquireTokenByUsernamePassword(cctx, v.scopes, username, password) //nolint:staticcheck
	var r entra.Result
	if err == nil {
		// MSAL has decoded (not validated: it came straight from the token
		// endpoint over TLS) the ID token; its oid and tid bind the check to
		// an account, so that a caller can tell a renamed account's
		// successor from the account it expects.
		r = entra.Result{Verdict: entra.Verified, Reason: entra.ReasonOK, ObjectID: res.IDToken.Oid, TenantID: res.IDToken.TenantID}
		// Nothing may stay in MSAL's cache: remove the account (and its
		// AT/RT/ID token) even if the caller's context has just ended.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		if rerr := v.client.RemoveAccount(rctx, res.Account); rerr != nil {
			v.log.Warn("entra: removing cached account failed", "upn", username)
		}
		cancel()
	} else {
		r = v.classifyErr(ctx, st, err)
	}
	r.Latency = time.Since(start)
	lvl := slog.LevelDebug
	if r.Verdict == entra.Indeterminate {
		lvl = slog.LevelWarn
	}
	v.log.Log(ctx, lvl, "entra password check", "upn", username, "verdict", string(r.Verdict),
		"reason", r.Reason, "code", r.Code, "latency_ms", r.Latency.Milliseconds())
	return r
}

// classifyErr turns an MSAL failure into a Result. It decides by the
// error_codes of Entra's JSON body (https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes),
// not by the "error"
// name; only when no body with codes is available does it look for an
// AADSTS code in the description or MSAL's error text. It never copies an
// error text (CallErr texts and Verbose() may embed the request) into the
// Result or a log line.
func (v *Verifier) classifyErr(ctx context.Context, st *callState, err error) entra.Result {
	if st.federated.Load() {
		return entra.Result{Verdict: entra.Indeterminate, Reason: entra.ReasonFederated}
	}
	var ce msalerrors.CallErr
	if errors.As(err, &ce) && ce.Resp != nil {
		// Entra answered: decide by its answer even if ctx ended since.
		return v.classifyResponse(ce.Resp)
	}
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		if errors.Is(ctx.Err(), context.Canceled) {
			return entra.Result{Verdict: entra.Indeterminate, Reason: entra.ReasonCanceled}
		}
		return entra.Result{Verdict: entra.Indeterminate, Reason: entra.ReasonTimeout}
	}
	switch {
	case st.unknownRealm.Load():
		return entra.Result{Verdict: entra.Rejected, Reason: entra.ReasonUnknownDomain}
	case st.transportErr.Load():
		return entra.Result{Verdict: entra.Indeterminate, Reason: entra.ReasonUnavailable}
	case strings.Contains(err.Error(), "declined scopes"):
		return entra.Result{Verdict: entra.Indeterminate, Reason: entra.ReasonScopeDeclined}
	}
	// A 200 whose JSON holds an error fails MSAL's validation as
	// "invalid_grant: AADSTS50126: ...": only the
	// description's code is left to decide by.
	if code := aadstsCode(err.Error()); code != 0 {
		verdict, reason := entra.Classify(code, v.policy)
		return entra.Result{Verdict: verdict, Code: code, Reason: reason}
	}
	return entra.Result{Verdict: entra.Indeterminate, Reason: entra.ReasonBadResponse}
}

// classifyResponse decides by an HTTP error answer of Entra.
func (v *Verifier) classifyResponse(resp *http.Response) entra.Result {
	status := resp.StatusCode
	if status == http.StatusTooManyRequests {
		return entra.Result{Verdict: entra.Indeterminate, Reason: entra.ReasonThrottled,
			RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())}
	}
	codes, desc := errorBody(resp)
	code := pickCode(codes)
	if code == 0 {
		code = aadstsCode(desc) // a body without error_codes
	}
	if code == 0 {
		if status >= 500 {
			return entra.Result{Verdict: entra.Indeterminate, Reason: entra.ReasonUnavailable}
		}
		return entra.Result{Verdict: entra.Indeterminate, Reason: entra.ReasonBadResponse}
	}
	verdict, reason := entra.Classify(code, v.policy)
	r := entra.Result{Verdict: verdict, Code: code, Reason: reason}
	if status >= 500 && verdict != entra.Indeterminate {
		// A 5xx is never a statement about the password.
		r.Verdict, r.Reason = entra.Indeterminate, entra.ReasonUnavailable
	}
	return r
}

// errorBody decodes error_codes and error_description from the response
// body MSAL re-wrapped in its CallErr. At most 64 KiB are read.
func errorBody(resp *http.Response) ([]int, string) {
	if resp.Body == nil {
		return nil, ""
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body = io.NopCloser(bytes.NewReader(b))
	if err != nil {
		return nil, ""
	}
	var body struct {
		ErrorCodes  []int  `json:"error_codes"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(b, &body) != nil {
		return nil, ""
	}
	return body.ErrorCodes, body.Description
}

var aadstsRE = regexp.MustCompile(`AADSTS(\d{4,7})\b`)

// aadstsCode finds the first "AADSTSnnnnn" in s (0 if none).
func aadstsCode(s string) int {
	m := aadstsRE.FindStringSubmatch(s)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// parseRetryAfter reads Retry-After as seconds or an HTTP date; 0 if absent.
func parseRetryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(h); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

type callStateKey struct{}

// callState is what realmGuard observed during one VerifyPassword call.
type callState struct {
	federated    atomic.Bool
	unknownRealm atomic.Bool
	transportErr atomic.Bool
}

// errFederated stops MSAL before it follows a Federated realm to the
// customer's ADFS (MEX + WS-Trust, from the UserRealm answer): a federated user's
// password cannot be checked against Entra with MSAL.
var errFederated = errors.New("entra: federated realm")

// realmGuard is the HTTP client given to MSAL. It inspects the UserRealm
// answer MSAL fetches on every ROPC call, so telling federated and unknown
// domains apart costs no extra round trip.
type realmGuard struct{ hc *http.Client }

// Do implements MSAL's ops.HTTPClient.
func (g *realmGuard) Do(req *http.Request) (*http.Response, error) {
	st, _ := req.Context().Value(callStateKey{}).(*callState)
	resp, err := g.hc.Do(req)
	if err != nil {
		if st != nil {
			st.transportErr.Store(true)
		}
		return nil, err
	}
	if st == nil || req.Method != http.MethodGet || !strings.Contains(req.URL.Path, "/common/UserRealm/") || resp.StatusCode != http.StatusOK {
		return resp, nil
	}
	b, rerr := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if rerr != nil {
		st.transportErr.Store(true)
		return nil, rerr
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	var realm struct {
		AccountType string `json:"account_type"`
		DomainName  string `json:"domain_name"`
	}
	if json.Unmarshal(b, &realm) == nil {
		switch {
		case strings.EqualFold(realm.AccountType, "Federated"):
			st.federated.Store(true)
			return nil, errFederated
		case realm.DomainName == "":
			st.unknownRealm.Store(true)
		}
	}
	return resp, nil
}

// CloseIdleConnections implements MSAL's ops.HTTPClient.
func (g *realmGuard) CloseIdleConnections() { g.hc.CloseIdleConnections() }

// known reports whether Classify has a specific entry for code.
func known(code int) bool {
	_, r := entra.Classify(code, entra.DefaultPolicy())
	return r != entra.ReasonUnknownCode
}

// pickCode chooses the code to decide by when error_codes holds several
// (old bodies had [70002, 50126]): the most specific known one, else the first.
func pickCode(codes []int) int {
	if len(codes) == 0 {
		return 0
	}
	// 70002 (generic client error) is listed before the specific cause.
	for _, c := range codes {
		if c != 70002 && known(c) {
			return c
		}
	}
	return codes[0]
}
