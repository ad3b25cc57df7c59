package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"entra2okta/internal/devpostgres"
	"entra2okta/internal/emu/fakeentra"
	"entra2okta/internal/entra"
	"entra2okta/internal/entra/ropc"
	"entra2okta/internal/hook/pwimport"
	"entra2okta/internal/hookserver"
	"entra2okta/internal/hookstore"
	"entra2okta/internal/loopbacktls"
	"entra2okta/internal/pwpolicy"
	"entra2okta/internal/settings"
	"entra2okta/workflows"
)

// hookFigures is the last line runHook prints.
type hookFigures struct {
	Bench    string `json:"bench"`
	Upstream string `json:"upstream"` // what stood in for Entra ID
	Signaler string `json:"signaler"`
	Store    string `json:"store"` // the main server's shield store: memory or postgres
	// Load.
	Rate         float64 `json:"rate"`          // requested verifications per second
	Seconds      float64 `json:"seconds"`       // length of the latency phase
	AchievedRate float64 `json:"achieved_rate"` // over the latency phase
	Requests     int     `json:"requests"`      // in the latency phase
	EntraLatency float64 `json:"entra_injected_latency_ms"`
	// Latency phase: what the server adds on top of the time spent in the
	// verifier (which includes MSAL and both Entra round trips).
	AddedP50  float64 `json:"added_p50_ms"`
	AddedP99  float64 `json:"added_p99_ms"`
	AddedMax  float64 `json:"added_max_ms"`
	AnswerP50 float64 `json:"answer_p50_ms"`
	AnswerP99 float64 `json:"answer_p99_ms"`
	EntraP50  float64 `json:"entra_p50_ms"`
	// Upstream HTTP requests (fakeentra) per verification; "verifier calls"
	// when the fixed-latency verifier stands in for Entra.
	UpstreamPerVerify float64        `json:"upstream_per_verify"`
	UpstreamUnit      string         `json:"upstream_unit"`
	Answers           map[string]int `json:"answers"`
	Errors            int            `json:"errors"`
	// Policy phase: the same load again, alternating request by request
	// between this server and a second one with the password-policy check
	// on (pwimport.PolicyConfig), so that both halves meet the same machine.
	Policy *policyFigures `json:"policy_phase,omitempty"`
	// Store phase (-store both): the same load again, alternating request
	// by request between a server with the shield in memory and one with
	// it in PostgreSQL (internal/hookstore).
	StorePhase *storeFigures `json:"store_phase,omitempty"`
	// Hang phase: Entra holds every token request; Okta must still get an
	// answer within the budget.
	HangRequests int     `json:"hang_requests"`
	HangAnswerMs float64 `json:"hang_answer_ms"` // the slowest answer
	BudgetMs     float64 `json:"budget_ms"`
	// Memory over all verifications (warm-up excluded), read from
	// /proc/self/status VmRSS after a forced GC (rss_*) and without (raw).
	Verifications   int     `json:"verifications"`
	RSSBeforeMB     float64 `json:"rss_before_mb"`
	RSSAfterMB      float64 `json:"rss_after_mb"`
	RSSGrowthPct    float64 `json:"rss_growth_pct"`
	RSSRawBeforeMB  float64 `json:"rss_raw_before_mb"`
	RSSRawAfterMB   float64 `json:"rss_raw_after_mb"`
	RSSRawGrowthPct float64 `json:"rss_raw_growth_pct"`
	// After closing the idle connections a burst left in the HTTP pools
	// (they would otherwise go after IdleConnTimeout): the steady state.
	RSSIdleClosedMB        float64 `json:"rss_after_idle_closed_mb"`
	RSSIdleClosedGrowthPct float64 `json:"rss_idle_closed_growth_pct"`
	// Go's own accounting at the same two moments (runtime/metrics), MB.
	GoMemBefore map[string]float64 `json:"go_mem_before_mb"`
	GoMemAfter  map[string]float64 `json:"go_mem_after_mb"`
	// Machine.
	GOMAXPROCS    int    `json:"gomaxprocs"`
	LoadAvgBefore string `json:"loadavg_before"`
	LoadAvgAfter  string `json:"loadavg_after"`
	// Share of the last minute in which some runnable task waited for a CPU
	// (/proc/pressure/cpu "some avg60"): other work on the machine.
	CPUPressureBefore string  `json:"cpu_pressure_pct_before"`
	CPUPressureAfter  string  `json:"cpu_pressure_pct_after"`
	ElapsedSeconds    float64 `json:"elapsed_seconds"`
	ProcessIsShared   string  `json:"note"`
}

