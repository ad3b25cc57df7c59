package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"entra2okta/internal/control"
	"entra2okta/workflows"
)

// createWatch learns from fakeokta's answers when a user's Okta create
// succeeded or failed for good, so that the bench acts on a waiting user
// without polling Temporal for every user.
type createWatch struct {
	mu     sync.Mutex
	events map[string]*createEvent // by lower-cased login
	faults int                     // creates answered 400 (the injected faults)
}

type createEvent struct {
	done   chan struct{}
	closed bool
	ok     bool
}

func newCreateWatch(actions []campaignAction) *createWatch {
	w := &createWatch{events: map[string]*createEvent{}}
	for _, a := range actions {
		if !early(a.kind) {
			w.events[strings.ToLower(a.login)] = &createEvent{done: make(chan struct{})}
		}
	}
	return w
}

// observe is stackOptions.OnCreate: a 2xx is a create, a 4xx other than 429
// a create that failed for good; 429s and 5xx are retried by the worker.
func (w *createWatch) observe(login string, status int) {
	if status == http.StatusTooManyRequests || status >= 500 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if status == http.StatusBadRequest {
		w.faults++
	}
	e := w.events[strings.ToLower(login)]
	if e == nil || e.closed {
		return
	}
	e.closed, e.ok = true, status < 300
	close(e.done)
}

func (w *createWatch) event(login string) *createEvent {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.events[strings.ToLower(login)]
}

func (w *createWatch) faultsServed() int { w.mu.Lock(); defer w.mu.Unlock(); return w.faults }

// campaignActors take the planned actions, in the source's order, a few
// users at a time.
type campaignActors struct {
	c        client.Client
	hc       *http.Client
	oktaURL  string
	watch    *createWatch
	password func(i int) string
	// deadline is the batch's deadline: past it, a user may be having its
	// policy applied, and a refused skip or sign-in is a missed action.
	deadline time.Time
	n        int
	listed   atomic.Int64 // the batch's Listed, from the sampler
	finished atomic.Int64

	mu       sync.Mutex
	planned  map[string]int
	done     map[string]int
	missed   map[string]int
	errs     map[string]int
	firstErr string
}

func newActors(st *benchStack, o campaignOptions, watch *createWatch, password func(int) string) *campaignActors {
	hc := st.srv.CA().HTTPClient(30 * time.Second)
	if t, ok := hc.Transport.(*http.Transport); ok {
		t = t.Clone()
		t.MaxIdleConnsPerHost = o.Actors
		hc.Transport = t
	}
	return &campaignActors{c: st.client(), hc: hc, oktaURL: st.oktaURL, watch: watch, password: password, n: o.Actors,
		planned: map[string]int{}, done: map[string]int{}, missed: map[string]int{}, errs: map[string]int{}}
}

// run starts the actors; the channel closes when they have stopped (all
// actions taken, or ctx done).
func (a *campaignActors) run(ctx context.Context, actions []campaignAction) <-chan struct{} {
	for _, x := range actions {
		a.planned[x.kind]++
	}
	queue := make(chan campaignAction)
	stopped := make(chan struct{})
	var wg sync.WaitGroup
	for range a.n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for x := range queue {
				outcome, err := a.act(ctx, x)
				a.record(x.kind, outcome, err)
			}
		}()
	}
	go func() {
		defer close(stopped)
		defer wg.Wait()
		defer close(queue)
		for _, x := range actions {
			select {
			case queue <- x:
			case <-ctx.Done():
				return
			}
		}
	}()
	return stopped
}

type outcome int

const (
	outcomeDone outcome = iota
	outcomeMissed
	outcomeError
)

func (a *campaignActors) record(kind string, o outcome, err error) {
	a.finished.Add(1)
	a.mu.Lock()
	defer a.mu.Unlock()
	switch o {
	case outcomeDone:
		a.done[kind]++
	case outcomeMissed:
		a.missed[kind]++
	case outcomeError:
		if errors.Is(err, context.Canceled) {
			return // the run ended first
		}
		a.errs[kind]++
		if a.firstErr == "" && err != nil {
			a.firstErr = kind + ": " + err.Error()
		}
	}
}

func (a *campaignActors) report() injected {
	a.mu.Lock()
	defer a.mu.Unlock()
	return injected{Planned: a.planned, Done: a.done, Missed: a.missed, Errors: a.errs, FirstErr: a.firstErr}
}

