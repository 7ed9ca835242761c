package llamacorrect

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aligngate/aligngate/correct"
	"github.com/aligngate/aligngate/llamacpp"
)

// scripted is an Engine whose Generate returns err, recording its params.
type scripted struct {
	err error
	got llamacpp.Params
}

func (s *scripted) Generate(_ context.Context, _ string, p llamacpp.Params, _ func(string) error) (llamacpp.Result, error) {
	s.got = p
	return llamacpp.Result{Text: "t", PromptTokens: 3, ReusedTokens: 1, EvaluatedTokens: 2, CompletionTokens: 4, FinishReason: "stop"}, s.err
}
func (s *scripted) CountTokens(string) (int, error) { return 0, s.err }
func (s *scripted) ContextSize() int                { return 64 }
func (s *scripted) ModelID() string                 { return "id" }

func TestErrorsMapToCorrectKinds(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		is     error
		reason string
	}{
		{"queue full", fmt.Errorf("engine: %w", llamacpp.ErrQueueFull), correct.ErrBusy, correct.FallbackBusy},
		{"prompt too long", llamacpp.ErrPromptTooLong, correct.ErrTooLong, correct.FallbackTooLong},
		{"other", llamacpp.ErrDecode, llamacpp.ErrDecode, correct.FallbackBackend},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New(&scripted{err: tt.err})
			_, err := m.Generate(context.Background(), "p", correct.Params{MaxTokens: 1}, nil)
			if !errors.Is(err, tt.is) || !errors.Is(err, tt.err) {
				t.Fatalf("err %v, want %v wrapping %v", err, tt.is, tt.err)
			}
			// The corrector picks the fallback reason from the mapped error.
			c, cerr := correct.New(correct.Config{}, map[string]correct.Model{correct.BackendLocal: m}, nil, nil)
			if cerr != nil {
				t.Fatal(cerr)
			}
			out, _ := c.Align(context.Background(), correct.Request{Answer: "a.", Budget: time.Second}, nil)
			if out.Fallback != tt.reason {
				t.Errorf("fallback %q, want %q", out.Fallback, tt.reason)
			}
		})
	}
}

func TestParamsAndResultTranslate(t *testing.T) {
	s := &scripted{}
	p := correct.Params{MaxTokens: 5, Stop: []string{"x"}, Temperature: 0.5, TopK: 2, TopP: 0.9, MinP: 0.1,
		RepeatPenalty: 1.1, FrequencyPenalty: 0.2, Seed: 7}
	r, err := New(s).Generate(context.Background(), "p", p, nil)
	want := llamacpp.Params{MaxTokens: 5, Stop: []string{"x"}, Temperature: 0.5, TopK: 2, TopP: 0.9, MinP: 0.1,
		RepeatPenalty: 1.1, FrequencyPenalty: 0.2, Seed: 7}
	if err != nil || fmt.Sprint(s.got) != fmt.Sprint(want) {
		t.Errorf("params %+v, want %+v (%v)", s.got, want, err)
	}
	if r != (correct.Result{Text: "t", PromptTokens: 3, ReusedTokens: 1, EvaluatedTokens: 2, CompletionTokens: 4, FinishReason: "stop"}) {
		t.Errorf("result %+v", r)
	}
}
