package passthrough

import (
	"testing"
	"time"
)

func ms2d(ms ...int) []time.Duration {
	d := make([]time.Duration, len(ms))
	for i, m := range ms {
		d[i] = time.Duration(m) * time.Millisecond
	}
	return d
}

func TestPercentiles(t *testing.T) {
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // reversed: percentiles must sort
	}
	thousand := make([]int, 1000)
	for i := range thousand {
		thousand[i] = i + 1
	}
	for _, tc := range []struct {
		name     string
		in       []int
		p50, p99 int
	}{
		{"empty", nil, 0, 0},
		{"one", []int{7}, 7, 7},
		{"two", []int{9, 1}, 1, 9},
		{"odd", []int{5, 1, 3}, 3, 5},
		{"hundred reversed", hundred, 50, 99},
		{"thousand", thousand, 500, 990},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := percentiles(ms2d(tc.in...))
			want := Percentiles{N: len(tc.in), P50: time.Duration(tc.p50) * time.Millisecond, P99: time.Duration(tc.p99) * time.Millisecond}
			if got != want {
				t.Fatalf("got %+v, want %+v", got, want)
			}
		})
	}
}
