package proxy

import (
	"encoding/json"

	"github.com/aligngate/aligngate/wire"
)

// skipReason says why a collected stream was not corrected: tools when a
// choice called tools, no_text otherwise (a refusal, an unreadable event).
func (col *collected) skipReason() string {
	if col.tools {
		return skipTools
	}
	return skipNoText
}

// wholeSkipReason says why no choice of a whole answer was corrected: tools
// when a choice called tools, no_text otherwise.
func wholeSkipReason(raw []byte) string {
	var a struct {
		Choices []struct {
			Message struct {
				ToolCalls    json.RawMessage `json:"tool_calls"`
				FunctionCall json.RawMessage `json:"function_call"`
			} `json:"message"`
		} `json:"choices"`
	}
	if json.Unmarshal(raw, &a) != nil {
		return skipNoText
	}
	for _, c := range a.Choices {
		if present(c.Message.ToolCalls) || present(c.Message.FunctionCall) {
			return skipTools
		}
	}
	return skipNoText
}

func present(v json.RawMessage) bool { return len(v) > 0 && string(v) != "null" }

// replaySkipped relays an uncorrected stream as the upstream sent it, with
// the report (skipped: reason) added to each choice's final chunk, since
// the headers that could have said so are gone.
func replaySkipped(sse *wire.SSEWriter, events [][]byte, mode, reason string) {
	rep := &wire.Report{Mode: mode, Skipped: reason}
	for _, ev := range events {
		if sse.Data(withReport(ev, rep)) != nil {
			return
		}
	}
	_ = sse.Done()
}

// withReport returns ev with rep set on every choice that has a finish
// reason, or ev itself when it has none or does not parse.
func withReport(ev []byte, rep *wire.Report) []byte {
	obj, err := wire.ParseObject(ev)
	if err != nil {
		return ev
	}
	raw, _ := obj.Get("choices")
	choices, err := wire.ParseArray(raw)
	if err != nil {
		return ev
	}
	touched := false
	for i, c := range choices {
		co, err := wire.ParseObject(c)
		if err != nil || isNull(co, "finish_reason") {
			continue
		}
		if co.SetJSON("aligngate", rep) != nil {
			return ev
		}
		choices[i], _ = co.MarshalJSON()
		touched = true
	}
	if !touched {
		return ev
	}
	obj.Set("choices", wire.JoinArray(choices))
	out, err := obj.MarshalJSON()
	if err != nil {
		return ev
	}
	return out
}
