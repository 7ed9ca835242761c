package wire

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestResponsesTurns(t *testing.T) {
	tests := []struct {
		name, body string
		want       []Turn
	}{
		{"string input", `{"input":"Hi?"}`, []Turn{{"user", "Hi?"}}},
		{"instructions first", `{"instructions":"Be brief.","input":"Hi?"}`, []Turn{{"system", "Be brief."}, {"user", "Hi?"}}},
		{"easy messages", `{"input":[{"role":"developer","content":"Dev."},{"role":"user","content":"Q1"},{"role":"assistant","content":"A1"},{"role":"user","content":"Q2"}]}`,
			[]Turn{{"developer", "Dev."}, {"user", "Q1"}, {"assistant", "A1"}, {"user", "Q2"}}},
		{"typed parts", `{"input":[{"type":"message","role":"user","content":[{"type":"input_text","text":"a"},{"type":"input_image","image_url":"x"},{"type":"input_text","text":"b"}]},` +
			`{"type":"message","role":"assistant","content":[{"type":"output_text","text":"c","annotations":[]}]}]}`,
			[]Turn{{"user", "a\nb"}, {"assistant", "c"}}},
		{"non-message items left out", `{"input":[{"role":"user","content":"Q"},{"type":"function_call","call_id":"c","name":"f","arguments":"{}"},` +
			`{"type":"function_call_output","call_id":"c","output":"42"},{"type":"reasoning","id":"r","summary":[]}]}`,
			[]Turn{{"user", "Q"}}},
		{"odd input", `{"input":{"x":1},"instructions":["not","a","string"]}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r ResponsesRequest
			if err := json.Unmarshal([]byte(tt.body), &r); err != nil {
				t.Fatal(err)
			}
			if got := r.Turns(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("turns %q, want %q", got, tt.want)
			}
		})
	}
}

func TestResponsesWantsLogprobs(t *testing.T) {
	for body, want := range map[string]bool{
		`{}`:                 false,
		`{"top_logprobs":2}`: true,
		`{"include":["reasoning.encrypted_content"]}`:  false,
		`{"include":["message.output_text.logprobs"]}`: true,
	} {
		var r ResponsesRequest
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			t.Fatal(err)
		}
		if got := r.WantsLogprobs(); got != want {
			t.Errorf("%s: %v, want %v", body, got, want)
		}
	}
}

func TestOutputItemIsToolCall(t *testing.T) {
	for typ, want := range map[string]bool{
		"function_call": true, "web_search_call": true, "file_search_call": true, "custom_tool_call": true,
		"message": false, "reasoning": false,
	} {
		if got := (OutputItem{Type: typ}).IsToolCall(); got != want {
			t.Errorf("%s: %v", typ, got)
		}
	}
}