// userState is what DescribeWorkflowExecution says of a user's workflow.
type userState struct {
	found   bool
	running bool
	state   workflows.State
}

func (a *campaignActors) describe(ctx context.Context, login string) (userState, error) {
	d, err := a.c.DescribeWorkflowExecution(ctx, workflows.UserWorkflowID(login), "")
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return userState{}, nil
	}
	if err != nil {
		return userState{}, err
	}
	info := d.GetWorkflowExecutionInfo()
	us := userState{found: true, running: info.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING}
	if p := info.GetSearchAttributes().GetIndexedFields()[workflows.MigrationStateKey.GetName()]; p != nil {
		var s string
		if converter.GetDefaultDataConverter().FromPayload(p, &s) == nil {
			us.state = workflows.State(s)
		}
	}
	return us, nil
}

// act waits until x's user is where the action is due, then takes it.
func (a *campaignActors) act(ctx context.Context, x campaignAction) (outcome, error) {
	var us userState
	var err error
	if early(x.kind) {
		// Due as soon as the user's workflow runs: the batch has listed it
		// (the source is in index order) and started it.
		for a.listed.Load() <= int64(x.i) {
			if err := sleepCtx(ctx, 200*time.Millisecond); err != nil {
				return outcomeError, err
			}
		}
		for {
			if us, err = a.describe(ctx, x.login); err != nil {
				return outcomeError, err
			}
			if us.found {
				break
			}
			if err := sleepCtx(ctx, 250*time.Millisecond); err != nil {
				return outcomeError, err
			}
		}
	} else {
		// Due once the user awaits its sign-in: after its Okta create.
		ev := a.watch.event(x.login)
		check := time.NewTicker(10 * time.Second)
		defer check.Stop()
	created:
		for {
			select {
			case <-ctx.Done():
				return outcomeError, ctx.Err()
			case <-ev.done:
				break created
			case <-check.C: // ended without a create (failed, or the batch stalls)?
				if us, err = a.describe(ctx, x.login); err == nil && us.found && !us.running {
					return outcomeMissed, nil
				}
			}
		}
		if !ev.ok {
			return outcomeMissed, nil // its create failed (an injected fault)
		}
		for {
			if us, err = a.describe(ctx, x.login); err != nil {
				return outcomeError, err
			}
			if !us.found || !us.running || us.state == workflows.StateAwaitingSignIn || us.state.Terminal() {
				break
			}
			if err := sleepCtx(ctx, 200*time.Millisecond); err != nil {
				return outcomeError, err
			}
		}
	}
	if !us.found || !us.running || us.state.Terminal() {
		return outcomeMissed, nil
	}
	switch x.kind {
	case actTerminateEarly, actTerminateLate:
		err = a.c.TerminateWorkflow(ctx, workflows.UserWorkflowID(x.login), "", "bench campaign: terminated on purpose")
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			return outcomeMissed, nil // it ended meanwhile
		}
	case actSkipEarly, actSkipLate:
		var st workflows.UserStatus
		st, err = control.SkipUser(ctx, a.c, x.login, "bench campaign: skipped on purpose")
		if err != nil && strings.Contains(err.Error(), "the migration has ended") {
			return outcomeMissed, nil
		}
		if err == nil && st.State != workflows.StateSkipped {
			return outcomeMissed, nil // it ended otherwise first
		}
	case actSignIn:
		err = a.signIn(ctx, x)
	}
	if err != nil {
		if ctx.Err() == nil && time.Now().After(a.deadline) {
			return outcomeMissed, nil
		}
		return outcomeError, err
	}
	return outcomeDone, nil
}

// signIn signs the user in through fakeokta's /api/v1/authn with the right
// password: fakeokta calls the hook server, which verifies it against
// fakeentra and signals the user's workflow. Each user comes from an address
// of its own, as users do (the hook limits checks per address).
func (a *campaignActors) signIn(ctx context.Context, x campaignAction) error {
	body, _ := json.Marshal(map[string]string{"username": x.login, "password": a.password(x.i)})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.oktaURL+"/api/v1/authn", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.%d.%d.%d", x.i>>16&255, x.i>>8&255, x.i&255))
	resp, err := a.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var tx struct {
		Status string `json:"status"`
	}
	_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&tx)
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK || tx.Status != "SUCCESS" {
		return fmt.Errorf("sign-in of %s: HTTP %d, status %q", x.login, resp.StatusCode, tx.Status)
	}
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
