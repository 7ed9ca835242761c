package dashboard

import (
	"sort"
	"sync"

	"github.com/aligngate/aligngate/policies"
)

// entry is one record in the ring, numbered in arrival order from 1.
type entry struct {
	ID  uint64
	Rec policies.Record
	// Content reports whether the record kept its question and answers.
	Content bool
}

// armKey names one experiment arm; records outside an experiment have
// empty names.
type armKey struct{ Experiment, Arm string }

// tally counts every record ever seen for one arm, including those the
// ring has since evicted.
type tally struct {
	Records   uint64
	Corrected uint64
	Fallbacks map[string]uint64
}

// ring keeps the last len(buf) records, redacted when capture is off, and
// tallies all of them. Safe for concurrent use.
type ring struct {
	capture bool

	mu     sync.Mutex
	buf    []entry
	seq    uint64 // ID of the newest record; 0 before any
	tallys map[armKey]*tally
}

func newRing(size int, capture bool) *ring {
	return &ring{capture: capture, buf: make([]entry, size), tallys: map[armKey]*tally{}}
}

// add stores rec and returns its ID. Content is kept only when both the
// process and the record allow it; a record no experiment enrolled carries
// no experiment's rule, so the process's capture setting alone decides.
func (r *ring) add(rec policies.Record) uint64 {
	keep := r.capture && (rec.CaptureContent || rec.Experiment == "")
	if !keep {
		rec.CaptureContent = false
		rec = rec.Redacted()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	r.buf[r.seq%uint64(len(r.buf))] = entry{ID: r.seq, Rec: rec, Content: keep}
	r.count(rec)
	return r.seq
}

func (r *ring) count(rec policies.Record) {
	k := armKey{rec.Experiment, rec.Arm}
	t := r.tallys[k]
	if t == nil {
		t = &tally{Fallbacks: map[string]uint64{}}
		r.tallys[k] = t
	}
	t.Records++
	if rec.Corrected {
		t.Corrected++
	}
	if rec.Fallback {
		reason := rec.FallbackReason
		if reason == "" {
			reason = "unknown"
		}
		t.Fallbacks[reason]++
	}
}

// after returns up to limit records newer than id, newest first, and the
// newest ID.
func (r *ring) after(id uint64, limit int) ([]entry, uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	oldest := r.oldest()
	if id+1 > oldest {
		oldest = id + 1
	}
	var out []entry
	for n := r.seq; n >= oldest && n > 0 && len(out) < limit; n-- {
		out = append(out, r.buf[n%uint64(len(r.buf))])
	}
	return out, r.seq
}

// get returns record id while the ring still holds it.
func (r *ring) get(id uint64) (entry, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if id == 0 || id > r.seq || id < r.oldest() {
		return entry{}, false
	}
	return r.buf[id%uint64(len(r.buf))], true
}

// oldest is the ID of the oldest record held; the caller holds mu.
func (r *ring) oldest() uint64 {
	if r.seq < uint64(len(r.buf)) {
		return 1
	}
	return r.seq - uint64(len(r.buf)) + 1
}

// arms returns a copy of the tallies, sorted by experiment and arm.
func (r *ring) arms() ([]armKey, map[armKey]tally) {
	r.mu.Lock()
	defer r.mu.Unlock()
	keys := make([]armKey, 0, len(r.tallys))
	out := make(map[armKey]tally, len(r.tallys))
	for k, t := range r.tallys {
		keys = append(keys, k)
		c := *t
		c.Fallbacks = make(map[string]uint64, len(t.Fallbacks))
		for reason, n := range t.Fallbacks {
			c.Fallbacks[reason] = n
		}
		out[k] = c
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].Experiment != keys[j].Experiment {
			return keys[i].Experiment < keys[j].Experiment
		}
		return keys[i].Arm < keys[j].Arm
	})
	return keys, out
}
