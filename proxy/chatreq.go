package proxy

import (
	"encoding/json"
	"strings"

	"github.com/aligngate/aligngate/correct"
)

// chatRequest is what correction needs of a chat completion request.
type chatRequest struct {
	Messages       []chatMessage `json:"messages"`
	Tools          present       `json:"tools"`
	Functions      present       `json:"functions"`
	ResponseFormat struct {
		Type string `json:"type"`
	} `json:"response_format"`
	Logprobs      bool `json:"logprobs"`
	N             int  `json:"n"`
	StreamOptions struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
}

// chatMessage is one message; content is a string or an array of parts.
type chatMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// text returns the message's text, skipping non-text parts.
func (m chatMessage) text() string {
	var s string
	if json.Unmarshal(m.Content, &s) == nil {
		return s
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if json.Unmarshal(m.Content, &parts) != nil {
		return ""
	}
	var b strings.Builder
	for _, p := range parts {
		if p.Type == "text" || p.Type == "input_text" {
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

func (r *chatRequest) turns() []correct.Turn {
	t := make([]correct.Turn, 0, len(r.Messages))
	for _, m := range r.Messages {
		t = append(t, correct.Turn{Role: m.Role, Text: m.text()})
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
func (r *chatRequest) skipReason(streaming bool) string {
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

// lenientMetadata reads the string members of a metadata object and ignores
// anything else, so an odd value never rejects a request the upstream takes.
type lenientMetadata map[string]string

func (m *lenientMetadata) UnmarshalJSON(b []byte) error {
	var raw map[string]any
	if json.Unmarshal(b, &raw) != nil {
		return nil
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	*m = out
	return nil
}
