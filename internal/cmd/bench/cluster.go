package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync/atomic"

	"go.temporal.io/sdk/client"

	"entra2okta/internal/devcluster"
	"entra2okta/internal/emu/fakeentra"
	"entra2okta/internal/emu/fakeokta"
)

// bulkStack is what bench bulk measures on: the dev stack (startStack) or
// the production topology (startClusterStack).
type bulkStack interface {
	oktaServer() *fakeokta.Server
	calls() *oktaCounter
	client() client.Client
	namespace() string
	// samplePeak records the workers' peak RSS so far; workerPeakRSSMB is
	// the highest of one worker, in MB.
	samplePeak()
	workerPeakRSSMB() float64
	stopWorkers()
	Close()
}

func (s *benchStack) oktaServer() *fakeokta.Server { return s.fo }
func (s *benchStack) calls() *oktaCounter          { return s.counter }
func (s *benchStack) namespace() string            { return s.srv.Namespace() }
func (s *benchStack) stopWorkers()                 { s.stopWorker() }

// clusterStack is the production topology (internal/devcluster) with
// fakeokta behind the bench's counter.
type clusterStack struct {
	c       *devcluster.Cluster
	counter *oktaCounter
	peakKB  atomic.Int64
	logFile *os.File
}

// startClusterStack starts the topology for opts (Users, OktaLimits,
// TokenRateShare, OnCreate, WorkerEnv and WorkerLog; the tenant has the
// hook's public client, which bench bulk does not call).
func startClusterStack(ctx context.Context, log *slog.Logger, opts stackOptions) (*clusterStack, error) {
	s := &clusterStack{counter: &oktaCounter{onCreate: opts.OnCreate}}
	var out io.Writer = io.Discard
	if opts.WorkerLog != "" {
		f, err := os.Create(opts.WorkerLog)
		if err != nil {
			return nil, err
		}
		s.logFile, out = f, f
	}
	graphSecret := "bench-graph-secret"
	noPassword := func(int) string { return "" }
	c, err := devcluster.Start(ctx, devcluster.Options{
		Seed: func(_ *fakeokta.Server, e *fakeentra.Server) (devcluster.Tenant, error) {
			err := seedBulkTenant(e, opts.Users, graphSecret, noPassword)
			return devcluster.Tenant{TenantID: bulkTenantID, GraphClientID: bulkClientID, GraphClientSecret: graphSecret,
				PublicClientID: bulkPublicClientID}, err
		},
		Okta:        fakeokta.Options{RequestLogLimit: 1, RateLimits: opts.OktaLimits, TokenRateShare: opts.TokenRateShare},
		Entra:       fakeentra.Options{RequestLogLimit: 1},
		OktaHandler: func(h http.Handler) http.Handler { return s.counter.wrap(h) },
		WorkerEnv:   opts.WorkerEnv,
		LogLevel:    "warn",
		Output:      out,
		Logger:      log,
	})
	if err != nil {
		if s.logFile != nil {
			_ = s.logFile.Close()
		}
		return nil, err
	}
	s.c = c
	return s, nil
}

func (s *clusterStack) oktaServer() *fakeokta.Server { return s.c.Okta() }
func (s *clusterStack) calls() *oktaCounter          { return s.counter }
func (s *clusterStack) client() client.Client        { return s.c.Client() }
func (s *clusterStack) namespace() string            { return s.c.Namespace() }

func (s *clusterStack) samplePeak() {
	for _, pid := range s.c.WorkerPIDs() {
		if kb := vmHWM(pid); pid != 0 && kb > s.peakKB.Load() {
			s.peakKB.Store(kb)
		}
	}
}

func (s *clusterStack) workerPeakRSSMB() float64 { return float64(s.peakKB.Load()) / 1024 }

func (s *clusterStack) stopWorkers() {
	s.samplePeak()
	_ = s.c.StopWorkers()
}

func (s *clusterStack) Close() {
	_ = s.c.Close()
	if s.logFile != nil {
		_ = s.logFile.Close()
	}
}
