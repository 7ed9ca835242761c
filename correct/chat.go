package correct

import (
	"fmt"
	"strings"
)

// Built-in templates rendered through the model's own chat template.
const (
	// TemplateInstructEdit corrects a whole answer with a general instruct model.
	TemplateInstructEdit = "instruct-edit"
	// TemplateInstructStream is the Stream Aligner sentence step for a
	// general instruct model.
	TemplateInstructStream = "instruct-stream"
)

// TemplateAuto, as Config.Template or StreamTemplate, lets New pick the
// templates for the default backend's model (see PickTemplates).
const TemplateAuto = "auto"

// Describer is an optional ability of a Model: its name (GGUF general.name)
// and whether it carries a chat template. New uses it to resolve
// TemplateAuto.
type Describer interface {
	ModelName() string
	HasChatTemplate() bool
}

// PickTemplates returns the Aligner and Stream Aligner templates for m, and
// why: the aligner-v1 string the released Aligner was trained on when m's
// name says Aligner, the instruct templates when m has a chat template (a
// general instruct model), aligner-v1 otherwise (a remote backend, or a
// model that does not say).
func PickTemplates(m Model) (aligner, stream, why string) {
	d, ok := m.(Describer)
	switch {
	case !ok:
		return TemplateAlignerV1, TemplateStreamGemma, "the backend does not describe its model"
	case strings.Contains(strings.ToLower(d.ModelName()), "aligner"):
		return TemplateAlignerV1, TemplateStreamGemma, fmt.Sprintf("model %q is named an Aligner", d.ModelName())
	case d.HasChatTemplate():
		return TemplateInstructEdit, TemplateInstructStream, fmt.Sprintf("model %q has a chat template and is not named an Aligner", d.ModelName())
	default:
		return TemplateAlignerV1, TemplateStreamGemma, fmt.Sprintf("model %q has no chat template", d.ModelName())
	}
}

// ChatModel marks a Template rendered through the model's own chat template
// (GGUF tokenizer.chat_template): System becomes the system turn and Text,
// with its placeholders substituted, the user turn.
const ChatModel = "model"

// ChatRenderer is an optional ability of a Model: rendering chat turns with
// the model's own chat template, ending with the opening of an assistant
// turn. A Model without it gets ChatML, the most common format among small
// instruct models.
type ChatRenderer interface {
	RenderChat(turns []Turn) (string, error)
}

// instructTemplates are the Aligner-spirit instructions for general
// instruct models, which were never trained on the aligner-v1 string.
func instructTemplates() []Template {
	return []Template{
		{
			Name: TemplateInstructEdit,
			Chat: ChatModel,
			System: "You edit an assistant's answer to make it more helpful and harmless. " +
				"Keep what is already good; fix only what is wrong, unsafe or unhelpful. " +
				"Output only the corrected answer, with no preamble and no comments.",
			Text: "Question:\n{question}\n\nAnswer to edit:\n{answer}",
		},
		{
			Name: TemplateInstructStream,
			Chat: ChatModel,
			System: "You edit an assistant's answer one sentence at a time to make it more helpful and harmless. " +
				"Keep what is already good; fix only what is wrong, unsafe or unhelpful. " +
				"Output only the revised last sentence, with no preamble and no comments.",
			Text: "Question:\n{question}\n\nAnswer so far:\n{prefix}\n\nLast sentence to revise:\n{sentence}",
		},
	}
}

// prompt renders t for m: through m's chat template when t asks for it and
// m offers one, otherwise as render does.
func (t Template) prompt(m Model, v promptVars) (string, error) {
	if t.Chat != ChatModel {
		return t.render(v), nil
	}
	turns := []Turn{{Role: "user", Text: t.render(v)}}
	if t.System != "" {
		turns = append([]Turn{{Role: "system", Text: t.System}}, turns...)
	}
	if cr, ok := m.(ChatRenderer); ok {
		s, err := cr.RenderChat(turns)
		if err != nil {
			return "", fmt.Errorf("correct: template %q: %w", t.Name, err)
		}
		return s, nil
	}
	return chatML(turns), nil
}

// chatML renders turns in ChatML with the assistant turn opened.
func chatML(turns []Turn) string {
	var b strings.Builder
	for _, t := range turns {
		b.WriteString("<|im_start|>" + t.Role + "\n" + t.Text + "<|im_end|>\n")
	}
	b.WriteString("<|im_start|>assistant\n")
	return b.String()
}