// policyFigures compares the hook's latency without and with the
// password-policy check.
type policyFigures struct {
	Requests int     `json:"requests"` // both halves together
	Policy   string  `json:"policy"`
	Off      latency `json:"off"`
	On       latency `json:"on"`
	// AddedP50Ratio is on.added_p50_ms ÷ off.added_p50_ms: what the check
	// adds to the server's own latency (goal ≤ 1.10).
	AddedP50Ratio  float64 `json:"added_p50_ratio"`
	AnswerP50Ratio float64 `json:"answer_p50_ratio"`
	// BelowPolicy counts the verified passwords the check flagged.
	BelowPolicy int64 `json:"below_policy_signals"`
}

// latency is one half of the policy phase.
type latency struct {
	Requests  int     `json:"requests"`
	AddedP50  float64 `json:"added_p50_ms"`
	AddedP99  float64 `json:"added_p99_ms"`
	AnswerP50 float64 `json:"answer_p50_ms"`
	AnswerP99 float64 `json:"answer_p99_ms"`
}

// storeFigures compares the hook's latency and upstream requests with the
// shield in memory and in PostgreSQL.
type storeFigures struct {
	Requests int       `json:"requests"` // both halves together
	Store    string    `json:"store"`
	Memory   storeHalf `json:"memory"`
	Postgres storeHalf `json:"postgres"`
	// What PostgreSQL adds to the server's own latency, in ms.
	AddedP50DeltaMs float64 `json:"added_p50_delta_ms"`
	AddedP99DeltaMs float64 `json:"added_p99_delta_ms"`
	// UpstreamPerVerify is over both halves (HTTP requests to Entra, or
	// verifier calls); each half's verifier calls per verification show
	// that the store changes neither.
	UpstreamPerVerify float64 `json:"upstream_per_verify"`
	UpstreamUnit      string  `json:"upstream_unit"`
}

// storeHalf is one half of the store phase.
type storeHalf struct {
	latency
	VerifierCallsPerVerify float64        `json:"verifier_calls_per_verify"`
	Answers                map[string]int `json:"answers"`
}

// benchPolicy is a password policy as a new Okta org's default has it
// (https://developer.okta.com/docs/reference/api/policy/#password-complexity-object),
// with the common-password check on so that every rule runs; the hook reads
// it once, in the background, as it reads Okta's.
type benchPolicy struct{ read chan struct{} }

func (b *benchPolicy) PasswordPolicies(context.Context) ([]pwpolicy.Policy, error) {
	defer func() {
		select {
		case <-b.read:
		default:
			close(b.read)
		}
	}()
	c := pwpolicy.Defaults()
	c.DictionaryCommon = true
	return []pwpolicy.Policy{{ID: "00pbenchdefault", Name: "Default Policy", Status: "ACTIVE", Priority: 1, System: true,
		Groups: []string{"00gbencheveryone"}, AuthProvider: "OKTA", Complexity: c,
		Rules: []pwpolicy.Rule{{Name: "Default Rule", Status: "ACTIVE", Priority: 1, PasswordChange: "ALLOW"}}}}, nil
}

// hookOptions are bench hook's settings.
type hookOptions struct {
	rate, seconds          float64
	total, users, hangN    int
	latency, budget        time.Duration
	upstream, store        string
	policyPhase            bool
	cpuProfile, memProfile string
}

// parseHookOptions declares bench hook's settings, parses args and checks
// them.
func parseHookOptions(args []string, stderr io.Writer) (hookOptions, error) {
	o := hookOptions{rate: 1000, seconds: 30, total: 100_000, latency: 20 * time.Millisecond, upstream: "fakeentra", users: 5000,
		budget: 2500 * time.Millisecond, hangN: 20, policyPhase: true, store: "memory"}
	s := newSettings("bench hook", stderr)
	s.Float(&o.rate, settings.Setting{Flag: "rate", Help: "verifications per second"})
	s.Float(&o.seconds, settings.Setting{Flag: "seconds", Help: "length of the latency phase"})
	s.Int(&o.total, settings.Setting{Flag: "verifications", Help: "verifications between the two RSS readings (the latency phase counts towards them)"})
	s.Duration(&o.latency, settings.Setting{Flag: "entra-latency", Help: "latency injected on every Entra token request"})
	s.String(&o.upstream, settings.Setting{Flag: "upstream", Help: "fakeentra (real MSAL verifier against the emulator) or fixed (a verifier that sleeps -entra-latency)"})
	s.Int(&o.users, settings.Setting{Flag: "users", Help: "directory size; requests cycle through the plain users"})
	s.Duration(&o.budget, settings.Setting{Flag: "budget", Help: "the hook's answer budget"})
	s.Int(&o.hangN, settings.Setting{Flag: "hang-requests", Help: "requests sent while Entra hangs"})
	s.Bool(&o.policyPhase, settings.Setting{Flag: "policy-phase", Help: "after the memory phase, measure the latency phase again alternating with a hook server that checks the password policy"})
	s.String(&o.store, settings.Setting{Flag: "store", Help: "the shield's store: memory; postgres (every server's shield in a private PostgreSQL cluster); both (memory, then a store phase alternating memory and PostgreSQL)"})
	s.String(&o.cpuProfile, settings.Setting{Flag: "cpuprofile", Help: "write a CPU profile of the latency phase to this file"})
	s.String(&o.memProfile, settings.Setting{Flag: "memprofile", Help: "write a heap profile after the memory phase to this file"})
	if err := parseFlags(s, args); err != nil {
		return o, err
	}
	if o.rate <= 0 || o.seconds <= 0 || o.total < 1 {
		return o, errors.New("rate, seconds and verifications must be positive")
	}
	if o.store != "memory" && o.store != "postgres" && o.store != "both" {
		return o, fmt.Errorf("-store %q: want memory, postgres or both", o.store)
	}
	if o.upstream != "fakeentra" && o.upstream != "fixed" {
		return o, fmt.Errorf("-upstream %q: want fakeentra or fixed", o.upstream)
	}
	return o, nil
}

