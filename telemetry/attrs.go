package telemetry

import (
	"time"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// Span names for the child spans the proxy starts with Telemetry.Tracer.
// The upstream span is named by UpstreamSpanName, per the GenAI conventions.
const (
	SpanPolicy     = "aligngate.policy"
	SpanCache      = "aligngate.cache.lookup"
	SpanCorrection = "aligngate.correct"
)

// GenAI operation names (gen_ai.operation.name).
const (
	OperationChat       = "chat"
	OperationCompletion = "text_completion"
	OperationEmbeddings = "embeddings"
)

// Attribute keys of our own; standard ones come from the OTel semantic
// conventions (gen_ai.*, http.*).
const (
	KeyMode             = attribute.Key("aligngate.mode")
	KeyArm              = attribute.Key("aligngate.arm")
	KeyExperiment       = attribute.Key("aligngate.experiment")
	KeyPolicyRule       = attribute.Key("aligngate.policy.rule")
	KeyCacheOutcome     = attribute.Key("aligngate.cache.outcome")
	KeyCorrected        = attribute.Key("aligngate.corrected")
	KeyFallback         = attribute.Key("aligngate.fallback")
	KeyErrorKind        = attribute.Key("aligngate.error.kind")
	KeyStream           = attribute.Key("aligngate.stream")
	KeyBackend          = attribute.Key("aligngate.correction.backend")
	KeyTemplate         = attribute.Key("aligngate.correction.template")
	KeyOutcome          = attribute.Key("aligngate.correction.outcome")
	KeyCorrectionOutput = attribute.Key("aligngate.correction.output")
	KeyTTFB             = attribute.Key("aligngate.upstream.time_to_first_byte")
	KeyTTFT             = attribute.Key("aligngate.time_to_first_token")
)

// Content keys for AddContent.
const (
	ContentInput  = semconv.GenAIInputMessagesKey  // the prompt
	ContentOutput = semconv.GenAIOutputMessagesKey // the upstream answer
)

// EventFirstByte is the span event marking the upstream's first byte.
const EventFirstByte = "aligngate.first_byte"

// UpstreamSpanName is the GenAI-convention span name "{operation} {model}".
func UpstreamSpanName(operation, model string) string {
	if model == "" {
		return operation
	}
	return operation + " " + model
}

// UpstreamAttrs are the attributes to start the upstream client span with.
func UpstreamAttrs(operation, model string) []attribute.KeyValue {
	return []attribute.KeyValue{
		semconv.GenAIOperationNameKey.String(operation),
		semconv.GenAIRequestModelKey.String(model),
	}
}

// UsageAttrs are gen_ai.usage.input_tokens and output_tokens.
func UsageAttrs(inputTokens, outputTokens int) []attribute.KeyValue {
	return []attribute.KeyValue{
		semconv.GenAIUsageInputTokensKey.Int(inputTokens),
		semconv.GenAIUsageOutputTokensKey.Int(outputTokens),
	}
}

// ResponseModelAttr is gen_ai.response.model.
func ResponseModelAttr(model string) attribute.KeyValue {
	return semconv.GenAIResponseModelKey.String(model)
}

// MarkFirstByte records the upstream's time to first byte on span, as an
// event and as an attribute in seconds.
func MarkFirstByte(span trace.Span, ttfb time.Duration) {
	span.AddEvent(EventFirstByte)
	span.SetAttributes(KeyTTFB.Float64(ttfb.Seconds()))
}

// CorrectionSpan describes one correction for its span.
type CorrectionSpan struct {
	Mode, Backend, Template, Model string
	InputTokens, OutputTokens      int
	Outcome                        string
}

// Attrs returns the correction's span attributes; set them when it ends.
func (c CorrectionSpan) Attrs() []attribute.KeyValue {
	return []attribute.KeyValue{
		semconv.GenAIOperationNameKey.String(OperationCompletion),
		semconv.GenAIRequestModelKey.String(c.Model),
		semconv.GenAIUsageInputTokensKey.Int(c.InputTokens),
		semconv.GenAIUsageOutputTokensKey.Int(c.OutputTokens),
		KeyMode.String(c.Mode),
		KeyBackend.String(c.Backend),
		KeyTemplate.String(c.Template),
		KeyOutcome.String(c.Outcome),
	}
}
