package worker

import (
	"context"
	"log/slog"
	"time"

	"go.temporal.io/sdk/client"

	"entra2okta/internal/control"
	"entra2okta/workflows"
)

// How conflicting rates are handled.
//
// Every worker always asks the server for its configured rate
// (TaskQueueActivitiesPerSecond = OKTA_RPS, OKTA_CREATE_RPS, GRAPH_RPS), so
// that removing an override (starter throttle --reset) brings that rate back.
// The server enforces one rate per task queue, across all workers:
//
//   - an override set by starter throttle wins over every worker's rate;
//   - otherwise, when workers ask for different rates, the server applies the
//     one of the latest poll, and the rate flips between them.
//
// Neither is an error (a rolling deploy that changes a rate briefly has two
// rates), but both silently ignore a setting, so a worker that starts checks
// each queue and logs a warning naming the rate in force, its source and the
// way out. `starter status` and `starter throttle` show the same per queue.

// rateCheckDelay lets this worker's pollers reach the server before the check.
const rateCheckDelay = 5 * time.Second

// checkRates logs a warning for each rate-limited task queue whose rate is not
// the one cfg asks for: an override set by starter throttle, or other workers
// asking for another rate. It gives up quietly when ctx ends or the server
// cannot be asked: it only informs.
func checkRates(ctx context.Context, c client.Client, cfg Config, logger *slog.Logger, delay time.Duration) {
	select {
	case <-ctx.Done():
		return
	case <-time.After(delay):
	}
	for _, q := range []struct {
		tq, env string
		rps     float64
	}{
		{workflows.OktaTaskQueue, "OKTA_RPS", cfg.OktaRPS},
		{workflows.OktaCreateTaskQueue, "OKTA_CREATE_RPS", cfg.OktaCreateRPS},
		{workflows.GraphTaskQueue, "GRAPH_RPS", cfg.GraphRPS},
	} {
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		r, err := control.DescribeActivityRate(dctx, c, cfg.TemporalNamespace, q.tq)
		cancel()
		if err != nil {
			logger.Debug("rate check", "taskQueue", q.tq, "error", err)
			continue
		}
		switch {
		case r.Tuned != nil:
			// The workers' tuner set it from Okta's headers; it logs its own
			// changes (ratetune.go).
		case r.Override != nil && r.Override.RPS != q.rps:
			logger.Warn("rate limit overridden by starter throttle: this worker's setting is not applied until `starter throttle --reset`",
				"taskQueue", q.tq, "variable", q.env, "configured", q.rps, "inForce", r.Override.RPS,
				"reason", r.Override.Reason, "setAt", r.Override.At)
		case r.Override == nil:
			var others []string
			for _, w := range r.Workers {
				if w.RPS != q.rps {
					others = append(others, w.Identity)
				}
			}
			if len(others) > 0 {
				logger.Warn("workers ask for different rate limits: the server applies the rate of whichever polled last; "+
					"give every worker the same value, or pin one with `starter throttle`",
					"taskQueue", q.tq, "variable", q.env, "configured", q.rps, "rates", r.WorkerRates(), "otherWorkers", others)
			}
		}
	}
}
