package eval

import (
	"strings"
	"testing"
)

// TestJudgePromptsGolden pins the exact bytes the judge sees, so a prompt
// change shows up in review.
func TestJudgePromptsGolden(t *testing.T) {
	for _, d := range []Dimension{Helpfulness, Harmlessness, Empathy} {
		p := systemPrompts[d]
		if !strings.Contains(p, markerA) || !strings.Contains(p, markerB) || !strings.Contains(p, markerEqual) {
			t.Errorf("%s prompt does not name every verdict marker", d)
		}
		golden(t, "judge_system_"+string(d)+".txt", []byte(p))
	}
	golden(t, "judge_user.txt", []byte(judgeUserPrompt("How do I X?", "Answer one.", "Answer two.\nSecond line.")))
}

func TestParseDimension(t *testing.T) {
	for _, s := range []string{"helpfulness", " harmlessness", "empathy"} {
		if _, err := ParseDimension(s); err != nil {
			t.Errorf("ParseDimension(%q): %v", s, err)
		}
	}
	if _, err := ParseDimension("speed"); err == nil {
		t.Error("unknown dimension accepted")
	}
}