// runHook loads an in-process hook server, over loopback TLS as Okta would
// call it, with verifications at a fixed rate.
func runHook(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseHookOptions(args, stderr)
	if err != nil {
		return err
	}
	began := time.Now()
	fig := hookFigures{Bench: "hook", Store: "memory", Rate: o.rate, Seconds: o.seconds, EntraLatency: ms(o.latency), BudgetMs: ms(o.budget),
		Signaler: "in-memory, accepts every signal (no Temporal)", GOMAXPROCS: runtime.GOMAXPROCS(0), LoadAvgBefore: loadAvg(), CPUPressureBefore: cpuPressure(),
		ProcessIsShared: "the load generator, the hook server and the Entra emulator share this process and its CPUs"}
	up, err := startUpstream(o)
	if err != nil {
		return err
	}
	defer up.close()
	fig.Upstream, fig.UpstreamUnit = up.desc, up.unit
	if len(up.logins) == 0 {
		return errors.New("no plain users to sign in")
	}

	// The shared shield, in a private PostgreSQL cluster on loopback.
	var pgStore, mainStore pwimport.ShieldStore
	var pgName string
	if o.store != "memory" {
		st, name, stop, err := benchStore(ctx, stderr)
		if err != nil {
			return err
		}
		defer stop()
		pgStore, pgName = st, name
		if o.store == "postgres" {
			fig.Store, mainStore = "postgres: "+name, st
		}
	}
	h, err := newHookLoad(ctx, up, o.budget, mainStore, stderr)
	if err != nil {
		return err
	}
	defer h.close()
	url, err := h.serve(pwimport.PolicyConfig{})
	if err != nil {
		return err
	}
	send := func() sample { return h.sendTo(url) }

	fmt.Fprintf(stderr, "bench hook: %s; %d users; warming up\n", fig.Upstream, len(up.logins))
	_ = load(ctx, int(o.rate), o.rate, send) // one second: connections, OIDC discovery
	if err := memoryPhase(ctx, o, &fig, h, send, stderr); err != nil {
		return err
	}
	latencyN := int(o.rate * o.seconds)
	if o.store == "both" {
		sf, err := measureStore(h, latencyN, o.rate, pgStore, stderr)
		if err != nil {
			return err
		}
		sf.Store, sf.UpstreamUnit = pgName, fig.UpstreamUnit
		fig.StorePhase = sf
	}
	if o.policyPhase {
		if fig.Policy, err = measurePolicy(h, latencyN, o.rate, stderr); err != nil {
			return err
		}
	}
	hangPhase(ctx, o.hangN, &fig, up, send, stderr)
	if err := ctx.Err(); err != nil {
		return err
	}
	return printHookFigures(&fig, began, stdout, stderr)
}

// hookUpstream is what stands in for Entra ID: a verifier, the users it
// knows, and how to count its requests, make it hang and close it.
type hookUpstream struct {
	verifier          pwimport.Verifier
	logins, passwords []string
	requests          func() int // upstream requests so far
	setHang           func(bool) // hold every check, or stop holding
	closeIdle, close  func()     // its idle connections; everything
	desc, unit        string     // hookFigures.Upstream, UpstreamUnit
}

// startUpstream starts what -upstream names.
func startUpstream(o hookOptions) (*hookUpstream, error) {
	if o.upstream == "fixed" {
		return fixedUpstream(o), nil
	}
	return fakeentraUpstream(o)
}

