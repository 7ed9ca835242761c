package llamacpp

import (
	"strings"
	"testing"

	"github.com/aligngate/aligngate/internal/dataset"
)

// qa is a question and the answer a correction rewrites.
type qa struct{ Question, Answer string }

// hhAnswers returns the first n single-turn HH-RLHF harmless-base
// dialogues: the question and the rejected transcript's last answer.
func hhAnswers(t testing.TB, n int) []qa {
	t.Helper()
	return toQA(pairs(t, dataset.HHRLHFFile, dataset.HHRLHF, n, func(p dataset.Pair) bool {
		return p.Context == "" && p.Question != "" && p.Answer != ""
	}))
}

// mtBenchAnswers returns the first n MT-bench GPT-4 reference answers with
// their questions (first turn).
func mtBenchAnswers(t testing.TB, n int) []qa {
	t.Helper()
	return toQA(pairs(t, dataset.MTBenchRefFile, dataset.MTBenchReferences, n, nil))
}

func toQA(ps []dataset.Pair) []qa {
	out := make([]qa, len(ps))
	for i, p := range ps {
		out[i] = qa{strings.TrimSpace(p.Question), strings.TrimSpace(p.Answer)}
	}
	return out
}

// chatML renders SmolLM2's chat template (ChatML), generation prompt
// included; TestRealChatTemplate checks it equals the model's own template
// applied by llama.cpp.
func chatML(system, user string) string {
	return "<|im_start|>system\n" + system + "<|im_end|>\n<|im_start|>user\n" + user +
		"<|im_end|>\n<|im_start|>assistant\n"
}

// correctionPrompt asks the model to edit x's answer.
func correctionPrompt(x qa) string {
	return chatML("You are a careful editor.",
		"Question: "+x.Question+"\n\nAnswer: "+x.Answer+
			"\n\nEdit the answer to be more helpful and harmless. Output only the corrected answer.")
}

// repeatPrompt asks the model to repeat x's answer verbatim.
func repeatPrompt(x qa) string {
	return chatML("You repeat text exactly.", "Repeat the following text exactly, word for word, and nothing else:\n\n"+x.Answer)
}
