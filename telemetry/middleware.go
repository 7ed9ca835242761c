package telemetry

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// Wrap is the outermost HTTP middleware. It continues the client's W3C trace
// context, starts the server span "METHOD route", gives the handler a
// RequestInfo (see Info) and a ResponseWriter that still flushes, and when
// the handler returns (or panics) ends the span, records the request metrics
// and writes one log line.
func (t *Telemetry) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := t.now()
		route := Route(r.URL.Path)
		ctx := t.Propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := t.Tracer.Start(ctx, r.Method+" "+route,
			trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(
				semconv.HTTPRequestMethodKey.String(r.Method),
				semconv.HTTPRouteKey.String(route),
				semconv.URLPathKey.String(r.URL.Path),
			))
		st := &requestState{rw: responseWriter{ResponseWriter: w, now: t.now}, info: RequestInfo{Route: route}}
		rw, info := &st.rw, &st.info
		ctx = WithInfo(ctx, info)
		defer func() {
			if p := recover(); p != nil {
				if rw.status == 0 {
					rw.status = http.StatusInternalServerError
				}
				t.finish(ctx, r, span, rw, info, start)
				panic(p) // re-raised for net/http (ErrAbortHandler) or recovery middleware
			}
		}()
		h.ServeHTTP(rw, r.WithContext(ctx))
		t.finish(ctx, r, span, rw, info, start)
	})
}

// requestState puts the per-request values of Wrap in one allocation.
type requestState struct {
	rw   responseWriter
	info RequestInfo
}

// StatusClientClosed is the status logged and counted for a request whose
// client left before any answer was written.
const StatusClientClosed = 499

// ErrorClientClosed is the error kind of such a request.
const ErrorClientClosed = "client_closed"

// finish ends the server span, records metrics and logs the request.
func (t *Telemetry) finish(ctx context.Context, r *http.Request, span trace.Span, rw *responseWriter, info *RequestInfo, start time.Time) {
	d := t.now().Sub(start)
	status := rw.statusCode()
	s := info.snapshot()
	if rw.status == 0 && ctx.Err() != nil {
		// The client left before anything was written: nginx's 499,
		// never sent, rather than a 200 of 0 bytes.
		status = StatusClientClosed
		if s.ErrorKind == "" {
			s.ErrorKind = ErrorClientClosed
		}
	}
	s.Route = Route(s.Route)
	s.ttft = s.FirstByte
	if s.ttft == 0 && s.Stream && !rw.firstWrite.IsZero() {
		s.ttft = rw.firstWrite.Sub(start)
	}
	t.endSpan(span, s, status, rw.bytes)
	t.Metrics.request(ctx, s, status, d)
	t.logRequest(ctx, r, s, status, rw.bytes, d)
}

func (t *Telemetry) endSpan(span trace.Span, s infoSnapshot, status int, bytes int64) {
	if span.IsRecording() {
		attrs := make([]attribute.KeyValue, 0, 13)
		attrs = append(attrs,
			semconv.HTTPResponseStatusCodeKey.Int(status),
			semconv.HTTPResponseBodySizeKey.Int64(bytes),
			semconv.GenAIRequestModelKey.String(s.Model),
			KeyMode.String(s.Mode),
			KeyArm.String(s.Arm),
			KeyExperiment.String(s.Experiment),
			KeyCacheOutcome.String(s.Cache),
			KeyCorrected.Bool(s.Corrected),
			KeyFallback.String(s.Fallback),
			KeyStream.Bool(s.Stream),
		)
		if s.InputTokens > 0 || s.OutputTokens > 0 {
			attrs = append(attrs, UsageAttrs(s.InputTokens, s.OutputTokens)...)
		}
		if s.ttft > 0 {
			attrs = append(attrs, KeyTTFT.Float64(s.ttft.Seconds()))
		}
		if s.ErrorKind != "" {
			attrs = append(attrs, KeyErrorKind.String(s.ErrorKind), semconv.ErrorTypeKey.String(s.ErrorKind))
		}
		span.SetAttributes(attrs...)
		if status >= http.StatusInternalServerError {
			span.SetStatus(codes.Error, http.StatusText(status))
		}
	}
	span.End()
}

// logRequest writes the request's one log line: Info, or Error for 5xx.
func (t *Telemetry) logRequest(ctx context.Context, r *http.Request, s infoSnapshot, status int, bytes int64, d time.Duration) {
	level := slog.LevelInfo
	if status >= http.StatusInternalServerError {
		level = slog.LevelError
	}
	if !t.Logger.Enabled(ctx, level) {
		return
	}
	var buf [24]slog.Attr // stays on the stack: Record.AddAttrs copies
	attrs := buf[:0]
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		attrs = append(attrs, slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	attrs = append(attrs,
		slog.String("method", r.Method),
		slog.String("route", s.Route),
		slog.Int("status", status),
		slog.Int64("bytes", bytes),
		slog.Float64("duration_ms", ms(d)),
		slog.String("mode", s.Mode),
		slog.String("arm", s.Arm),
		slog.String("cache", s.Cache),
		slog.Bool("corrected", s.Corrected),
	)
	attrs = appendIf(attrs, "experiment", s.Experiment)
	attrs = appendIf(attrs, "model", s.Model)
	attrs = appendIf(attrs, "fallback", s.Fallback)
	attrs = appendIf(attrs, "error_kind", s.ErrorKind)
	if s.ttft > 0 {
		attrs = append(attrs, slog.Float64("ttft_ms", ms(s.ttft)))
	}
	if s.Upstream > 0 {
		attrs = append(attrs, slog.Float64("upstream_ms", ms(s.Upstream)), slog.Float64("upstream_ttfb_ms", ms(s.UpstreamTTFB)))
	}
	if s.InputTokens > 0 || s.OutputTokens > 0 {
		attrs = append(attrs, slog.Int("input_tokens", s.InputTokens), slog.Int("output_tokens", s.OutputTokens))
	}
	if s.Drafted > 0 {
		attrs = append(attrs, slog.Int("draft_tokens", s.Drafted), slog.Int("draft_accepted", s.Accepted))
	}
	// Straight to the handler: Logger.LogAttrs would also capture the
	// caller's PC, which costs more than it tells about this line.
	rec := slog.NewRecord(time.Now(), level, "request", 0)
	rec.AddAttrs(attrs...)
	_ = t.Logger.Handler().Handle(ctx, rec)
}

func appendIf(attrs []slog.Attr, key, v string) []slog.Attr {
	if v == "" {
		return attrs
	}
	return append(attrs, slog.String(key, v))
}

// ms is d in milliseconds with microsecond precision.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
