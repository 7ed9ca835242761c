package policies

import (
	"crypto/sha256"
	"encoding/binary"
)

// Assignment is sticky and needs no shared state: a unit's position is
// p = first 64 bits of SHA-256(experiment name, 0x00, unit) / 2^64, a
// uniform point in [0,1). Arms are laid on [0,1) as consecutive ranges in
// their configured order, each as long as its share of the total weight,
// and the unit joins the arm whose range holds p.
//
// Every replica computes the same p, so they agree. Changing weights moves
// only the units whose p falls where the range boundaries shifted: going
// from 50/50 to 60/40 moves the units in [0.5, 0.6), i.e. 10%, and no unit
// changes arm for any other reason. Adding an arm at the end takes its
// share from the tail arms only. Renaming the experiment reshuffles
// everyone.

// enrol returns the first experiment that takes the request, the arm it
// lands in and the unit hash; arm is nil when no experiment takes it.
func enrol(exps []Experiment, f *facts) (*Experiment, *Arm, string) {
	for i := range exps {
		e := &exps[i]
		unit := e.unitValue(f)
		if unit == "" || !e.Match.fits(f) {
			continue
		}
		sum := unitSum(e.Name, unit)
		arm := e.armAt(position(sum))
		if arm == nil {
			continue
		}
		return e, arm, hexString(sum)
	}
	return nil, nil, ""
}

// unitValue returns the request's assignment unit, "" if it has none.
// Client keys are assigned by their digest so the raw key goes no further.
func (e *Experiment) unitValue(f *facts) string {
	switch e.Unit {
	case UnitUser:
		return f.User
	case UnitClientKey:
		return f.clientKeyHash()
	case UnitHeader:
		return f.header(e.UnitHeader)
	}
	return ""
}

// unitSum hashes name, a NUL byte and unit; short inputs stay on the stack.
func unitSum(name, unit string) [sha256.Size]byte {
	var buf [256]byte
	b := append(buf[:0], name...)
	b = append(b, 0)
	b = append(b, unit...)
	return sha256.Sum256(b)
}

// position maps a digest to [0,1) using its first 53 bits, so the float
// conversion is exact.
func position(sum [sha256.Size]byte) float64 {
	return float64(binary.BigEndian.Uint64(sum[:8])>>11) / (1 << 53)
}

// armAt returns the arm whose cumulative range holds p, nil if the weights
// are all zero.
func (e *Experiment) armAt(p float64) *Arm {
	var total float64
	for _, a := range e.Arms {
		if a.Weight > 0 {
			total += a.Weight
		}
	}
	if total <= 0 {
		return nil
	}
	x := p * total
	var cum float64
	last := -1
	for i := range e.Arms {
		if e.Arms[i].Weight <= 0 {
			continue
		}
		cum += e.Arms[i].Weight
		last = i
		if x < cum {
			return &e.Arms[i]
		}
	}
	return &e.Arms[last] // rounding at the top end
}

// AssignArm returns the arm name a unit gets in an experiment, "" if the
// experiment has no arm with positive weight. It is what [Decide] uses,
// exposed for tools that replay assignments.
func (e *Experiment) AssignArm(unit string) string {
	if a := e.armAt(position(unitSum(e.Name, unit))); a != nil {
		return a.Name
	}
	return ""
}
