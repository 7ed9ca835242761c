package llamacpp

import (
	"errors"
	"fmt"
	"strings"

	"github.com/hybridgroup/yzma/pkg/llama"
)

// ChatMessage is one turn of a chat: Role is "system", "user" or
// "assistant".
type ChatMessage struct {
	Role    string
	Content string
}

// ErrChatTemplate reports a model without a chat template, or one llama.cpp
// cannot apply.
var ErrChatTemplate = errors.New("llamacpp: chat template")

// ChatTemplate returns the model's chat template (GGUF
// tokenizer.chat_template), or "" when it has none.
func (e *Engine) ChatTemplate() string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return ""
	}
	return llama.ModelChatTemplate(e.model, "")
}

// ModelName returns the model's GGUF general.name, or "" when it has none;
// callers pick a prompt template by it.
func (e *Engine) ModelName() string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return ""
	}
	name, _ := llama.ModelMetaValStr(e.model, "general.name")
	return name
}

// ApplyChatTemplate renders msgs with the model's own chat template, as
// llama.cpp's llama_chat_apply_template does (it recognises the common
// template families, ChatML, Llama, Gemma and others, by their markers; it
// does not run arbitrary Jinja). addAssistant appends the opening of an
// assistant turn, so that generation writes the reply. Generate parses the
// template's special tokens in the result as special tokens.
func (e *Engine) ApplyChatTemplate(msgs []ChatMessage, addAssistant bool) (string, error) {
	tmpl := e.ChatTemplate()
	if tmpl == "" {
		return "", fmt.Errorf("%w: the model has none (no tokenizer.chat_template)", ErrChatTemplate)
	}
	return applyChatTemplate(tmpl, msgs, addAssistant)
}

func applyChatTemplate(tmpl string, msgs []ChatMessage, addAssistant bool) (string, error) {
	if len(msgs) == 0 {
		return "", fmt.Errorf("%w: no messages", ErrInvalidParams)
	}
	chat := make([]llama.ChatMessage, len(msgs))
	size := 256
	for i, m := range msgs {
		// C strings end at NUL: refuse rather than truncate.
		if strings.ContainsRune(m.Role, 0) || strings.ContainsRune(m.Content, 0) {
			return "", fmt.Errorf("%w: message %d holds a NUL byte", ErrInvalidParams, i)
		}
		chat[i] = llama.NewChatMessage(m.Role, m.Content)
		size += 2*len(m.Content) + len(m.Role) + 64
	}
	buf := make([]byte, size)
	n := llama.ChatApplyTemplate(tmpl, chat, addAssistant, buf)
	if int(n) > len(buf) {
		// llama.cpp reports the length it needs when the buffer is short.
		buf = make([]byte, n)
		n = llama.ChatApplyTemplate(tmpl, chat, addAssistant, buf)
	}
	if n < 0 || int(n) > len(buf) {
		return "", fmt.Errorf("%w: llama.cpp does not support this template (llama_chat_apply_template returned %d)", ErrChatTemplate, n)
	}
	return string(buf[:n]), nil
}
