package glob

import (
	"errors"
	"testing"
)

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"*", "meta-llama/Llama-3-70B", true},
		{"gpt-4*", "gpt-4o-mini", true},
		{"gpt-4*", "gpt-3.5", false},
		{"meta-llama/*", "meta-llama/Llama-3", true},
		{"*/Llama-*-70B", "meta-llama/Llama-3-70B", true},
		{"gpt-?o", "gpt-4o", true},
		{"gpt-?o", "gpt-40o", false},
		{"v[0-9]", "v7", true},
		{"v[0-9]", "vx", false},
		{"v[^0-9]", "vx", true},
		{"v[^0-9]", "v1", false},
		{"a\\*b", "a*b", true},
		{"a\\*b", "axb", false},
		{"*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
		{"exact", "exact", true},
		{"exact", "exactly", false},
		{"é?", "éü", true},
		{"[", "[", false},
	}
	for _, tt := range tests {
		if got := Match(tt.pattern, tt.s); got != tt.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func TestCheckGlob(t *testing.T) {
	for _, bad := range []string{"[", "a[b", "[]", "x\\", "[z-a]", "[a\\"} {
		if err := Check(bad); !errors.Is(err, ErrSyntax) {
			t.Errorf("Check(%q) = %v, want ErrSyntax", bad, err)
		}
	}
	for _, good := range []string{"", "*", "a?b", "[a-z]*", "[^0-9]", "\\[x\\]", "meta-llama/*"} {
		if err := Check(good); err != nil {
			t.Errorf("Check(%q) = %v", good, err)
		}
	}
}

func FuzzGlobMatch(f *testing.F) {
	f.Add("gpt-*", "gpt-4")
	f.Add("[a-z]?\\*", "b1*")
	f.Add("*x*", "")
	f.Fuzz(func(t *testing.T, pattern, s string) {
		got := Match(pattern, s)
		if Check(pattern) != nil && got {
			t.Fatalf("malformed %q matched %q", pattern, s)
		}
		if got && !Match("*", s) {
			t.Fatal("star must match everything")
		}
		if Check(pattern) == nil && !hasMeta(pattern) && got != (pattern == s) {
			t.Fatalf("literal %q vs %q: %v", pattern, s, got)
		}
	})
}

func hasMeta(p string) bool {
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '*', '?', '[', '\\':
			return true
		}
	}
	return false
}
