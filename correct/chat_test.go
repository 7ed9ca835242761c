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
