// Package telemetry gives aligngate its traces, metrics and logs.
//
// New builds an OpenTelemetry tracer provider and meter provider from
// Config, a Prometheus registry of its own for GET /metrics, and a
// *slog.Logger whose handler scrubs secrets. Nothing here touches the otel
// globals: everything is returned in a Telemetry value that the caller passes
// down. Wrap is the outermost HTTP middleware: it continues the client's W3C
// trace context, starts the server span, records request metrics and writes
// one log line per request. Handlers annotate the request through Info(ctx).
//
// Telemetry never breaks serving: spans go through a bounded batch processor,
// export failures are counted and logged (rate limited) instead of returned,
// and an unreachable collector only loses data.
//
// It owns observation only: it must not import proxy, correct, cache,
// policies, llamacpp or config; the proxy hands it requests through Wrap
// and records through its small methods.
package telemetry
