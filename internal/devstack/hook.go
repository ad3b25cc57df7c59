package devstack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"time"

	"entra2okta/internal/emu/fakeokta"
	"entra2okta/internal/hook"
	"entra2okta/internal/hook/eventhook"
	"entra2okta/internal/hook/pwimport"
	"entra2okta/internal/hookserver"
)

// HookOptions configure the hook server.
type HookOptions struct {
	// Secret is the Authorization value fakeokta sends the password import
	// hook; "": a random Basic secret.
	Secret string
	// Addr is the listener's address; "": a free port on 127.0.0.1.
	Addr string
	// OktaPasswordPolicy makes the hook check verified passwords against the
	// Okta password policy it reads from fakeokta.
	OktaPasswordPolicy bool
	// Configure, when set, adjusts the server's configuration before the
	// server is built (event hook, identity binding, readiness, ...).
	Configure func(s *Stack, cfg *hookserver.ServerConfig) error
	// Verifier, when set, wraps the verifier the stack builds (to count or
	// delay its calls).
	Verifier func(pwimport.Verifier) pwimport.Verifier
	// Signaler receives the hook's signals instead of the stack's Temporal
	// client (required with Options.NoTemporal).
	Signaler hook.Signaler
	// EventTypes are the event types fakeokta's event hook subscribes to
	// when the configuration serves the event hook (default: app assignment
	// and password import).
	EventTypes []string
	// Logger, when set, is the hook server's logger instead of the stack's
	// (so that a test reads what the hook server alone logged).
	Logger *slog.Logger
}

type hookState struct {
	srv     *hookserver.Server
	addr    string
	secret  string
	id      string // fakeokta's inline hook id
	eventID string // fakeokta's event hook id ("" when not served)
}

// StartHook starts the hook server (Options.Hook, or the defaults when nil).
// The first start registers it in fakeokta; after StopHook it starts again
// on the same address.
func (s *Stack) StartHook(ctx context.Context) error {
	o := s.opts.Hook
	if o == nil {
		o = &HookOptions{}
	}
	first := s.hook == nil
	if first {
		s.hook = &hookState{addr: o.Addr, secret: o.Secret}
		if s.hook.secret == "" {
			s.hook.secret = "Basic " + randomHex(24)
		}
		if s.hook.addr == "" {
			s.hook.addr = "127.0.0.1:0"
		}
	} else if s.hook.srv != nil {
		return fmt.Errorf("devstack: the hook server is running")
	}
	srv, events, err := s.newHookServer(ctx, o, s.hook.secret)
	if err != nil {
		return err
	}
	ln, err := listen(s.hook.addr)
	if err != nil {
		return err
	}
	s.hook.addr = ln.Addr().String()
	s.hook.srv = srv
	go func() { _ = srv.Serve(ln) }()
	if !first {
		return nil
	}
	return s.registerHooks(ctx, o, events)
}

// registerHooks registers the password import hook and, when served, the
// event hook in fakeokta (which verifies the event hook with a GET).
func (s *Stack) registerHooks(ctx context.Context, o *HookOptions, events *eventhook.EventConfig) error {
	var err error
	if s.hook.id, err = s.okta.SetPasswordImportHook(s.HookURL(), "Authorization", s.hook.secret); err != nil {
		return err
	}
	if events == nil {
		return nil
	}
	header, secret := events.AuthHeader, events.AuthSecret
	if secret == "" { // the server falls back to the password hook's credentials
		header, secret = "Authorization", s.hook.secret
	}
	if header == "" {
		header = "Authorization"
	}
	types := o.EventTypes
	if len(types) == 0 {
		types = []string{fakeokta.EventAppMembershipAdd, fakeokta.EventPasswordImport}
	}
	s.hook.eventID, err = s.okta.RegisterEventHook(ctx, s.HookBaseURL()+eventhook.EventsPath, header, secret, types...)
	return err
}

// listen listens on addr, retrying for 5 s: the port of a server just shut
// down may linger briefly.
func listen(addr string) (net.Listener, error) {
	var (
		ln  net.Listener
		err error
	)
	for i := 0; i < 50; i++ {
		if ln, err = net.Listen("tcp", addr); err == nil {
			return ln, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil, err
}

// StopHook shuts the hook server down gracefully (in-flight requests finish
// and queued signals are delivered, within 10 s).
func (s *Stack) StopHook() {
	if s.hook == nil || s.hook.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = s.hook.srv.Shutdown(ctx)
	s.hook.srv = nil
}

// HookServer is the running hook server (nil when stopped or not started).
func (s *Stack) HookServer() *hookserver.Server {
	if s.hook == nil {
		return nil
	}
	return s.hook.srv
}

// HookBaseURL is the hook server's https://host:port.
func (s *Stack) HookBaseURL() string {
	if s.hook == nil {
		return ""
	}
	return "https://" + s.hook.addr
}

// HookURL is the password import hook's URL, as registered in fakeokta.
func (s *Stack) HookURL() string {
	if s.hook == nil {
		return ""
	}
	return s.HookBaseURL() + pwimport.PasswordImportPath
}

// HookSecret is the Authorization value of the password import hook.
func (s *Stack) HookSecret() string {
	if s.hook == nil {
		return ""
	}
	return s.hook.secret
}

// HookIDs are fakeokta's ids of the password import inline hook and of the
// event hook ("" when not served).
func (s *Stack) HookIDs() (inline, event string) {
	if s.hook == nil {
		return "", ""
	}
	return s.hook.id, s.hook.eventID
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
