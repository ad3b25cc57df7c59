// Package hookserver is the hook server: the HTTP server that mounts Okta's
// password import inline hook (hook/pwimport) and event hook
// (hook/eventhook), its settings (flags, environment, docs/configuration.md) and the
// wiring from settings to a running server (Main, Run). hookserver/main.go
// only calls Main; tests, the bench and the demo build the same Server.
package hookserver

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"entra2okta/internal/buildinfo"
	"entra2okta/internal/hook"
	"entra2okta/internal/hook/eventhook"
	"entra2okta/internal/hook/pwimport"
)

// ServerConfig configures a Server.
type ServerConfig struct {
	// Hook configures the password import handler. Its Registerer is
	// ignored: the server registers the metrics it exposes on the admin
	// listener's /metrics.
	Hook pwimport.Config
	// TLS, when set, makes Serve speak HTTPS (Okta only calls https URLs,
	// https://developer.okta.com/docs/concepts/inline-hooks/). Nil serves plain HTTP.
	TLS *tls.Config
	// Ready reports whether the server's dependencies are reachable
	// (Temporal); the admin listener's /readyz answers 503 while it fails.
	// Nil is always ready.
	Ready func(ctx context.Context) error
	// ReadHeaderTimeout, ReadTimeout, WriteTimeout and IdleTimeout bound
	// each connection (defaults 5 s, 10 s, 10 s, 120 s).
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// Events, when set, also serves Okta's event hook on EventsPath and
	// RecentEventsPath (hook/eventhook; docs/event-hooks.md).
	Events *eventhook.EventConfig
}

// Server is the hook HTTP server. Its public listener (Serve) answers Okta:
// POST pwimport.PasswordImportPath, the event hook routes when configured, and GET
// /healthz. Its admin listener (ServeAdmin, meant for loopback or a
// monitoring network) serves GET /metrics, GET /readyz and GET /healthz: the
// outcome counters by reason (a wrong password versus an expired one, or one
// blocked by conditional access) would tell a password guesser who can reach
// Okta's hook URL which guess was right even though Okta refused the
// sign-in, and readiness names the dependencies. Tests and the demo serve on
// 127.0.0.1:0; stop both listeners with Shutdown.
type Server struct {
	hook   *pwimport.Handler
	events *eventhook.EventHandler // nil unless ServerConfig.Events is set
	srv    *http.Server            // public: Okta's calls
	admin  *http.Server            // metrics and readiness
	ready  func(ctx context.Context) error
	log    *slog.Logger
}

// NewServer builds the server around a new pwimport.Handler (see
// pwimport.NewHandler) and, when cfg.Events is set, an eventhook.EventHandler.
func NewServer(cfg ServerConfig, v pwimport.Verifier, s hook.Signaler, logger *slog.Logger) (*Server, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	cfg.Hook.Registerer = reg
	h, err := pwimport.NewHandler(cfg.Hook, v, s, logger)
	if err != nil {
		return nil, err
	}
	def := func(d, v time.Duration) time.Duration {
		if d > 0 {
			return d
		}
		return v
	}
	sv := &Server{hook: h, ready: cfg.Ready, log: logger}
	mux := http.NewServeMux()
	mux.Handle("POST "+pwimport.PasswordImportPath, h)
	if err := sv.mountEvents(mux, cfg.Events, cfg.Hook, reg, logger); err != nil {
		return nil, err
	}
	mux.HandleFunc("GET /healthz", serveHealth)
	admin := http.NewServeMux()
	admin.HandleFunc("GET /healthz", serveHealth)
	admin.HandleFunc("GET /readyz", sv.serveReady)
	admin.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	newHTTP := func(h http.Handler, tc *tls.Config) *http.Server {
		return &http.Server{
			Handler:           h,
			TLSConfig:         tc,
			ReadHeaderTimeout: def(cfg.ReadHeaderTimeout, 5*time.Second),
			ReadTimeout:       def(cfg.ReadTimeout, 10*time.Second),
			WriteTimeout:      def(cfg.WriteTimeout, 10*time.Second),
			IdleTimeout:       def(cfg.IdleTimeout, 120*time.Second),
			MaxHeaderBytes:    32 << 10,
			ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		}
	}
	sv.srv = newHTTP(mux, cfg.TLS)
	sv.admin = newHTTP(admin, nil)
	return sv, nil
}

func serveHealth(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"status":"ok"}`))
}

// Handler returns the public listener's routes, for in-process use with
// httptest.
func (s *Server) Handler() http.Handler { return s.srv.Handler }

// AdminHandler returns the admin listener's routes (/metrics, /readyz,
// /healthz), for in-process use with httptest.
func (s *Server) AdminHandler() http.Handler { return s.admin.Handler }

// ServeAdmin serves the admin routes (plain HTTP) on ln until Shutdown; it
// returns nil after a graceful shutdown. Give it a loopback listener, or
// one only the monitoring network reaches.
func (s *Server) ServeAdmin(ln net.Listener) error {
	if err := s.admin.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Serve accepts connections on ln until Shutdown; it returns nil after a
// graceful shutdown.
func (s *Server) Serve(ln net.Listener) error {
	var err error
	if s.srv.TLSConfig != nil {
		err = s.srv.ServeTLS(ln, "", "")
	} else {
		err = s.srv.Serve(ln)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting requests, waits for in-flight ones, then delivers
// queued signals, all until ctx is done.
func (s *Server) Shutdown(ctx context.Context) error {
	herr := s.srv.Shutdown(ctx)
	if herr != nil {
		_ = s.srv.Close()
	}
	serr := s.hook.Shutdown(ctx)
	eerr := s.events.Shutdown(ctx)
	aerr := s.admin.Shutdown(ctx)
	if aerr != nil {
		_ = s.admin.Close()
	}
	return errors.Join(herr, serr, eerr, aerr)
}

func (s *Server) serveReady(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if s.ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.ready(ctx); err != nil {
			s.log.Warn("not ready", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write(readyBody(map[string]string{"status": "unavailable", "temporal": "unreachable", "version": Version()}))
			return
		}
	}
	_, _ = w.Write(readyBody(map[string]string{"status": "ok", "version": Version()}))
}

func readyBody(m map[string]string) []byte {
	b, _ := json.Marshal(m) // a map of strings always marshals
	return b
}

// mountEvents serves the event hook routes on mux when cfg is set, with its
// own credentials (or, when it has none, the password import hook's: see
// eventhook.EventConfig.AuthSecret).
func (s *Server) mountEvents(mux *http.ServeMux, cfg *eventhook.EventConfig, hc pwimport.Config, reg prometheus.Registerer, logger *slog.Logger) error {
	if cfg == nil {
		return nil
	}
	c := *cfg
	if c.AuthSecret == "" {
		c.AuthHeader, c.AuthSecret = hc.AuthHeader, hc.AuthSecret
	} else if c.AuthSecret == hc.AuthSecret {
		return errors.New("hook: the event hook's secret must differ from the password import hook's")
	}
	eh, err := eventhook.NewEventHandler(c, reg, logger)
	if err != nil {
		return err
	}
	s.events = eh
	mux.Handle(eventhook.EventsPath, eh) // GET (verification) and POST (deliveries)
	mux.Handle("GET "+eventhook.RecentEventsPath, eh)
	return nil
}

// Version is this build's version, as /readyz reports it on the admin
// listener (never on the public one): buildinfo.Version, the one the
// binaries' -version prints.
func Version() string { return buildinfo.Version() }
