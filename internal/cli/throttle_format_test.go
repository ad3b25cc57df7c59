package cli

import (
	"strings"
	"testing"

	"entra2okta/internal/control"
	"entra2okta/workflows"
)

// TestFormatRateSources: each source of a queue's rate reads as such:
// configured by the workers, learned from Okta's headers, pinned by starter
// throttle.
func TestFormatRateSources(t *testing.T) {
	create := rateQueues[1]
	if create.tq != workflows.OktaCreateTaskQueue {
		t.Fatalf("rateQueues[1] = %+v", create)
	}
	workers := []control.WorkerRate{{Identity: "w1", RPS: 9.7}}
	tuned := control.TunedRate{Bucket: "users", LimitPerMin: 300, Target: 0.97}
	for _, tc := range []struct {
		name string
		q    control.QueueRate
		want []string
	}{
		{"configured", control.QueueRate{Effective: 9.7, Source: control.RateFromWorkers, Workers: workers},
			[]string{"9.70 requests/s (582/min), the workers' OKTA_CREATE_RPS (configured)"}},
		{"learned", control.QueueRate{Effective: 4.85, Source: control.RateFromOverride, Workers: workers, Tuned: &tuned,
			Override: &control.RateOverride{RPS: 4.85, By: control.TunerIdentity, Reason: tuned.Reason()}},
			[]string{"4.85 requests/s (291/min), learned from Okta's rate-limit headers: this API token may make 300/min in Okta's users bucket, the workers aim at 97% of it",
				"under the workers' OKTA_CREATE_RPS (9.7/s); pin another rate with starter throttle --okta-create-rps"}},
		{"pinned", control.QueueRate{Effective: 2, Source: control.RateFromOverride, Workers: workers,
			Override: &control.RateOverride{RPS: 2, By: control.StarterIdentity, Reason: "incident"}},
			[]string{`2.00 requests/s (120/min), set by starter throttle ("incident"), pinned`,
				"the workers' OKTA_CREATE_RPS (9.7/s) is not applied until starter throttle --reset, nor the rate they learn from Okta's headers"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := formatRate(create, tc.q)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("formatRate:\n%s\nwant it to contain %q", got, w)
				}
			}
		})
	}
}