// fakeentraUpstream is fakeentra over loopback TLS, seeded with the demo
// directory, checked by the real MSAL verifier.
func fakeentraUpstream(o hookOptions) (*hookUpstream, error) {
	fe, err := fakeentra.Start(fakeentra.Options{RequestLogLimit: 1}) // the bench reads no log; appending at the limit copies it
	if err != nil {
		return nil, err
	}
	up := &hookUpstream{close: func() { _ = fe.Close() },
		desc: "fakeentra over loopback TLS through the real MSAL verifier (internal/entra/ropc)",
		unit: "HTTP requests to Entra per verification"}
	dir, err := fe.SeedDemo(o.users)
	if err != nil {
		up.close()
		return nil, err
	}
	for _, u := range dir.Users {
		if u.State == fakeentra.StateNormal && !u.Disabled && !u.Guest && !u.Federated {
			up.logins = append(up.logins, u.UserPrincipalName)
			up.passwords = append(up.passwords, u.Password)
		}
	}
	// As hookserver does: keep enough idle connections to Entra that a
	// burst does not turn into TLS handshakes.
	hc := fe.HTTPClient(0)
	hc.Transport.(*http.Transport).MaxIdleConnsPerHost = 1024
	up.closeIdle = hc.CloseIdleConnections
	if up.verifier, err = ropc.NewVerifier(ropc.Config{AuthorityHost: fe.URL, TenantID: dir.TenantID, ClientID: dir.PublicClientID,
		HTTPClient: hc, Policy: entra.DefaultPolicy()}); err != nil {
		up.close()
		return nil, err
	}
	if o.latency > 0 {
		fe.InjectFault(fakeentra.RouteToken, fakeentra.Fault{Latency: o.latency})
	}
	up.requests = func() int {
		n := 0
		for _, r := range []fakeentra.Route{fakeentra.RouteOpenIDConfig, fakeentra.RouteInstanceDiscovery, fakeentra.RouteUserRealm, fakeentra.RouteToken} {
			n += fe.Calls(r)
		}
		return n
	}
	up.setHang = func(on bool) {
		fe.ClearFaults()
		if on {
			fe.InjectFault(fakeentra.RouteToken, fakeentra.Fault{Hang: true})
		} else if o.latency > 0 {
			fe.InjectFault(fakeentra.RouteToken, fakeentra.Fault{Latency: o.latency})
		}
	}
	return up, nil
}

// fixedUpstream is a verifier that sleeps -entra-latency, with made-up
// users.
func fixedUpstream(o hookOptions) *hookUpstream {
	fv := &fixedVerifier{latency: o.latency}
	up := &hookUpstream{verifier: fv, requests: func() int { return int(fv.calls.Load()) }, setHang: fv.hang.Store,
		closeIdle: func() {}, close: func() {},
		desc: "fixed-latency verifier (no Entra emulator, no MSAL)", unit: "verifier calls per verification"}
	for i := range o.users {
		up.logins = append(up.logins, fmt.Sprintf("user%05d@contoso.com", i))
		up.passwords = append(up.passwords, fmt.Sprintf("Pw-%05d!a9", i))
	}
	return up
}

// hookSecret is the Authorization value the bench's hook servers expect.
const hookSecret = "Basic YmVuY2g6YmVuY2gtc2VjcmV0LXZhbHVl"

// hookLoad starts hook servers on one timed verifier and sends them
// password import requests, as Okta would, over loopback TLS.
type hookLoad struct {
	ctx     context.Context
	up      *hookUpstream
	tv      *timedVerifier
	ca      *loopbacktls.Authority
	budget  time.Duration
	store   pwimport.ShieldStore // the main server's shield (nil: memory)
	logger  *slog.Logger
	signals *acceptSignals
	client  *http.Client
	seq     atomic.Int64
	stops   []func()
}

func newHookLoad(ctx context.Context, up *hookUpstream, budget time.Duration, store pwimport.ShieldStore, stderr io.Writer) (*hookLoad, error) {
	ca, err := loopbacktls.New()
	if err != nil {
		return nil, err
	}
	client := ca.HTTPClient(10 * time.Second)
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = 1024
	return &hookLoad{ctx: ctx, up: up, tv: &timedVerifier{inner: up.verifier}, ca: ca, budget: budget, store: store,
		logger: slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError})), signals: &acceptSignals{},
		client: client}, nil
}

// serveWith starts a hook server on the shared verifier, with the shield in
// store (nil: memory), counting its verifier calls in calls when not nil,
// and returns its URL.
func (h *hookLoad) serveWith(policy pwimport.PolicyConfig, store pwimport.ShieldStore, calls *atomic.Int64) (string, error) {
	var v pwimport.Verifier = h.tv
	if calls != nil {
		v = &countingVerifier{inner: h.tv, calls: calls}
	}
	srv, err := hookserver.NewServer(hookserver.ServerConfig{
		Hook: pwimport.Config{AuthSecret: hookSecret, Budget: h.budget, Policy: policy, Store: store},
		TLS:  h.ca.ServerTLSConfig(),
	}, v, h.signals, h.logger)
	if err != nil {
		return "", err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	go func() { _ = srv.Serve(ln) }()
	h.stops = append(h.stops, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	})
	return "https://" + ln.Addr().String() + pwimport.PasswordImportPath, nil
}

// serve starts a hook server with the main server's shield store.
func (h *hookLoad) serve(policy pwimport.PolicyConfig) (string, error) {
	return h.serveWith(policy, h.store, nil)
}

