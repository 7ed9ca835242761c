package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/aligngate/aligngate/config"
	"github.com/aligngate/aligngate/llamacpp"
	"github.com/aligngate/aligngate/policies"
)

// serveFlags are the command-line overrides of the config file.
type serveFlags struct {
	config   string
	listen   string
	upstream string
	logLevel string
	mode     string
	model    string
	url      string
	remote   string
	template string
	redis    string
	libDir   string
}

func parseServeFlags(args []string, stderr io.Writer) (serveFlags, error) {
	var f serveFlags
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.config, "config", "", "config `file` (default: embedded defaults)")
	fs.StringVar(&f.listen, "listen", "", "listen `address`, e.g. :8080 (overrides server.listen)")
	fs.StringVar(&f.upstream, "upstream", "", "upstream base `URL`, e.g. http://127.0.0.1:8000/v1 (replaces upstreams)")
	fs.StringVar(&f.logLevel, "log-level", os.Getenv("ALIGNGATE_LOG_LEVEL"), "log `level`: debug, info, warn, error (overrides telemetry.log.level)")
	fs.StringVar(&f.mode, "mode", "", "default correction `mode`: off, aligner or stream (overrides policies.default.mode)")
	fs.StringVar(&f.model, "aligner-model", "", "local GGUF correction model `path` (overrides llamacpp.model_path)")
	fs.StringVar(&f.url, "aligner-url", "", "remote OpenAI-compatible /v1/completions base `URL` (overrides correct.remote.base_url)")
	fs.StringVar(&f.remote, "aligner-remote-model", "", "model `name` to ask the remote backend for (overrides correct.remote.model; default: the one its /v1/models lists)")
	fs.StringVar(&f.template, "aligner-template", "", "Aligner prompt template `name` (overrides correct.template)")
	fs.StringVar(&f.redis, "redis", "", "Redis `URL` for the shared correction cache (overrides cache.redis_url)")
	f.libDir = os.Getenv("YZMA_LIB")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return f, errUsage
		}
		return f, err
	}
	if fs.NArg() > 0 {
		return f, fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	return f, nil
}

// loadConfig reads the file (or the defaults) and applies the flags, which
// win over the file.
func loadConfig(f serveFlags) (*config.Config, error) {
	cfg, err := config.Load(f.config, os.LookupEnv)
	if err != nil {
		return nil, err
	}
	if f.listen != "" {
		cfg.Server.Listen = f.listen
	}
	if f.upstream != "" {
		cfg.Upstreams = []config.Upstream{{Name: "default", BaseURL: f.upstream}}
	}
	f.apply(cfg)
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid configuration: %w", err)
	}
	return cfg, nil
}

// apply sets the flags that override config keys.
func (f serveFlags) apply(cfg *config.Config) {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&cfg.Telemetry.Log.Level, f.logLevel)
	set(&cfg.Policies.Default.Mode, f.mode)
	set(&cfg.LlamaCpp.ModelPath, f.model)
	set(&cfg.Correct.Remote.BaseURL, f.url)
	set(&cfg.Correct.Remote.Model, f.remote)
	set(&cfg.Correct.Template, f.template)
	set(&cfg.Cache.RedisURL, f.redis)
	if f.url != "" && f.model == "" && cfg.LlamaCpp.ModelPath == "" {
		cfg.Correct.Backend = "remote"
	}
	if f.libDir != "" && (cfg.LlamaCpp.LibDir == "" || cfg.LlamaCpp.LibDir == llamacpp.DefaultLibDir) {
		cfg.LlamaCpp.LibDir = f.libDir
	}
}

func runServe(ctx context.Context, args []string, stderr io.Writer) error {
	f, err := parseServeFlags(args, stderr)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(f)
	if err != nil {
		return err
	}
	gin.SetMode(gin.ReleaseMode)
	a, err := build(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer a.close(context.Background())
	if f.config != "" {
		go a.reloadPolicies(ctx, f)
	}
	return serveUntilDone(ctx, a.srv.HTTPServer(), a.tel.Logger, cfg)
}

// reloadPolicies applies policy changes on file change and on SIGHUP.
func (a *app) reloadPolicies(ctx context.Context, f serveFlags) {
	load := func() (*policies.Config, error) {
		cfg, err := loadConfig(f)
		if err != nil {
			return nil, err
		}
		return &cfg.Policies, nil
	}
	go a.policies.Watch(ctx, f.config, time.Second, load, a.tel.Logger)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			if err := a.policies.Reload(load); err != nil {
				a.tel.Logger.Error("policy reload rejected; the old policy stays", "err", err)
			} else {
				a.tel.Logger.Info("policies reloaded on SIGHUP")
			}
		}
	}
}

// serveUntilDone serves until ctx ends, then drains in-flight requests.
func serveUntilDone(ctx context.Context, hs *http.Server, logger *slog.Logger, cfg *config.Config) error {
	ln, err := net.Listen("tcp", hs.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	names := make([]string, 0, len(cfg.Upstreams))
	for _, u := range cfg.Upstreams {
		names = append(names, u.Name+"="+u.BaseURL)
	}
	logger.Info("aligngate listening", "addr", ln.Addr().String(), "upstreams", strings.Join(names, ","), "version", version)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
