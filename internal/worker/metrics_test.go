package worker

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMetricsHandler(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := NewMetricsHandler(reg, nil).WithTags(map[string]string{"namespace": "default"})
	q := h.WithTags(map[string]string{"task_queue": "entra2okta-okta"})

	q.Counter("temporal_request").Inc(2)
	q.Counter("temporal_request").Inc(1)
	q.Gauge("temporal_worker_task_slots_available").Update(48)
	q.Timer("temporal_activity_execution_latency").Record(250 * time.Millisecond)
	// Same name, other tags: missing labels are "", extra tags dropped; the
	// gather must not fail.
	h.WithTags(map[string]string{"operation": "Poll"}).Counter("temporal_request").Inc(5)
	// Same name, other kind: ignored.
	q.Gauge("temporal_request").Update(1)

	n, err := testutil.GatherAndCount(reg)
	require.NoError(t, err)
	assert.Equal(t, 4, n) // two counter series, one gauge, one histogram

	families, err := reg.Gather()
	require.NoError(t, err)
	got := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			key := f.GetName()
			for _, l := range m.GetLabel() {
				key += "," + l.GetName() + "=" + l.GetValue()
			}
			switch {
			case m.GetCounter() != nil:
				got[key] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				got[key] = m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				got[key] = m.GetHistogram().GetSampleSum()
			}
		}
	}
	assert.Equal(t, map[string]float64{
		"temporal_request,namespace=default,task_queue=entra2okta-okta":                            3,
		"temporal_request,namespace=default,task_queue=":                                           5,
		"temporal_worker_task_slots_available,namespace=default,task_queue=entra2okta-okta":        48,
		"temporal_activity_execution_latency_seconds,namespace=default,task_queue=entra2okta-okta": 0.25,
	}, got)
}
