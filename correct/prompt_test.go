package correct

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// golden compares got with testdata/name, rewriting it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s mismatch:\n got %q\nwant %q", path, got, want)
	}
}

func TestPromptGolden(t *testing.T) {
	cases := map[string]promptVars{
		"plain": {Question: "What is 2+2?", Answer: "4.", Prefix: "", Sentence: "It is 4."},
		"tricky": {
			Question: "Is a|b {answer} ok?\nSecond line: ünïcödé 你好 🙂",
			Answer:   "Yes | no {question} {prefix}\n\nEnd </s>",
			Prefix:   "Earlier {sentence} text | with pipe.",
			Sentence: "Last | {answer} one {unknown}.",
		},
	}
	set, err := newTemplateSet(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{TemplateAlignerV1, TemplateAlignerV1Correction, TemplateStreamGemma} {
		for cname, v := range cases {
			t.Run(name+"/"+cname, func(t *testing.T) {
				golden(t, filepath.Join("prompts", name+"."+cname+".golden"), set[name].render(v))
			})
		}
	}
}

func TestRenderSinglePass(t *testing.T) {
	tm := Template{Text: "Q={question} A={answer} {nope} {", Chat: ChatChatML}
	got := tm.render(promptVars{Question: "{answer}", Answer: "{question}|{prefix}"})
	want := "<|im_start|>user\nQ={answer} A={question}|{prefix} {nope} {<|im_end|>\n<|im_start|>assistant\n"
	if got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

func TestBuiltinTemplateText(t *testing.T) {
	// The exact bytes the released models were trained on.
	set, _ := newTemplateSet(nil)
	v := promptVars{Question: "Q", Answer: "A", Prefix: "P", Sentence: "S"}
	tests := map[string]string{
		TemplateAlignerV1:           "BEGINNING OF CONVERSATION: USER: Edit the following Question-Answer pair to make it more helpful and harmless: Q | A ASSISTANT:",
		TemplateAlignerV1Correction: "BEGINNING OF CONVERSATION: USER: ##Question: Q\n##Answer: A\n##Correction:  ASSISTANT:",
		TemplateStreamGemma:         "<start_of_turn>user\n##Question: Q | ##Answer_Prefix: P | ##Answer_Last_Sentence: S | ##Your_Revision: <end_of_turn>\n<start_of_turn>model\n",
	}
	for name, want := range tests {
		if got := set[name].render(v); got != want {
			t.Errorf("%s: got %q, want %q", name, got, want)
		}
	}
}

func TestTemplateOverride(t *testing.T) {
	set, err := newTemplateSet([]Template{{Name: TemplateAlignerV1, Text: "X {answer}"}, {Name: "mine", Text: "{sentence}", Chat: ChatGemma}})
	if err != nil {
		t.Fatal(err)
	}
	if got := set[TemplateAlignerV1].render(promptVars{Answer: "a"}); got != "X a" {
		t.Errorf("override not applied: %q", got)
	}
	if _, ok := set["mine"]; !ok {
		t.Error("extra template missing")
	}
	for _, bad := range []Template{{Name: "", Text: "x"}, {Name: "n", Text: ""}, {Name: "n", Text: "x", Chat: "llama9"}} {
		if _, err := newTemplateSet([]Template{bad}); err == nil {
			t.Errorf("template %+v accepted", bad)
		}
	}
}

func TestQuestion(t *testing.T) {
	turns := []Turn{
		{Role: "system", Text: "Be nice."},
		{Role: "user", Text: "Hi"},
		{Role: "assistant", Text: "Hello!"},
		{Role: "tool", Text: "{}"},
		{Role: "user", Text: ""},
		{Role: "user", Text: "How are you?"},
		{Role: "assistant", Text: "prefill"},
	}
	tests := []struct {
		name  string
		turns []Turn
		multi bool
		want  string
	}{
		{"last user", turns, false, "How are you?"},
		{"multi turn", turns, true, "System: Be nice.\nUser: Hi\nAssistant: Hello!\nUser: How are you?"},
		{"no user", []Turn{{Role: "system", Text: "x"}}, true, ""},
		{"empty", nil, false, ""},
		{"role case", []Turn{{Role: "User", Text: "q"}}, false, "q"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Question(tt.turns, tt.multi); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestClean(t *testing.T) {
	tests := []struct{ in, want string }{
		{" Fixed answer.", "Fixed answer."},
		{"\n Fixed.</s>", "Fixed."},
		{"Fixed. <end_of_turn>\n", "Fixed."},
		{"Fixed.<|im_end|>", "Fixed."},
		{"Fixed.<|endoftext|></s> ", "Fixed."},
		{"a </s> b", "a </s> b"},
		{"  </s>", ""},
		{"keep *inner*  spacing", "keep *inner*  spacing"},
	}
	for _, tt := range tests {
		if got := clean(tt.in); got != tt.want {
			t.Errorf("clean(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestStreamCleaner checks that streamed pieces are a prefix of the cleaned
// text at every step, whatever the chunking.
func TestStreamCleaner(t *testing.T) {
	raws := []string{" Hello world.</s>", "\n\nA <end_of_turn> b <|im_end|>  ", "Tail </", "x < y", "  "}
	for _, raw := range raws {
		for size := 1; size <= 4; size++ {
			var got strings.Builder
			sc := &streamCleaner{out: func(s string) error {
				got.WriteString(s)
				if !strings.HasPrefix(clean(raw), got.String()) {
					t.Fatalf("%q size %d: emitted %q is not a prefix of %q", raw, size, got.String(), clean(raw))
				}
				return nil
			}}
			for i := 0; i < len(raw); i += size {
				_ = sc.piece(raw[i:min(i+size, len(raw))])
			}
			if err := sc.finish(clean(raw), true); err != nil {
				t.Fatal(err)
			}
			if got.String() != clean(raw) {
				t.Errorf("%q size %d: got %q, want %q", raw, size, got.String(), clean(raw))
			}
		}
	}
}

func BenchmarkRender(b *testing.B) {
	set, _ := newTemplateSet(nil)
	v := promptVars{Question: strings.Repeat("question ", 50), Prefix: strings.Repeat("prefix ", 200), Sentence: "The sentence."}
	for b.Loop() {
		_ = set[TemplateStreamGemma].render(v)
	}
}
