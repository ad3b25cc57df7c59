package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"entra2okta/internal/hook/eventhook"
	"entra2okta/internal/settings"
)

// watchSettings are watch's settings from the environment.
type watchSettings struct{ hookURL, header, caFile, secret string }

func (w *watchSettings) declare(s *settings.Set) {
	type S = settings.Setting
	w.hookURL, w.header = "http://localhost:8080", "Authorization"
	s.String(&w.hookURL, S{Flag: "hook-url", Env: "HOOK_URL", Help: "the hook server's base URL (watch)"})
	s.String(&w.header, S{Flag: "auth-header", Env: "HOOK_EVENTS_AUTH_HEADER",
		Help: "header carrying the event hook's secret; the secret is read from HOOK_EVENTS_AUTH_SECRET"})
	s.String(&w.secret, S{Env: "HOOK_EVENTS_AUTH_SECRET", Secret: true, Help: "the event hook's secret, which watch sends to read the events"})
	s.String(&w.caFile, S{Flag: "ca-file", Env: "HOOK_CA_FILE", Default: "the system's", Help: "PEM file of the CA to trust for an https hook URL (watch)"})
}

// runWatch shows the Okta events the hook server received and what it did
// with them (started a migration, signalled one, ignored, dropped a
// duplicate), by polling its GET /okta/events/recent. Each event is printed
// once, oldest first.
func runWatch(ctx context.Context, args []string, env Env, io IO) int {
	fs := newFlagSet("watch", "watch [--hook-url URL] [--interval 2s] [--once] [--json]", io)
	var ws watchSettings
	s := settings.Attach(fs)
	ws.declare(s)
	if err := s.ApplyEnv(env); err != nil {
		return usageErr(io, "watch: %v", err)
	}
	hookURL, header, caFile := &ws.hookURL, &ws.header, &ws.caFile
	interval := fs.Duration("interval", 2*time.Second, "time between polls")
	once := fs.Bool("once", false, "print the recent events and exit")
	asJSON := fs.Bool("json", false, "print one JSON object per event")
	if ok, code := parse(fs, args); !ok {
		return code
	}
	secret := ws.secret
	if secret == "" {
		return usageErr(io, "watch: HOOK_EVENTS_AUTH_SECRET is required (the event hook's secret: the list names users)")
	}
	if *interval < 100*time.Millisecond {
		return usageErr(io, "watch: --interval must be at least 100ms")
	}
	hc, err := watchClient(*caFile)
	if err != nil {
		return fail(io, "watch: %v", err)
	}
	url := strings.TrimSuffix(*hookURL, "/") + eventhook.RecentEventsPath
	var seen map[string]bool // keys of the previous answer: bounded by the server's list
	for {
		recs, err := fetchRecent(ctx, hc, url, *header, secret)
		switch {
		case err != nil && *once:
			return fail(io, "watch: %v", err)
		case err != nil:
			fmt.Fprintf(io.Err, "starter: watch: %v (retrying)\n", err)
		default:
			next := make(map[string]bool, len(recs))
			for i := len(recs) - 1; i >= 0; i-- { // the server lists newest first
				r := recs[i]
				k := r.Received.Format(time.RFC3339Nano) + "|" + r.DeliveryID + "|" + r.UUID + "|" + r.Action
				next[k] = true
				if !seen[k] {
					printRecord(io.Out, r, *asJSON)
				}
			}
			seen = next
		}
		if *once {
			return ExitOK
		}
		select {
		case <-ctx.Done():
			return ExitOK
		case <-time.After(*interval):
		}
	}
}

func watchClient(caFile string) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no PEM certificate", caFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}, nil
}

// fetchRecent reads the hook server's recent events (newest first).
func fetchRecent(ctx context.Context, hc *http.Client, url, header, secret string) ([]eventhook.EventRecord, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set(header, secret)
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: HTTP %d", url, resp.StatusCode)
	}
	var body struct {
		Events []eventhook.EventRecord `json:"events"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&body); err != nil {
		return nil, errors.Join(fmt.Errorf("GET %s: decode", url), err)
	}
	return body.Events, nil
}

func printRecord(w io.Writer, r eventhook.EventRecord, asJSON bool) {
	if asJSON {
		b, err := json.Marshal(r)
		if err == nil {
			fmt.Fprintln(w, string(b))
		}
		return
	}
	line := fmt.Sprintf("%s  %-32s %-8s %-10s %-9s %s", r.Received.Local().Format("15:04:05"), r.EventType, r.Outcome,
		r.Action, r.Result, r.Login)
	if r.WorkflowID != "" {
		line += "  " + r.WorkflowID
	}
	if r.RunID != "" {
		line += " (run " + r.RunID + ")"
	}
	if r.Reason != "" {
		line += "  — " + r.Reason
	}
	fmt.Fprintln(w, strings.TrimRight(line, " "))
}
