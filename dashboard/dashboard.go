package dashboard

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/aligngate/aligngate/policies"
)

// Options carries what is not configuration: where the dashboard reads
// from and what it forwards to.
type Options struct {
	// Metrics is the registry /metrics serves; nil shows no metrics.
	Metrics Metrics
	// Checks are health checks by name ("redis"), run per page refresh.
	Checks map[string]Check
	// Next receives every experiment record after the ring (the JSONL or
	// Redis sink); records of requests no experiment enrolled stay in the
	// ring. nil forwards nowhere.
	Next policies.Recorder
	// Now is the clock for chart samples. Default time.Now.
	Now func() time.Time
	// Logger receives sampling errors. Default discards.
	Logger *slog.Logger
}

// Dashboard is the admin page and the ring of recent records behind it.
// Build it with New, mount Handler under /ui, Close it on exit.
type Dashboard struct {
	cfg     Config
	ring    *ring
	series  *series
	metrics Metrics
	checks  map[string]Check
	next    policies.Recorder
	now     func() time.Time
	logger  *slog.Logger
	session string
	handler http.Handler

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// New builds a dashboard for cfg (defaults applied to a copy) and, when
// it is enabled and has metrics, starts sampling them for the charts.
func New(cfg Config, opts Options) (*Dashboard, error) {
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	d := &Dashboard{
		cfg: cfg, metrics: opts.Metrics, checks: opts.Checks, next: opts.Next,
		now: opts.Now, logger: opts.Logger, stop: make(chan struct{}), done: make(chan struct{}),
	}
	if !cfg.Enabled() {
		d.handler = http.NotFoundHandler()
		close(d.done)
		return d, nil
	}
	d.ring = newRing(cfg.RingSize, cfg.CaptureContent)
	d.series = &series{n: cfg.samples()}
	d.session = sessionToken(cfg.AdminKey)
	d.handler = d.routes()
	go d.sample()
	return d, nil
}

// Record keeps rec in the ring (content blanked unless captured) and
// passes it on to the next recorder. It never blocks on I/O.
func (d *Dashboard) Record(rec policies.Record) {
	if d.ring != nil {
		d.ring.add(rec)
	}
	if d.next != nil && rec.Experiment != "" {
		d.next.Record(rec)
	}
}

// Handler serves /ui and everything under it; 404 when disabled.
func (d *Dashboard) Handler() http.Handler { return d.handler }

// Close stops sampling. It does not close the next recorder, which its
// owner closes. Safe to call more than once.
func (d *Dashboard) Close() error {
	d.closeOnce.Do(func() { close(d.stop) })
	<-d.done
	return nil
}

// sample gathers the metrics every SampleEvery for the charts.
func (d *Dashboard) sample() {
	defer close(d.done)
	if d.metrics == nil {
		return
	}
	tick := time.NewTicker(d.cfg.SampleEvery)
	defer tick.Stop()
	for {
		d.sampleOnce()
		select {
		case <-d.stop:
			return
		case <-tick.C:
		}
	}
}

func (d *Dashboard) sampleOnce() {
	v, err := gather(d.metrics)
	if err != nil {
		d.logger.Warn("dashboard: sampling metrics failed", "err", err)
		return
	}
	d.series.observe(v, d.now())
}

// view gathers the metrics now; an empty view when there are none.
func (d *Dashboard) view() (view, error) {
	if d.metrics == nil {
		return view{}, nil
	}
	return gather(d.metrics)
}

// healthContext bounds the checks of one page refresh.
func healthContext(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), 2*time.Second)
}

var _ policies.Recorder = (*Dashboard)(nil)
