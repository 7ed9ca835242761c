package correct

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// slowUpper corrects like upper after a pause, so an answer of many
// sentences outlasts a short answer budget.
func slowUpper(ctx context.Context, prompt string) (string, error) {
	select {
	case <-time.After(40 * time.Millisecond):
	case <-ctx.Done():
		return "", ctx.Err()
	}
	return upper(ctx, prompt)
}

func TestFollowAnswerBudget(t *testing.T) {
	m := &fakeModel{by: slowUpper}
	c := newTestCorrector(t, m, nil, func(cfg *Config) { cfg.Budget.Answer = 200 * time.Millisecond })
	answer := strings.Repeat("one more sentence. ", 50)
	out, got, err := follow(t, c, Request{Mode: ModeStream, Question: "Q"}, answer)
	if err != nil {
		t.Fatal(err)
	}
	if out.Fallback != FallbackBudget {
		t.Fatalf("fallback %q, want %q", out.Fallback, FallbackBudget)
	}
	// Every sentence is there: the first ones corrected, the rest as the
	// upstream wrote them.
	if !strings.EqualFold(got.text(), answer) || got.text() == answer || !strings.HasSuffix(got.text(), "one more sentence. ") {
		t.Fatalf("emitted %q", got.text())
	}
	if n := len(m.calls()); n == 0 || n >= 50 {
		t.Errorf("%d model calls for 50 sentences under a budget that fits a few", n)
	}
}

func TestFollowAnswerBudgetFailClosed(t *testing.T) {
	m := &fakeModel{by: slowUpper}
	c := newTestCorrector(t, m, nil, func(cfg *Config) { cfg.Budget.Answer = 200 * time.Millisecond })
	_, _, err := follow(t, c, Request{Mode: ModeStream, Question: "Q", FailClosed: true}, strings.Repeat("one more sentence. ", 50))
	var fe *FallbackError
	if !errors.As(err, &fe) || fe.Reason != FallbackBudget {
		t.Fatalf("err %v, want a budget FallbackError", err)
	}
}
