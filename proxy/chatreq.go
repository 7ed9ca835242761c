package proxy

import (
	"github.com/aligngate/aligngate/correct"
	"github.com/aligngate/aligngate/wire"
)

func turns(r *wire.ChatRequest) []correct.Turn {
	t := make([]correct.Turn, 0, len(r.Messages))
	for _, m := range r.Messages {
		t = append(t, correct.Turn{Role: m.Role, Text: m.Text()})
	}
	return t
}

// Reasons an answer is passed through uncorrected whatever the policy says;
// sent in X-Aligngate-Skipped.
const (
	skipTools    = "tools"
	skipJSON     = "json"
	skipLogprobs = "logprobs"
	skipNoModel  = "no_backend"
	skipNoText   = "no_text"
)

// skipReason reports why this request's answer must not be rewritten, or "".
// Tools only matter when the answer streams through the corrector, since
// there a tool call cannot be told from text in advance; whole answers are
// checked choice by choice.
func skipReason(r *wire.ChatRequest, streaming bool) string {
	switch {
	case r.Logprobs:
		return skipLogprobs
	case r.ResponseFormat.Type == "json_object" || r.ResponseFormat.Type == "json_schema":
		return skipJSON
	case streaming && (r.Tools == '[' || r.Functions == '['):
		return skipTools
	}
	return ""
}
