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
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/aligngate/aligngate/config"
	"github.com/aligngate/aligngate/proxy"
)

// serveFlags are the command-line overrides of the config file.
type serveFlags struct {
	config   string
	listen   string
	upstream string
	logLevel string
}

func parseServeFlags(args []string, stderr io.Writer) (serveFlags, error) {
	var f serveFlags
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.config, "config", "", "config `file` (default: embedded defaults)")
	fs.StringVar(&f.listen, "listen", "", "listen `address`, e.g. :8080 (overrides server.listen)")
	fs.StringVar(&f.upstream, "upstream", "", "upstream base `URL`, e.g. http://127.0.0.1:8000/v1 (replaces upstreams)")
	fs.StringVar(&f.logLevel, "log-level", envOr("ALIGNGATE_LOG_LEVEL", "info"), "log `level`: debug, info, warn, error")
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

func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
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
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid configuration: %w", err)
	}
	return cfg, nil
}

func newLogger(level string, w io.Writer) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l})), nil
}

func runServe(ctx context.Context, args []string, stderr io.Writer) error {
	f, err := parseServeFlags(args, stderr)
	if err != nil {
		return err
	}
	logger, err := newLogger(f.logLevel, stderr)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(f)
	if err != nil {
		return err
	}
	gin.SetMode(gin.ReleaseMode)
	srv, err := proxy.New(cfg, proxy.Options{Logger: logger})
	if err != nil {
		return err
	}
	return serveUntilDone(ctx, srv.HTTPServer(), logger, cfg)
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

func runCheck(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("config", "", "config `file` to validate")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errUsage
		}
		return err
	}
	if *file == "" {
		return errors.New("check: --config FILE is required")
	}
	if _, err := config.Load(*file, os.LookupEnv); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: ok\n", *file)
	return nil
}
