package policies

import (
	"math"
	"strconv"
	"testing"
)

func abExperiment(control, treatment float64) *Experiment {
	return &Experiment{Name: "aligner-ab", Unit: UnitUser, Arms: []Arm{
		{Name: "control", Weight: control}, {Name: "treatment", Weight: treatment},
	}}
}

// TestAssignArmGolden pins assignments: they depend only on the experiment
// name and the unit, so every process and replica, now and later, agrees.
func TestAssignArmGolden(t *testing.T) {
	e := abExperiment(50, 50)
	// Computed independently (Python hashlib): position of
	// sha256("aligner-ab\x00user-i")[:8]>>11 / 2^53, control below 0.5.
	want := map[string]string{
		"user-0": "treatment", "user-1": "control", "user-2": "control", "user-3": "treatment",
		"user-4": "treatment", "user-5": "treatment", "user-6": "treatment", "user-7": "control",
	}
	for u := range want {
		for range 3 {
			if got := e.AssignArm(u); got != want[u] {
				t.Errorf("AssignArm(%q) = %q, want %q", u, got, want[u])
			}
		}
	}
}

func TestAssignSplit(t *testing.T) {
	for _, weights := range [][2]float64{{50, 50}, {0.9, 0.1}, {1, 3}} {
		e := abExperiment(weights[0], weights[1])
		const n = 100_000
		counts := map[string]int{}
		for i := range n {
			counts[e.AssignArm("unit-"+strconv.Itoa(i))]++
		}
		wantControl := weights[0] / (weights[0] + weights[1])
		got := float64(counts["control"]) / n
		if math.Abs(got-wantControl) > 0.01 {
			t.Errorf("weights %v: control share %.4f, want %.4f ± 0.01", weights, got, wantControl)
		}
		if counts["control"]+counts["treatment"] != n {
			t.Errorf("weights %v: units outside the arms: %v", weights, counts)
		}
	}
}

func TestAssignWeightChangeMovesFew(t *testing.T) {
	before, after := abExperiment(50, 50), abExperiment(60, 40)
	const n = 100_000
	moved, wrongWay := 0, 0
	for i := range n {
		u := "unit-" + strconv.Itoa(i)
		a, b := before.AssignArm(u), after.AssignArm(u)
		if a != b {
			moved++
			if a != "treatment" || b != "control" {
				wrongWay++
			}
		}
	}
	if share := float64(moved) / n; math.Abs(share-0.10) > 0.01 {
		t.Errorf("50/50 -> 60/40 moved %.4f of units, want ~0.10", share)
	}
	if wrongWay != 0 {
		t.Errorf("%d units moved from control to treatment; only treatment -> control may move", wrongWay)
	}
}

func TestAssignZeroWeights(t *testing.T) {
	e := abExperiment(0, 0)
	if got := e.AssignArm("u"); got != "" {
		t.Errorf("all-zero weights assigned %q", got)
	}
	e = abExperiment(0, 1)
	for i := range 1000 {
		if got := e.AssignArm(strconv.Itoa(i)); got != "treatment" {
			t.Fatalf("zero-weight arm got unit %d", i)
		}
	}
}
