package correct

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// bracketRenderer is a ChatRenderer with a visible, non-ChatML format, so a
// golden file shows which renderer ran and what each turn holds.
type bracketRenderer struct{ err error }

func (r bracketRenderer) Generate(context.Context, string, Params, func(string) error) (Result, error) {
	return Result{}, errors.New("not used")
}

func (r bracketRenderer) RenderChat(turns []Turn) (string, error) {
	if r.err != nil {
		return "", r.err
	}
	var b strings.Builder
	for _, t := range turns {
		b.WriteString("[" + t.Role + "]" + t.Text + "[/" + t.Role + "]\n")
	}
	return b.String() + "[assistant]", nil
}

// plainModel lacks ChatRenderer, like the remote backend.
type plainModel struct{}

func (plainModel) Generate(context.Context, string, Params, func(string) error) (Result, error) {
	return Result{}, errors.New("not used")
}

func TestInstructPromptGolden(t *testing.T) {
	cases := map[string]promptVars{
		"plain": {Question: "What is 2+2?", Answer: "4.", Prefix: "", Sentence: "It is 4."},
		"tricky": {
			Question: "Is a|b {answer} ok?\nSecond line: ünïcödé 你好 🙂",
			Answer:   "Yes | no {question} {prefix}\n\nEnd <|im_end|>",
			Prefix:   "Earlier {sentence} text | with pipe.",
			Sentence: "Last | {answer} one {unknown}.",
		},
	}
	set, err := newTemplateSet(nil)
	if err != nil {
		t.Fatal(err)
	}
	models := map[string]Model{"renderer": bracketRenderer{}, "chatml": plainModel{}}
	for _, name := range []string{TemplateInstructEdit, TemplateInstructStream} {
		for mname, m := range models {
			for cname, v := range cases {
				t.Run(name+"/"+mname+"/"+cname, func(t *testing.T) {
					got, err := set[name].prompt(m, v)
					if err != nil {
						t.Fatal(err)
					}
					golden(t, filepath.Join("prompts", name+"."+mname+"."+cname+".golden"), got)
				})
			}
		}
	}
}

// TestPromptNonChatIgnoresRenderer keeps aligner-v1 byte-exact even when the
// model can render chats.
func TestPromptNonChatIgnoresRenderer(t *testing.T) {
	set, err := newTemplateSet(nil)
	if err != nil {
		t.Fatal(err)
	}
	v := promptVars{Question: "q", Answer: "a"}
	got, err := set[TemplateAlignerV1].prompt(bracketRenderer{}, v)
	if err != nil {
		t.Fatal(err)
	}
	if want := set[TemplateAlignerV1].render(v); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestPromptRendererError(t *testing.T) {
	set, err := newTemplateSet(nil)
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	_, err = set[TemplateInstructEdit].prompt(bracketRenderer{err: boom}, promptVars{Answer: "a"})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want wrapping boom", err)
	}
}

func TestInstructCacheKeyHasSystem(t *testing.T) {
	set, err := newTemplateSet(nil)
	if err != nil {
		t.Fatal(err)
	}
	a := set[TemplateInstructEdit]
	b := a
	b.System += " Be brief."
	v := promptVars{Question: "q", Answer: "a"}
	if cacheKey("m", a, Params{}, ModeAligner, v) == cacheKey("m", b, Params{}, ModeAligner, v) {
		t.Error("cache key ignores the system instruction")
	}
}

// describedModel is a plainModel that names itself and says whether it has
// a chat template.
type describedModel struct {
	plainModel
	name string
	chat bool
}

func (m describedModel) ModelName() string     { return m.name }
func (m describedModel) HasChatTemplate() bool { return m.chat }

// TestAutoTemplates checks that "auto" (the default) picks aligner-v1 for a
// model named an Aligner, the instruct templates for a chat model, and
// aligner-v1 for a backend that does not describe its model; a template set
// by name is kept.
func TestAutoTemplates(t *testing.T) {
	tests := []struct {
		name          string
		m             Model
		set           string
		aligner, strm string
	}{
		{"aligner by name", describedModel{name: "Aligner-7B-v1.0", chat: true}, "", TemplateAlignerV1, TemplateStreamGemma},
		{"instruct model", describedModel{name: "SmolLM2 135M Instruct", chat: true}, "", TemplateInstructEdit, TemplateInstructStream},
		{"no chat template", describedModel{name: "tiny"}, "", TemplateAlignerV1, TemplateStreamGemma},
		{"remote backend", plainModel{}, "", TemplateAlignerV1, TemplateStreamGemma},
		{"set by config", describedModel{name: "SmolLM2", chat: true}, TemplateAlignerV1Correction, TemplateAlignerV1Correction, TemplateInstructStream},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(Config{Template: tt.set}, map[string]Model{BackendLocal: tt.m}, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Config(); got.Template != tt.aligner || got.StreamTemplate != tt.strm {
				t.Errorf("templates %q, %q; want %q, %q", got.Template, got.StreamTemplate, tt.aligner, tt.strm)
			}
		})
	}
}