// close shuts the servers down.
func (h *hookLoad) close() {
	for _, stop := range h.stops {
		stop()
	}
}

// sendTo sends the next user's password import request to url.
func (h *hookLoad) sendTo(url string) sample {
	i := int(h.seq.Add(1))
	u := i % len(h.up.logins)
	login := h.up.logins[u]
	body := requestBody(fmt.Sprintf("bench-%d", i), login, h.up.passwords[u], fmt.Sprintf("10.%d.%d.%d", u>>16&255, u>>8&255, u&255))
	req, _ := http.NewRequestWithContext(h.ctx, http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", hookSecret)
	start := time.Now()
	resp, err := h.client.Do(req)
	if err != nil {
		noteError(err.Error())
		return sample{err: true}
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	answer := time.Since(start)
	if err != nil || (resp.StatusCode != http.StatusOK && resp.StatusCode != pwimport.StatusUndecided) {
		noteError(fmt.Sprintf("HTTP %d", resp.StatusCode))
		return sample{err: true}
	}
	s := sample{answer: answer, entra: h.tv.take(login)}
	switch {
	case resp.StatusCode == pwimport.StatusUndecided:
		s.credential = "UNDECIDED" // no statement about the password (e.g. Entra hangs)
	case bytes.Contains(b, []byte(`"VERIFIED"`)):
		s.credential = "VERIFIED"
	case bytes.Contains(b, []byte(`"UNVERIFIED"`)):
		s.credential = "UNVERIFIED"
	default:
		s.err = true
	}
	return s
}

// alternate sends n requests at rate, every other one to second (beginning
// with first), and marks those sent to second.
func (h *hookLoad) alternate(n int, rate float64, first, second string) []sample {
	var alt atomic.Int64
	return load(h.ctx, n, rate, func() sample {
		toSecond := alt.Add(1)%2 == 0
		u := first
		if toSecond {
			u = second
		}
		s := h.sendTo(u)
		s.second = toSecond
		return s
	})
}

// memoryPhase reads the memory before and after the latency phase and
// enough further verifications to make -verifications, and once the HTTP
// pools' idle connections are closed.
func memoryPhase(ctx context.Context, o hookOptions, fig *hookFigures, h *hookLoad, send func() sample, stderr io.Writer) error {
	rssBefore, rawBefore := rss(true), rss(false)
	fig.GoMemBefore = goMem()
	n, err := latencyPhase(ctx, o, fig, h.up.requests, send, stderr)
	if err != nil {
		return err
	}
	if rest := o.total - n; rest > 0 {
		fmt.Fprintf(stderr, "bench hook: memory phase, %d more verifications at %.0f/s\n", rest, o.rate)
		for _, s := range load(ctx, rest, o.rate, send) {
			if s.err {
				fig.Errors++
			}
		}
	}
	fig.Verifications = max(o.total, n)
	// Checks that outlived their answer end by the budget: let them.
	time.Sleep(o.budget + 500*time.Millisecond)
	rssAfter, rawAfter := rss(true), rss(false)
	fig.GoMemAfter = goMem()
	if o.memProfile != "" {
		f, err := os.Create(o.memProfile)
		if err != nil {
			return err
		}
		err = pprof.WriteHeapProfile(f)
		f.Close()
		if err != nil {
			return err
		}
	}
	fig.RSSBeforeMB, fig.RSSAfterMB = mb(rssBefore), mb(rssAfter)
	fig.RSSRawBeforeMB, fig.RSSRawAfterMB = mb(rawBefore), mb(rawAfter)
	fig.RSSGrowthPct = round(100*(float64(rssAfter)-float64(rssBefore))/float64(rssBefore), 1)
	fig.RSSRawGrowthPct = round(100*(float64(rawAfter)-float64(rawBefore))/float64(rawBefore), 1)
	h.client.CloseIdleConnections()
	h.up.closeIdle()
	time.Sleep(500 * time.Millisecond)
	idle := rss(true)
	fig.RSSIdleClosedMB = mb(idle)
	fig.RSSIdleClosedGrowthPct = round(100*(float64(idle)-float64(rssBefore))/float64(rssBefore), 1)
	return nil
}

// latencyPhase sends rate × seconds verifications, under the CPU profile
// when one is asked for, fills in the latency figures and returns how many
// it sent.
func latencyPhase(ctx context.Context, o hookOptions, fig *hookFigures, upstreamN func() int, send func() sample, stderr io.Writer) (int, error) {
	n0 := upstreamN()
	latencyN := int(o.rate * o.seconds)
	fmt.Fprintf(stderr, "bench hook: latency phase, %d verifications at %.0f/s\n", latencyN, o.rate)
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return 0, err
		}
	}
	phaseStart := time.Now()
	samples := load(ctx, latencyN, o.rate, send)
	if o.cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	fig.AchievedRate = float64(len(samples)) / time.Since(phaseStart).Seconds()
	fig.Requests = len(samples)
	fig.Answers = map[string]int{}
	var added, answers, entraT []time.Duration
	for _, s := range samples {
		if s.err {
			fig.Errors++
			continue
		}
		fig.Answers[s.credential]++
		answers = append(answers, s.answer)
		entraT = append(entraT, s.entra)
		added = append(added, max(0, s.answer-s.entra))
	}
	if len(samples) > 0 {
		fig.UpstreamPerVerify = round(float64(upstreamN()-n0)/float64(len(samples)), 3)
	}
	fig.AddedP50, fig.AddedP99, fig.AddedMax = pct(added, 0.50), pct(added, 0.99), pct(added, 1)
	fig.AnswerP50, fig.AnswerP99 = pct(answers, 0.50), pct(answers, 0.99)
	fig.EntraP50 = pct(entraT, 0.50)
	return len(samples), nil
}

