package correct

import (
	"fmt"
	"strings"
)

// Built-in template names.
const (
	// TemplateAlignerV1 is the prompt aligner-7b-v1.0 was trained on.
	TemplateAlignerV1 = "aligner-v1"
	// TemplateAlignerV1Correction is the later upstream Aligner variant.
	TemplateAlignerV1Correction = "aligner-v1-correction"
	// TemplateStreamGemma is the Stream Aligner prompt in Gemma's chat format.
	TemplateStreamGemma = "stream-gemma"
)

// Chat formats a Template can wrap its text in.
const (
	ChatNone   = ""       // the text is the whole prompt
	ChatGemma  = "gemma"  // <start_of_turn>user\n…<end_of_turn>\n<start_of_turn>model\n
	ChatChatML = "chatml" // <|im_start|>user\n…<|im_end|>\n<|im_start|>assistant\n
)

// Template is a prompt template. Text may hold the placeholders {question},
// {answer} (Aligner), {prefix} and {sentence} (Stream Aligner); they are
// substituted in a single pass, so placeholders inside the substituted
// values are left as they are.
type Template struct {
	Name string   `yaml:"name"`
	Text string   `yaml:"text"`
	Stop []string `yaml:"stop"` // generation stops before any of these
	Chat string   `yaml:"chat"` // "", "gemma", "chatml" or "model" (the model's own chat template)
	// System is the system turn of a "model" chat template.
	System string `yaml:"system"`
	// RepeatPenalty is used when sampling.repeat_penalty is unset (0):
	// small instruct models loop under greedy decoding without one.
	RepeatPenalty float32 `yaml:"repeat_penalty"`
}

// builtinTemplates returns the default templates.
func builtinTemplates() []Template {
	ts := []Template{
		{
			Name: TemplateAlignerV1,
			Text: "BEGINNING OF CONVERSATION: USER: Edit the following Question-Answer pair to make it more helpful and harmless: {question} | {answer} ASSISTANT:",
		},
		{
			Name: TemplateAlignerV1Correction,
			Text: "BEGINNING OF CONVERSATION: USER: ##Question: {question}\n##Answer: {answer}\n##Correction:  ASSISTANT:",
		},
		{
			Name: TemplateStreamGemma,
			Text: "##Question: {question} | ##Answer_Prefix: {prefix} | ##Answer_Last_Sentence: {sentence} | ##Your_Revision: ",
			Stop: []string{"<end_of_turn>"},
			Chat: ChatGemma,
		},
	}
	return append(ts, instructTemplates()...)
}

// templateSet holds templates by name.
type templateSet map[string]Template

// newTemplateSet returns the built-in templates overridden and extended by
// extra.
func newTemplateSet(extra []Template) (templateSet, error) {
	set := templateSet{}
	for _, t := range builtinTemplates() {
		set[t.Name] = t
	}
	for _, t := range extra {
		if t.Name == "" || t.Text == "" {
			return nil, fmt.Errorf("correct: template %q needs a name and a text", t.Name)
		}
		if _, ok := chatWrap[t.Chat]; !ok {
			return nil, fmt.Errorf("correct: template %q: chat %q: want gemma, chatml, model or empty", t.Name, t.Chat)
		}
		set[t.Name] = t
	}
	return set, nil
}

// check reports whether name exists and contains placeholder.
func (s templateSet) check(name, placeholder string) error {
	t, ok := s[name]
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownTemplate, name)
	}
	if !strings.Contains(t.Text, placeholder) {
		return fmt.Errorf("%w: template %q lacks %s", ErrTemplateMode, name, placeholder)
	}
	return nil
}

// chatWrap maps a chat format to the text before and after the user turn.
var chatWrap = map[string][2]string{
	ChatNone:   {"", ""},
	ChatGemma:  {"<start_of_turn>user\n", "<end_of_turn>\n<start_of_turn>model\n"},
	ChatChatML: {"<|im_start|>user\n", "<|im_end|>\n<|im_start|>assistant\n"},
	ChatModel:  {"", ""}, // wrapped by Template.prompt
}

// promptVars are the values substituted into a template.
type promptVars struct {
	Question, Answer, Prefix, Sentence string
}

// Render returns the prompt for vars: a single left-to-right pass over the
// template text replacing known placeholders, then the chat wrapping.
func (t Template) render(v promptVars) string {
	values := map[string]string{
		"{question}": v.Question,
		"{answer}":   v.Answer,
		"{prefix}":   v.Prefix,
		"{sentence}": v.Sentence,
	}
	wrap := chatWrap[t.Chat]
	var b strings.Builder
	b.Grow(len(t.Text) + len(v.Question) + len(v.Answer) + len(v.Prefix) + len(v.Sentence) + len(wrap[0]) + len(wrap[1]))
	b.WriteString(wrap[0])
	text := t.Text
	for {
		i := strings.IndexByte(text, '{')
		if i < 0 {
			b.WriteString(text)
			break
		}
		b.WriteString(text[:i])
		text = text[i:]
		j := strings.IndexByte(text, '}')
		if j < 0 {
			b.WriteString(text)
			break
		}
		if val, ok := values[text[:j+1]]; ok {
			b.WriteString(val)
			text = text[j+1:]
			continue
		}
		b.WriteByte('{')
		text = text[1:]
	}
	b.WriteString(wrap[1])
	return b.String()
}

// Question returns the question to correct against: the last user message,
// or with multiTurn every turn up to and including it, one per line as
// "User: …", "Assistant: …" or "System: …". Tool turns and turns with no
// text are skipped; turns after the last user message are ignored.
func Question(turns []Turn, multiTurn bool) string {
	last := -1
	for i, t := range turns {
		if strings.EqualFold(t.Role, "user") {
			last = i
		}
	}
	if last < 0 {
		return ""
	}
	if !multiTurn {
		return turns[last].Text
	}
	var lines []string
	for _, t := range turns[:last+1] {
		label := roleLabel(t.Role)
		if label == "" || strings.TrimSpace(t.Text) == "" {
			continue
		}
		lines = append(lines, label+": "+t.Text)
	}
	return strings.Join(lines, "\n")
}

// roleLabel names a role in a serialised conversation, "" to skip it.
func roleLabel(role string) string {
	switch strings.ToLower(role) {
	case "user":
		return "User"
	case "assistant":
		return "Assistant"
	case "system", "developer":
		return "System"
	default:
		return ""
	}
}

// endMarkers are end-of-turn strings a model may leave in its output.
var endMarkers = []string{"</s>", "<end_of_turn>", "<|im_end|>", "<|endoftext|>", "<|eot_id|>"}

// clean trims surrounding whitespace and trailing end markers from a model
// output, and nothing else.
func clean(s string) string {
	return strings.TrimLeftFunc(trimEnd(s), isSpace)
}

// trimEnd removes trailing whitespace and end markers, repeatedly.
func trimEnd(s string) string {
	for {
		t := strings.TrimRightFunc(s, isSpace)
		for _, m := range endMarkers {
			t = strings.TrimSuffix(t, m)
		}
		if t == s {
			return s
		}
		s = t
	}
}

// pendingEnd returns how many bytes at the end of s could still turn out to
// be trailing whitespace or an end marker, and must be held back by a
// streaming cleaner.
func pendingEnd(s string) int {
	t := s
	for _, m := range endMarkers {
		for k := len(m) - 1; k > 0; k-- {
			if strings.HasSuffix(t, m[:k]) {
				t = t[:len(t)-k]
				break
			}
		}
		if len(t) < len(s) {
			break
		}
	}
	return len(s) - len(trimEnd(t))
}
