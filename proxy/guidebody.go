package proxy

import (
	"encoding/json"
	"fmt"

	"github.com/aligngate/aligngate/wire"
)

// guideBody is the upstream request body of one guide call.
func guideBody(body []byte, prefix string) ([]byte, error) {
	o, err := wire.ParseObject(body)
	if err != nil {
		return nil, fmt.Errorf("guide: request body: %w", err)
	}
	o.Set("stream", json.RawMessage("true"))
	o.Delete("n")
	o.Delete("stream_options")
	if prefix != "" {
		raw, _ := o.Get("messages")
		msgs, err := wire.ParseArray(raw)
		if err != nil {
			return nil, fmt.Errorf("guide: messages: %w", err)
		}
		m, err := json.Marshal(wire.Message{Role: "assistant", Content: prefix})
		if err != nil {
			return nil, fmt.Errorf("guide: prefix: %w", err)
		}
		o.Set("messages", wire.JoinArray(append(msgs, m)))
		o.Set("continue_final_message", json.RawMessage("true"))
		o.Set("add_generation_prompt", json.RawMessage("false"))
	}
	b, err := o.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("guide: request body: %w", err)
	}
	return b, nil
}