// hangPhase sends n requests while the upstream holds every check and
// records the slowest answer.
func hangPhase(ctx context.Context, n int, fig *hookFigures, up *hookUpstream, send func() sample, stderr io.Writer) {
	fmt.Fprintf(stderr, "bench hook: hang phase, %d requests while Entra holds every token request\n", n)
	up.setHang(true)
	hang := load(ctx, n, 50, send)
	up.setHang(false)
	fig.HangRequests = len(hang)
	var slowest time.Duration
	for _, s := range hang {
		if s.err {
			fig.Errors++
			continue
		}
		slowest = max(slowest, s.answer)
	}
	fig.HangAnswerMs = ms(slowest)
}

// printHookFigures writes the failed requests by kind to stderr and the
// figures, as one JSON line, to stdout.
func printHookFigures(fig *hookFigures, began time.Time, stdout, stderr io.Writer) error {
	errorKinds.Range(func(k, v any) bool {
		fmt.Fprintf(stderr, "bench hook: %d requests failed: %s\n", v.(*atomic.Int64).Load(), k)
		return true
	})
	fig.LoadAvgAfter, fig.CPUPressureAfter = loadAvg(), cpuPressure()
	fig.ElapsedSeconds = round(time.Since(began).Seconds(), 1)
	out, err := json.Marshal(fig)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, string(out))
	return err
}

// halves are the answered samples of an alternating phase, [0] those sent
// to the first server, [1] those sent to the second.
type halves struct {
	added, answers [2][]time.Duration
	credentials    [2]map[string]int
}

func splitHalves(samples []sample) halves {
	h := halves{credentials: [2]map[string]int{{}, {}}}
	for _, s := range samples {
		if s.err {
			continue
		}
		k := 0
		if s.second {
			k = 1
		}
		h.credentials[k][s.credential]++
		h.answers[k] = append(h.answers[k], s.answer)
		h.added[k] = append(h.added[k], max(0, s.answer-s.entra))
	}
	return h
}

// latency is half k's latency figures.
func (h *halves) latency(k int) latency {
	return latency{Requests: len(h.answers[k]), AddedP50: pct(h.added[k], 0.50), AddedP99: pct(h.added[k], 0.99),
		AnswerP50: pct(h.answers[k], 0.50), AnswerP99: pct(h.answers[k], 0.99)}
}

// measurePolicy starts a second hook server with the password-policy check
// on, waits for its first policy read, and sends n requests at rate,
// alternating between the server without the check (off) and it (on).
func measurePolicy(h *hookLoad, n int, rate float64, stderr io.Writer) (*policyFigures, error) {
	src := &benchPolicy{read: make(chan struct{})}
	urlOn, err := h.serve(pwimport.PolicyConfig{Source: src, Refresh: time.Hour})
	if err != nil {
		return nil, err
	}
	urlOff, err := h.serve(pwimport.PolicyConfig{})
	if err != nil {
		return nil, err
	}
	select {
	case <-src.read:
	case <-time.After(10 * time.Second):
		return nil, errors.New("the policy check did not read the policy within 10 s")
	}
	time.Sleep(100 * time.Millisecond) // the read's result is stored after it returns
	fmt.Fprintf(stderr, "bench hook: policy phase, %d verifications at %.0f/s, alternating without and with the password-policy check\n", n, rate)
	_ = load(h.ctx, int(rate), rate, func() sample { return h.sendTo(urlOn) }) // the new server's connections
	below0 := h.signals.below.Load()
	samples := h.alternate(n, rate, urlOff, urlOn)
	pf := &policyFigures{Requests: len(samples), Policy: "a new org's default complexity (pwpolicy.Defaults) with the common-password check on",
		BelowPolicy: h.signals.below.Load() - below0}
	halves := splitHalves(samples)
	pf.Off, pf.On = halves.latency(0), halves.latency(1)
	if pf.Off.AddedP50 > 0 {
		pf.AddedP50Ratio = round(pf.On.AddedP50/pf.Off.AddedP50, 3)
	}
	if pf.Off.AnswerP50 > 0 {
		pf.AnswerP50Ratio = round(pf.On.AnswerP50/pf.Off.AnswerP50, 3)
	}
	return pf, nil
}

