package wire

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Responses API stream event types aligngate reads or writes
// (POST /v1/responses with "stream": true).
const (
	EventResponseCreated    = "response.created"
	EventResponseInProgress = "response.in_progress"
	EventResponseCompleted  = "response.completed"
	EventResponseIncomplete = "response.incomplete"
	EventResponseFailed     = "response.failed"
	EventOutputItemAdded    = "response.output_item.added"
	EventOutputItemDone     = "response.output_item.done"
	EventContentPartAdded   = "response.content_part.added"
	EventContentPartDone    = "response.content_part.done"
	EventOutputTextDelta    = "response.output_text.delta"
	EventOutputTextDone     = "response.output_text.done"
	EventOutputTextAnnot    = "response.output_text.annotation.added"
)

// Responses API item and content part types aligngate tells apart.
const (
	ItemMessage     = "message"
	PartOutputText  = "output_text"
	PartInputText   = "input_text"
	LogprobsInclude = "message.output_text.logprobs"
)

// ResponsesRequest is what correction needs of a Responses API request
// (POST /v1/responses); the body itself is forwarded untouched.
type ResponsesRequest struct {
	// Input is a string or an array of input items.
	Input json.RawMessage `json:"input"`
	// Instructions is the system (developer) message; a string.
	Instructions json.RawMessage `json:"instructions"`
	Tools        Present         `json:"tools"`
	Text         struct {
		Format struct {
			Type string `json:"type"`
		} `json:"format"`
	} `json:"text"`
	Include     []string `json:"include"`
	TopLogprobs int      `json:"top_logprobs"`
	// PreviousResponseID chains the request to a stored response whose
	// turns the proxy never sees.
	PreviousResponseID string `json:"previous_response_id"`
}

// WantsLogprobs reports whether the request asks for the output text's
// log probabilities, which a rewritten text would invalidate.
func (r *ResponsesRequest) WantsLogprobs() bool {
	if r.TopLogprobs > 0 {
		return true
	}
	for _, inc := range r.Include {
		if inc == LogprobsInclude {
			return true
		}
	}
	return false
}

// Turn is one role and its text, as a Responses request holds it.
type Turn struct {
	Role string
	Text string
}

// Turns returns the conversation of the request in order: the
// instructions as a system turn, then every input message with its text
// parts joined by newlines. Items that are not messages (function calls
// and their outputs, reasoning, tool results) are left out. A string
// input is one user turn.
func (r *ResponsesRequest) Turns() []Turn {
	var out []Turn
	var instr string
	if json.Unmarshal(r.Instructions, &instr) == nil && instr != "" {
		out = append(out, Turn{Role: "system", Text: instr})
	}
	var s string
	if json.Unmarshal(r.Input, &s) == nil {
		return append(out, Turn{Role: "user", Text: s})
	}
	var items []struct {
		Type    string          `json:"type"`
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	}
	if json.Unmarshal(r.Input, &items) != nil {
		return out
	}
	for _, it := range items {
		if it.Role == "" || (it.Type != "" && it.Type != ItemMessage) {
			continue
		}
		out = append(out, Turn{Role: it.Role, Text: inputText(it.Content)})
	}
	return out
}

// inputText returns a message's text: the string content, or its text
// parts (input_text, output_text) joined by newlines.
func inputText(content json.RawMessage) string {
	var s string
	if json.Unmarshal(content, &s) == nil {
		return s
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if json.Unmarshal(content, &parts) != nil {
		return ""
	}
	var b strings.Builder
	for _, p := range parts {
		if p.Type == PartInputText || p.Type == PartOutputText || p.Type == "text" {
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

// OutputItem is what aligngate reads of one item of a response's output.
type OutputItem struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Role string `json:"role"`
}

// IsToolCall reports whether the item is a call the model makes (function,
// custom tool, web search, file search, computer, code interpreter, MCP,
// shell...): its type ends in "_call".
func (it OutputItem) IsToolCall() bool { return strings.HasSuffix(it.Type, "_call") }

// ContentPart is what aligngate reads of one content part of a message.
type ContentPart struct {
	Type string  `json:"type"`
	Text *string `json:"text"`
}

// ResponseEvent is what aligngate reads of one Responses stream event; the
// raw event is kept to relay every other member as the upstream sent it.
type ResponseEvent struct {
	Type           string          `json:"type"`
	SequenceNumber *int64          `json:"sequence_number"`
	OutputIndex    int             `json:"output_index"`
	ContentIndex   int             `json:"content_index"`
	ItemID         string          `json:"item_id"`
	Delta          string          `json:"delta"`
	Text           *string         `json:"text"`
	Item           json.RawMessage `json:"item"`
	Part           json.RawMessage `json:"part"`
	Response       json.RawMessage `json:"response"`
}

// ParseResponseEvent reads one event's data.
func ParseResponseEvent(data []byte) (ResponseEvent, error) {
	var ev ResponseEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		return ev, fmt.Errorf("responses event: %w", err)
	}
	return ev, nil
}

// TextDeltaEvent is a response.output_text.delta aligngate writes.
type TextDeltaEvent struct {
	Type           string     `json:"type"`
	SequenceNumber int64      `json:"sequence_number"`
	ItemID         string     `json:"item_id"`
	OutputIndex    int        `json:"output_index"`
	ContentIndex   int        `json:"content_index"`
	Delta          string     `json:"delta"`
	Logprobs       []struct{} `json:"logprobs"`
}

// NewTextDelta returns a delta event for one content part, without its
// sequence number (the writer numbers events).
func NewTextDelta(itemID string, outputIndex, contentIndex int, delta string) TextDeltaEvent {
	return TextDeltaEvent{
		Type: EventOutputTextDelta, ItemID: itemID, OutputIndex: outputIndex, ContentIndex: contentIndex,
		Delta: delta, Logprobs: []struct{}{},
	}
}
