package proxy

import (
	"encoding/json"
	"strings"

	"github.com/aligngate/aligngate/correct"
	"github.com/aligngate/aligngate/wire"
)

// routeResponses is the Responses API route; corrections of its answers
// are cached under their own keys.
const routeResponses = "/v1/responses"

// responses serves POST /v1/responses: a passthrough unless the policy asks
// for correction and the answer can be corrected. The output_text parts of
// the answer's message items are corrected; every other item passes through
// as the upstream sent it. Stream mode always follows the upstream (guide
// drives chat completions only).
func (s *Server) responses(in *inbound) {
	body, rt, ok := s.readRouted(in, false)
	if !ok {
		return
	}
	up := s.pick(rt.Model.Value)
	d := s.decide(in, rt)
	if d.Mode == correct.ModeOff || d.Mode == "" {
		s.forward(in, up, body)
		if d.Experiment != "" {
			s.record(&job{model: rt.Model.Value, dec: d, route: routeResponses}, 0, summary{})
		}
		return
	}
	j := &job{up: up, body: body, model: rt.Model.Value, dec: d, route: routeResponses}
	if reason := s.skipResponses(j); reason != "" {
		in.setHeader(headerSkipped, reason)
		in.setHeader(headerCorrected, "false")
		s.forward(in, up, body)
		return
	}
	if rt.Stream {
		s.responsesStream(in, j)
		return
	}
	s.responsesWhole(in, j)
}

// skipResponses parses what correction needs of a Responses request and
// reports why its answer must pass through untouched, or "". Tools are no
// reason: a Responses answer types each output item, so a tool call is
// told apart from text before any of it arrives.
func (s *Server) skipResponses(j *job) string {
	if s.corrector == nil {
		return skipNoModel
	}
	var r wire.ResponsesRequest
	if json.Unmarshal(j.body, &r) != nil {
		return skipNoText
	}
	switch r.Text.Format.Type {
	case "json_object", "json_schema":
		return skipJSON
	}
	if r.WantsLogprobs() {
		return skipLogprobs
	}
	// With previous_response_id the earlier turns live upstream: the
	// question is built from what this request carries.
	j.question = correct.Question(responsesTurns(&r), s.settings.MultiTurn)
	return ""
}

func responsesTurns(r *wire.ResponsesRequest) []correct.Turn {
	in := r.Turns()
	t := make([]correct.Turn, 0, len(in))
	for _, x := range in {
		t = append(t, correct.Turn{Role: x.Role, Text: x.Text})
	}
	return t
}

// partKey locates one content part: output[item].content[part].
type partKey struct{ item, part int }

// partFix is the corrected text of one output_text part.
type partFix struct {
	itemID   string
	text     string
	original string
}

// fixes maps the corrected parts of one response.
type fixes map[partKey]partFix

// isAssistantMessage reports whether an output item is a message the model
// wrote, the only kind whose text is corrected.
func isAssistantMessage(it wire.OutputItem) bool {
	return it.Type == wire.ItemMessage && (it.Role == "" || it.Role == "assistant")
}

// textParts lists the non-empty output_text parts of a response's output,
// in order, and reports whether the output holds a tool call.
func textParts(output []json.RawMessage) (parts []partKey, originals []string, ids []string, tools bool) {
	for i, raw := range output {
		var it wire.OutputItem
		if json.Unmarshal(raw, &it) != nil {
			continue
		}
		tools = tools || it.IsToolCall()
		if !isAssistantMessage(it) {
			continue
		}
		var msg struct {
			Content []wire.ContentPart `json:"content"`
		}
		if json.Unmarshal(raw, &msg) != nil {
			continue
		}
		for k, p := range msg.Content {
			if p.Type == wire.PartOutputText && p.Text != nil && *p.Text != "" {
				parts = append(parts, partKey{i, k})
				originals = append(originals, *p.Text)
				ids = append(ids, it.ID)
			}
		}
	}
	return parts, originals, ids, tools
}

// outputText is what the SDKs call output_text: the text of every
// output_text part of the message items, concatenated.
func outputText(output []json.RawMessage) string {
	var b strings.Builder
	for _, raw := range output {
		var msg struct {
			Type    string             `json:"type"`
			Content []wire.ContentPart `json:"content"`
		}
		if json.Unmarshal(raw, &msg) != nil || msg.Type != wire.ItemMessage {
			continue
		}
		for _, p := range msg.Content {
			if p.Type == wire.PartOutputText && p.Text != nil {
				b.WriteString(*p.Text)
			}
		}
	}
	return b.String()
}

// rewritePart sets a part's text; a changed text drops its annotations,
// whose character offsets no longer hold.
func rewritePart(raw json.RawMessage, f partFix) (json.RawMessage, error) {
	p, err := wire.ParseObject(raw)
	if err != nil {
		return nil, err
	}
	if err := p.SetJSON("text", f.text); err != nil {
		return nil, err
	}
	if f.text != f.original {
		p.Set("annotations", json.RawMessage("[]"))
	}
	return p.MarshalJSON()
}

// rewriteItem sets the corrected parts of output item i, unless the item is
// not the message they were read from.
func rewriteItem(raw json.RawMessage, i int, fx fixes) (json.RawMessage, error) {
	var it wire.OutputItem
	if json.Unmarshal(raw, &it) != nil || !isAssistantMessage(it) {
		return raw, nil
	}
	o, err := wire.ParseObject(raw)
	if err != nil {
		return raw, nil
	}
	contentRaw, _ := o.Get("content")
	content, err := wire.ParseArray(contentRaw)
	if err != nil {
		return raw, nil
	}
	touched := false
	for k := range content {
		f, ok := fx[partKey{i, k}]
		if !ok || (f.itemID != "" && it.ID != "" && f.itemID != it.ID) {
			continue
		}
		if content[k], err = rewritePart(content[k], f); err != nil {
			return nil, err
		}
		touched = true
	}
	if !touched {
		return raw, nil
	}
	o.Set("content", wire.JoinArray(content))
	return o.MarshalJSON()
}

// rewriteResponse sets the corrected parts in a response object, the
// SDKs' output_text member where the upstream sent one, and the report.
func rewriteResponse(raw json.RawMessage, fx fixes, rep *wire.Report) (json.RawMessage, error) {
	obj, err := wire.ParseObject(raw)
	if err != nil {
		return nil, err
	}
	outRaw, _ := obj.Get("output")
	output, err := wire.ParseArray(outRaw)
	if err == nil {
		for i := range output {
			if output[i], err = rewriteItem(output[i], i, fx); err != nil {
				return nil, err
			}
		}
		obj.Set("output", wire.JoinArray(output))
		if v, ok := obj.Get("output_text"); ok && len(v) > 0 && v[0] == '"' {
			if err := obj.SetJSON("output_text", outputText(output)); err != nil {
				return nil, err
			}
		}
	}
	if rep != nil {
		if err := obj.SetJSON("aligngate", rep); err != nil {
			return nil, err
		}
	}
	return obj.MarshalJSON()
}

// combine sums the outcomes of every corrected part of one answer into the
// one outcome its report states.
func combine(os []correct.Outcome) correct.Outcome {
	var c correct.Outcome
	for _, o := range os {
		c.Corrected = c.Corrected || o.Corrected
		c.Partial = c.Partial || o.Partial
		if c.Fallback == "" {
			c.Fallback = o.Fallback
		}
		if c.Cache == "" || o.Cache != "hit" {
			c.Cache = o.Cache
		}
		c.Duration += o.Duration
		c.Drafted += o.Drafted
		c.Accepted += o.Accepted
	}
	return c
}