// measureStore starts a hook server with the shield in memory and one with
// it in store, and sends n requests at rate, alternating between them.
func measureStore(h *hookLoad, n int, rate float64, store pwimport.ShieldStore, stderr io.Writer) (*storeFigures, error) {
	var calls [2]atomic.Int64
	urlMem, err := h.serveWith(pwimport.PolicyConfig{}, nil, &calls[0])
	if err != nil {
		return nil, err
	}
	urlPG, err := h.serveWith(pwimport.PolicyConfig{}, store, &calls[1])
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "bench hook: store phase, %d verifications at %.0f/s, alternating the shield in memory and in PostgreSQL\n", n, rate)
	_ = h.alternate(int(rate), rate, urlMem, urlPG) // both servers' connections, PostgreSQL's pool
	c0 := [2]int64{calls[0].Load(), calls[1].Load()}
	n0 := h.up.requests()
	samples := h.alternate(n, rate, urlMem, urlPG)
	sf := &storeFigures{Requests: len(samples)}
	if len(samples) > 0 {
		sf.UpstreamPerVerify = round(float64(h.up.requests()-n0)/float64(len(samples)), 3)
	}
	halves := splitHalves(samples)
	half := func(k int) storeHalf {
		s := storeHalf{latency: halves.latency(k), Answers: halves.credentials[k]}
		if len(halves.answers[k]) > 0 {
			s.VerifierCallsPerVerify = round(float64(calls[k].Load()-c0[k])/float64(len(halves.answers[k])), 3)
		}
		return s
	}
	sf.Memory, sf.Postgres = half(0), half(1)
	sf.AddedP50DeltaMs = round(sf.Postgres.AddedP50-sf.Memory.AddedP50, 3)
	sf.AddedP99DeltaMs = round(sf.Postgres.AddedP99-sf.Memory.AddedP99, 3)
	return sf, nil
}

// benchStore starts a private PostgreSQL cluster (internal/devpostgres) and
// opens the shield's store in it, with the hook's default shield settings.
func benchStore(ctx context.Context, stderr io.Writer) (pwimport.ShieldStore, string, func(), error) {
	sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	c, err := devpostgres.Start(sctx, devpostgres.Options{})
	if err != nil {
		return nil, "", nil, fmt.Errorf("bench hook: PostgreSQL for -store: %w", err)
	}
	if err := c.CreateDatabase(sctx, "shield"); err != nil {
		_ = c.Stop()
		return nil, "", nil, err
	}
	st, err := hookstore.Open(sctx, c.DSN("shield"), hookstore.Options{})
	if err != nil {
		_ = c.Stop()
		return nil, "", nil, err
	}
	bin, _ := devpostgres.BinDir()
	name := "private cluster (" + bin + "), loopback TCP, default settings"
	fmt.Fprintf(stderr, "bench hook: shield store in PostgreSQL, %s\n", name)
	return st, name, func() { st.Close(); _ = c.Stop() }, nil
}

// countingVerifier counts one server's verifier calls.
type countingVerifier struct {
	inner pwimport.Verifier
	calls *atomic.Int64
}

func (c *countingVerifier) VerifyPassword(ctx context.Context, username, password string) entra.Result {
	c.calls.Add(1)
	return c.inner.VerifyPassword(ctx, username, password)
}

// sample is one request's result.
type sample struct {
	answer, entra time.Duration
	credential    string
	err           bool
	// second: sent to the second server of an alternating phase (the one
	// with the password-policy check, or with the shield in PostgreSQL).
	second bool
}

// load sends n requests at rate per second, open loop (a slow answer does not
// delay the next request), and returns their samples.
func load(ctx context.Context, n int, rate float64, send func() sample) []sample {
	interval := time.Duration(float64(time.Second) / rate)
	out := make([]sample, n)
	var wg sync.WaitGroup
	start := time.Now()
	sent := 0
	for i := range n {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() { defer wg.Done(); out[i] = send() }()
		sent++
	}
	wg.Wait()
	return out[:sent]
}

func requestBody(eventID, user, password, ip string) []byte {
	b, _ := json.Marshal(map[string]any{
		"eventId": eventID, "eventTime": time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		"eventType": pwimport.EventTypePasswordImport, "eventTypeVersion": "1.0", "contentType": "application/json",
		"cloudEventVersion": "0.1", "source": "https://bench.okta.example/api/v1/inlineHooks/cbl2ad6phv9fsPLcF0g7",
		"data": map[string]any{
			"context": map[string]any{
				"request":    map[string]any{"id": eventID, "method": "POST", "url": map[string]any{"value": "/api/v1/authn"}, "ipAddress": ip},
				"credential": map[string]any{"username": user, "password": password},
			},
			"action": map[string]any{"credential": "UNVERIFIED"},
		},
	})
	return b
}

