package eval

import (
	"reflect"
	"strings"
	"testing"
)

func TestWordDiff(t *testing.T) {
	tests := []struct {
		a, b string
		want []Chunk
	}{
		{"same text", "same text", []Chunk{{Equal, "same text"}}},
		{"", "new", []Chunk{{Insert, "new"}}},
		{"old", "", []Chunk{{Delete, "old"}}},
		{"the cat sat", "the dog sat", []Chunk{{Equal, "the "}, {Delete, "cat"}, {Insert, "dog"}, {Equal, " sat"}}},
		{"a b c", "a c", []Chunk{{Equal, "a "}, {Delete, "b "}, {Equal, "c"}}},
		{"You should do it.", "You should not do it.", []Chunk{{Equal, "You should "}, {Insert, "not "}, {Equal, "do it."}}},
	}
	for _, tt := range tests {
		if got := WordDiff(tt.a, tt.b); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("WordDiff(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func FuzzWordDiff(f *testing.F) {
	f.Add("the cat sat", "the dog sat down")
	f.Add("  x\n y", "x y  ")
	f.Fuzz(func(t *testing.T, a, b string) {
		var ra, rb strings.Builder
		for _, c := range WordDiff(a, b) {
			if c.Op != Insert {
				ra.WriteString(c.Text)
			}
			if c.Op != Delete {
				rb.WriteString(c.Text)
			}
		}
		if ra.String() != a || rb.String() != b {
			t.Fatalf("diff does not reconstruct inputs: %q %q", ra.String(), rb.String())
		}
	})
}
