// Package emukit is what the emulators (internal/emu/fakeokta,
// internal/emu/fakeentra) share, so that both route, inject faults, record
// requests and serve TLS in one way:
//
//   - Mux: routing on http.ServeMux method and path patterns, each pattern
//     named by a route of the emulator's own route type;
//   - Faults: per-route fault rules, each used a given number of times;
//   - Log, Counts, LogRequest: a bounded record log, per-route request
//     counts and the debug line of a request;
//   - Positive, Clock, Logger: option defaults;
//   - Drop, Wait, StatusRecorder: the HTTP mechanics of a fault;
//   - ServeTLS: serving over TLS with a fresh loopback certificate authority.
//
// Over it both emulators offer one API: Start(Options) with
// Options.ListenAddr and TLSNames, returning a Running (the Server and its
// emukit.TLS: URL, CA, HTTPClient, WriteCAFile); InjectFault, FailNext,
// DropNext and ClearFaults; Calls(route) for the requests a route received;
// and methods returning the records they keep, oldest first (fakeokta's
// RequestLog, HookCalls and Events; fakeentra's TokenLog and GraphLog). A route value names an
// endpoint: fakeokta's is the endpoint's one pattern, fakeentra's a short
// name, since Graph serves one endpoint on several patterns (the /{cast} suffixes).
//
// What a fault answers (an Okta error body, a Graph error, an AADSTS code)
// stays with each emulator: emukit knows no vendor protocol.
package emukit

import (
	"log/slog"
	"time"
)

// Positive returns v when it is above zero, else def: an option's default.
func Positive[T ~int | ~int64 | ~float64](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// Clock returns now, or time.Now when now is nil.
func Clock(now func() time.Time) func() time.Time {
	if now == nil {
		return time.Now
	}
	return now
}

// Logger returns l, or a logger that discards when l is nil.
func Logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