// timedVerifier measures the time each check spends in the verifier, by
// username (requests cycle through many users, so at most one check per
// user is in flight).
type timedVerifier struct {
	inner pwimport.Verifier
	mu    sync.Mutex
	took  map[string]time.Duration
}

func (t *timedVerifier) VerifyPassword(ctx context.Context, username, password string) entra.Result {
	start := time.Now()
	r := t.inner.VerifyPassword(ctx, username, password)
	d := time.Since(start)
	t.mu.Lock()
	if t.took == nil {
		t.took = map[string]time.Duration{}
	}
	t.took[username] = d
	t.mu.Unlock()
	return r
}

func (t *timedVerifier) take(username string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	d := t.took[username]
	delete(t.took, username)
	return d
}

// fixedVerifier verifies every password after a fixed latency, or hangs
// until its deadline.
type fixedVerifier struct {
	latency time.Duration
	hang    atomic.Bool
	calls   atomic.Int64
}

func (f *fixedVerifier) VerifyPassword(ctx context.Context, _, _ string) entra.Result {
	f.calls.Add(1)
	if f.hang.Load() {
		<-ctx.Done()
		return entra.Result{Verdict: entra.Indeterminate, Reason: entra.ReasonTimeout}
	}
	t := time.NewTimer(f.latency)
	defer t.Stop()
	select {
	case <-t.C:
		return entra.Result{Verdict: entra.Verified, Reason: entra.ReasonOK, Latency: f.latency}
	case <-ctx.Done():
		return entra.Result{Verdict: entra.Indeterminate, Reason: entra.ReasonTimeout}
	}
}

// acceptSignals stands in for Temporal.
type acceptSignals struct{ below atomic.Int64 }

// SignalWorkflow accepts the signal, counting those that flag a password
// below the policy.
func (a *acceptSignals) SignalWorkflow(_ context.Context, _, _, _ string, arg any) error {
	if s, ok := arg.(workflows.PasswordVerifiedSignal); ok && len(s.BelowPolicy) > 0 {
		a.below.Add(1)
	}
	return nil
}

// rss returns VmRSS in bytes, after returning freed memory to the OS when gc.
func rss(gc bool) int64 {
	if gc {
		runtime.GC()
		debug.FreeOSMemory()
	}
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// cpuPressure returns "some avg60" of /proc/pressure/cpu, "" if unavailable.
func cpuPressure() string {
	b, err := os.ReadFile("/proc/pressure/cpu")
	if err != nil {
		return ""
	}
	for _, f := range strings.Fields(strings.SplitN(string(b), "\n", 2)[0]) {
		if v, ok := strings.CutPrefix(f, "avg60="); ok {
			return v
		}
	}
	return ""
}

// pct returns the q-quantile of d in milliseconds (q=1: the maximum).
func pct(d []time.Duration, q float64) float64 {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return ms(s[int(q*float64(len(s)-1))])
}

func ms(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 3) }
func mb(b int64) float64         { return round(float64(b)/(1<<20), 1) }

func round(x float64, digits int) float64 {
	p := 1.0
	for range digits {
		p *= 10
	}
	return float64(int64(x*p+0.5)) / p
}

// errorKinds counts failed requests by a short description, for stderr.
var errorKinds sync.Map

func noteError(kind string) {
	if len(kind) > 120 {
		kind = kind[:120]
	}
	n, _ := errorKinds.LoadOrStore(kind, new(atomic.Int64))
	n.(*atomic.Int64).Add(1)
}

// goMem returns Go's memory classes in MB: live heap objects, goroutine
// stacks, unused heap kept by the runtime, and the total mapped.
func goMem() map[string]float64 {
	names := map[string]string{
		"/memory/classes/heap/objects:bytes":  "heap_objects",
		"/memory/classes/heap/stacks:bytes":   "stacks",
		"/memory/classes/heap/unused:bytes":   "heap_unused",
		"/memory/classes/heap/free:bytes":     "heap_free",
		"/memory/classes/heap/released:bytes": "heap_released",
		"/memory/classes/total:bytes":         "total",
		"/sched/goroutines:goroutines":        "goroutines",
	}
	var samples []metrics.Sample
	for n := range names {
		samples = append(samples, metrics.Sample{Name: n})
	}
	metrics.Read(samples)
	out := map[string]float64{}
	for _, s := range samples {
		if s.Value.Kind() != metrics.KindUint64 {
			continue
		}
		v := float64(s.Value.Uint64())
		if names[s.Name] != "goroutines" {
			v = round(v/(1<<20), 1)
		}
		out[names[s.Name]] = v
	}
	return out
}
