package llamacpp

import (
	"errors"
	"strings"
	"testing"
)

func TestRealChatTemplate(t *testing.T) {
	e := openReal(t, nil)
	if tmpl := e.ChatTemplate(); !strings.Contains(tmpl, "<|im_start|>") {
		t.Fatalf("chat template %q is not ChatML", tmpl)
	}
	if e.ModelName() == "" {
		t.Fatal("no general.name")
	}
	got, err := e.ApplyChatTemplate([]ChatMessage{{"system", "Be nice."}, {"user", "Hi there"}}, true)
	want := "<|im_start|>system\nBe nice.<|im_end|>\n<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n"
	if err != nil || got != want {
		t.Fatalf("rendered %q, %v; want %q", got, err, want)
	}
	toks, err := e.Tokenize("<|im_start|>user\nhi<|im_end|>")
	if err != nil || len(toks) != 5 || toks[0] != 1 || toks[4] != 2 {
		t.Fatalf("special tokens not parsed as special: %v, %v", toks, err)
	}
	res, _, err := generate(t, t.Context(), e, got, greedy(128))
	if err != nil || res.FinishReason != FinishStop || strings.TrimSpace(res.Text) == "" {
		t.Fatalf("reply %+v, %v: want text ended by end-of-turn", res, err)
	}
	for _, m := range specialMarkers {
		if strings.Contains(res.Text, m) {
			t.Fatalf("reply holds %s: %q", m, res.Text)
		}
	}
}

func TestChatTemplateMissing(t *testing.T) {
	e := openTiny(t, nil)
	if e.ChatTemplate() != "" || e.ModelName() != "aligngate-tiny" {
		t.Fatalf("tiny model: template %q, name %q", e.ChatTemplate(), e.ModelName())
	}
	if _, err := e.ApplyChatTemplate([]ChatMessage{{"user", "hi"}}, true); !errors.Is(err, ErrChatTemplate) {
		t.Fatalf("no template gave %v, want ErrChatTemplate", err)
	}
	if _, err := applyChatTemplate("<|im_start|>", nil, true); !errors.Is(err, ErrInvalidParams) {
		t.Fatalf("no messages gave %v", err)
	}
}
