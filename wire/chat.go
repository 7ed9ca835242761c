package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
)

// Present records whether a JSON field was there (and what kind of value it
// held: its first byte) without copying it.
type Present byte

// UnmarshalJSON implements json.Unmarshaler.
func (p *Present) UnmarshalJSON(b []byte) error {
	if len(b) > 0 {
		*p = Present(b[0])
	}
	return nil
}

// StringField is a JSON field that must be a string when present.
type StringField struct {
	Kind  Present
	Value string
}

// UnmarshalJSON implements json.Unmarshaler.
func (f *StringField) UnmarshalJSON(b []byte) error {
	_ = f.Kind.UnmarshalJSON(b)
	if f.Kind != '"' {
		return nil
	}
	return json.Unmarshal(b, &f.Value)
}

// Routing is what the proxy reads of a request body to route and validate
// it; the body itself is forwarded untouched.
type Routing struct {
	Model    StringField `json:"model"`
	Messages Present     `json:"messages"`
	Stream   bool        `json:"stream"`
	User     StringField `json:"user"`
	// Metadata is read for policies only.
	Metadata Metadata `json:"metadata"`
}

// ParseRouting reads the routing fields of a request body, which must be a
// JSON object.
func ParseRouting(body []byte) (Routing, error) {
	var r Routing
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return r, errors.New("the body must be a JSON object")
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return r, err
	}
	return r, nil
}

// Metadata reads the string members of a metadata object and ignores
// anything else, so an odd value never rejects a request the upstream takes.
type Metadata map[string]string

// UnmarshalJSON implements json.Unmarshaler.
func (m *Metadata) UnmarshalJSON(b []byte) error {
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

// ChatRequest is what correction needs of a chat completion request.
type ChatRequest struct {
	Messages       []ChatMessage `json:"messages"`
	Tools          Present       `json:"tools"`
	Functions      Present       `json:"functions"`
	ResponseFormat struct {
		Type string `json:"type"`
	} `json:"response_format"`
	Logprobs bool `json:"logprobs"`
	N        int  `json:"n"`
	// MaxTokens and MaxCompletionTokens are the client's caps on the
	// answer; see AnswerCap.
	MaxTokens           int `json:"max_tokens"`
	MaxCompletionTokens int `json:"max_completion_tokens"`
	StreamOptions       struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
}

// ChatMessage is one message; content is a string or an array of parts.
type ChatMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// Text returns the message's text, skipping non-text parts.
func (m ChatMessage) Text() string {
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

// Message is an assistant message aligngate writes.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// AnswerCap is the client's cap on the answer's tokens: the least of
// max_tokens and max_completion_tokens that is set (> 0), or 0 for none.
func (r *ChatRequest) AnswerCap() int {
	c := r.MaxTokens
	if m := r.MaxCompletionTokens; m > 0 && (c <= 0 || m < c) {
		c = m
	}
	return max(c, 0)
}
