package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/aligngate/aligngate/cache"
	"github.com/aligngate/aligngate/config"
	"github.com/aligngate/aligngate/correct"
	"github.com/aligngate/aligngate/dashboard"
	"github.com/aligngate/aligngate/llamacorrect"
	"github.com/aligngate/aligngate/llamacpp"
	"github.com/aligngate/aligngate/policies"
	"github.com/aligngate/aligngate/proxy"
	"github.com/aligngate/aligngate/telemetry"
)

// app is everything one serve process runs, in start order; close stops it
// in reverse.
type app struct {
	tel      *telemetry.Telemetry
	engine   *llamacpp.Engine
	cache    *cache.Cache
	recorder *policies.AsyncRecorder
	ui       *dashboard.Dashboard
	policies *policies.Engine
	srv      *proxy.Server
}

// build wires the packages together from a validated config.
func build(ctx context.Context, cfg *config.Config, logOut io.Writer) (*app, error) {
	a := &app{}
	var err error
	if a.tel, err = telemetry.New(ctx, cfg.Telemetry, telemetry.Options{LogWriter: logOut, Secrets: cfg.Secrets()}); err != nil {
		return nil, prefixOnce("telemetry", err)
	}
	log := a.tel.Logger
	cache.RouteRedisLogs(log)
	corrector, err := a.buildCorrector(ctx, cfg, log)
	if err != nil {
		a.close(context.Background())
		return nil, err
	}
	a.policies = policies.NewEngine(&cfg.Policies)
	if a.recorder, err = policies.NewRecorder(cfg.Policies.Records, log); err != nil {
		a.close(context.Background())
		return nil, prefixOnce("policies.records", err)
	}
	if cfg.Policies.Records.Sink == policies.SinkRedis {
		logRedis(ctx, log, "policies.records.redis_url", cfg.Policies.Records.RedisURL)
	}
	opts := proxy.Options{Logger: log, Policies: a.policies, Recorder: a.recorder, Telemetry: a.tel}
	if a.cache != nil {
		opts.CacheDegraded = a.cache.Degraded
	}
	if err := a.buildDashboard(cfg, &opts); err != nil {
		a.close(context.Background())
		return nil, err
	}
	if corrector != nil { // a typed nil would read as a corrector
		opts.Corrector = corrector
		cc := corrector.Config()
		opts.Correction = proxy.CorrectionSettings{Backend: cc.Backend, Drive: cc.Drive, MultiTurn: cc.MultiTurn,
			Keepalive: cc.KeepaliveEvery()}
	}
	if a.srv, err = proxy.New(&cfg.Config, opts); err != nil {
		a.close(context.Background())
		return nil, err
	}
	return a, nil
}

// buildDashboard builds the admin page when an admin key is set: it keeps
// the records the proxy makes in its ring and forwards them to the sink.
func (a *app) buildDashboard(cfg *config.Config, opts *proxy.Options) error {
	if !cfg.Dashboard.Enabled() {
		return nil
	}
	dc := cfg.Dashboard
	dc.CaptureContent = cfg.Telemetry.CaptureContent
	d, err := dashboard.New(dc, dashboard.Options{Metrics: a.tel.Gatherer(), Next: a.recorder, Logger: a.tel.Logger})
	if err != nil {
		return prefixOnce("dashboard", err)
	}
	a.ui, opts.Recorder, opts.UI, opts.RecordAll = d, d, d.Handler(), true
	return nil
}

// buildCorrector opens the correction backends that the config names. With
// none configured it returns nil: answers pass through uncorrected.
func (a *app) buildCorrector(ctx context.Context, cfg *config.Config, log *slog.Logger) (*correct.Corrector, error) {
	models := map[string]correct.Model{}
	if cfg.LlamaCpp.ModelPath != "" {
		e, err := llamacpp.Open(cfg.LlamaCpp, log)
		if err != nil {
			return nil, prefixOnce("llamacpp", err)
		}
		a.engine = e
		models[correct.BackendLocal] = llamacorrect.New(e)
		if err := a.tel.Metrics.RegisterEngineStats(func() telemetry.EngineStats {
			st := e.Stats()
			return telemetry.EngineStats{
				QueueDepth: st.QueueDepth, BusySequences: st.BusySequences,
				DraftAccepted: st.Draft.Accepted, DraftRejected: st.Draft.Drafted - st.Draft.Accepted,
				AcceptedPerStep: st.Draft.AcceptedPerStep,
			}
		}); err != nil {
			return nil, prefixOnce("telemetry", err)
		}
	}
	if cfg.Correct.Remote.BaseURL != "" {
		r, err := openRemote(ctx, cfg.Correct.Remote, a.tel.InjectHeaders, log)
		if err != nil {
			return nil, err
		}
		if err := a.tel.Metrics.RegisterRemoteRetries(r.Retries); err != nil {
			return nil, fmt.Errorf("telemetry: %w", err)
		}
		models[correct.BackendRemote] = r
	}
	if len(models) == 0 {
		log.Warn("no correction model configured (llamacpp.model_path or correct.remote.base_url): answers pass through uncorrected")
		return nil, nil
	}
	ccfg := cfg.Correct
	if models[ccfg.Backend] == nil {
		for name := range models {
			log.Warn("correct.backend is not configured; using the one that is", "backend", ccfg.Backend, "using", name)
			ccfg.Backend = name
		}
	}
	var store correct.Cache
	if c, err := cache.New(cfg.Cache, log); err != nil {
		return nil, prefixOnce("cache", err)
	} else {
		a.cache = c
		store = c
	}
	logRedis(ctx, log, "cache.redis_url", cfg.Cache.RedisURL)
	return correct.New(ccfg, models, store, log)
}

// close releases what build opened, flushing telemetry last.
func (a *app) close(ctx context.Context) {
	if a.srv != nil {
		_ = a.srv.Close()
	}
	if a.ui != nil {
		_ = a.ui.Close()
	}
	if a.recorder != nil {
		_ = a.recorder.Close()
	}
	if a.cache != nil {
		_ = a.cache.Close()
	}
	if a.engine != nil {
		_ = a.engine.Close()
	}
	if a.tel != nil {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := a.tel.Shutdown(sctx); err != nil && !errors.Is(err, context.Canceled) {
			fmt.Println("telemetry shutdown:", err)
		}
	}
}

// prefixOnce prefixes err with "name: " unless its message already starts
// with the package's own prefix (the part of name before any "."), so
// every error names its package once.
func prefixOnce(name string, err error) error {
	pkg, _, _ := strings.Cut(name, ".")
	if msg := err.Error(); strings.HasPrefix(msg, name+":") || strings.HasPrefix(msg, pkg+":") {
		return err
	}
	return fmt.Errorf("%s: %w", name, err)
}
