package telemetry

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// newLogger builds the JSON or text logger behind the scrubbing Handler.
func newLogger(cfg LogConfig, w io.Writer, secrets []string, captureContent bool) (*slog.Logger, error) {
	level, err := parseLevel(cfg.Level)
	if err != nil {
		return nil, err
	}
	opts := &slog.HandlerOptions{Level: level}
	var base slog.Handler
	if cfg.Format == FormatText {
		base = slog.NewTextHandler(w, opts)
	} else {
		base = slog.NewJSONHandler(w, opts)
	}
	return slog.New(NewHandler(base, secrets, captureContent)), nil
}

func parseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "", "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("%w: log level %q", ErrInvalidConfig, s)
}
