package worker

import (
	"log/slog"
	"maps"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
)

// NewMetricsHandler returns a Temporal SDK metrics handler that records into
// reg: counters as Prometheus counters, gauges as gauges and timers as
// histograms in seconds (name + "_seconds"). It needs no dependency beyond the
// Prometheus client. A metric's label names are fixed by its first use; later
// uses with other tags fill the missing labels with "" and drop extra tags, so
// a gather never fails on inconsistent label sets.
func NewMetricsHandler(reg prometheus.Registerer, logger *slog.Logger) client.MetricsHandler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &promHandler{fams: &families{reg: reg, byName: map[string]*family{}, logger: logger}}
}

type promHandler struct {
	fams *families
	tags map[string]string
}

type families struct {
	mu     sync.Mutex
	reg    prometheus.Registerer
	byName map[string]*family
	logger *slog.Logger
}

type family struct {
	kind    string   // counter, gauge, timer
	keys    []string // the tag keys, in label order
	labels  []string // the keys as valid label names
	counter *prometheus.CounterVec
	gauge   *prometheus.GaugeVec
	timer   *prometheus.HistogramVec
}

// timerBuckets spans Temporal's latencies: milliseconds (task handling) to
// minutes (schedule-to-start under a rate limit).
var timerBuckets = []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300}

var invalidNameChars = regexp.MustCompile(`[^a-zA-Z0-9_:]`)

// WithTags implements client.MetricsHandler.
func (h *promHandler) WithTags(tags map[string]string) client.MetricsHandler {
	merged := maps.Clone(h.tags)
	if merged == nil {
		merged = map[string]string{}
	}
	maps.Copy(merged, tags)
	return &promHandler{fams: h.fams, tags: merged}
}

// Counter implements client.MetricsHandler.
func (h *promHandler) Counter(name string) client.MetricsCounter {
	f, values := h.fams.get("counter", name, h.tags)
	if f == nil {
		return client.MetricsNopHandler.Counter(name)
	}
	c := f.counter.WithLabelValues(values...)
	return counterFunc(func(d int64) { c.Add(float64(d)) })
}

// Gauge implements client.MetricsHandler.
func (h *promHandler) Gauge(name string) client.MetricsGauge {
	f, values := h.fams.get("gauge", name, h.tags)
	if f == nil {
		return client.MetricsNopHandler.Gauge(name)
	}
	g := f.gauge.WithLabelValues(values...)
	return gaugeFunc(g.Set)
}

// Timer implements client.MetricsHandler.
func (h *promHandler) Timer(name string) client.MetricsTimer {
	f, values := h.fams.get("timer", name, h.tags)
	if f == nil {
		return client.MetricsNopHandler.Timer(name)
	}
	o := f.timer.WithLabelValues(values...)
	return timerFunc(func(d time.Duration) { o.Observe(d.Seconds()) })
}

type counterFunc func(int64)

func (f counterFunc) Inc(d int64) { f(d) }

type gaugeFunc func(float64)

func (f gaugeFunc) Update(v float64) { f(v) }

type timerFunc func(time.Duration)

func (f timerFunc) Record(d time.Duration) { f(d) }

// get returns the family of a metric, creating and registering it on first
// use, and the label values for tags. It returns nil when the name is taken by
// another kind or cannot be registered.
func (fs *families) get(kind, name string, tags map[string]string) (*family, []string) {
	name = invalidNameChars.ReplaceAllString(name, "_")
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f, ok := fs.byName[name]
	if !ok {
		f = &family{kind: kind, keys: slices.Sorted(maps.Keys(tags))}
		for _, k := range f.keys {
			f.labels = append(f.labels, invalidNameChars.ReplaceAllString(k, "_"))
		}
		var c prometheus.Collector
		switch kind {
		case "counter":
			f.counter = prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: "Temporal SDK counter " + name}, f.labels)
			c = f.counter
		case "gauge":
			f.gauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: "Temporal SDK gauge " + name}, f.labels)
			c = f.gauge
		default:
			f.timer = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name + "_seconds", Help: "Temporal SDK timer " + name,
				Buckets: timerBuckets}, f.labels)
			c = f.timer
		}
		if err := fs.reg.Register(c); err != nil {
			fs.logger.Warn("cannot register metric", "name", name, "err", err)
			f = nil
		}
		fs.byName[name] = f
	}
	if f == nil || f.kind != kind {
		return nil, nil
	}
	values := make([]string, len(f.keys))
	for i, k := range f.keys {
		values[i] = tags[k]
	}
	return f, values
}
