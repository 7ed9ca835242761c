package eval

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
)

// Judgement is one judge call's result, as stored in the state file.
type Judgement struct {
	Pair      string    `json:"pair"`
	Dimension Dimension `json:"dimension"`
	Order     Order     `json:"order"`
	Judge     string    `json:"judge"` // judge model; results of another judge are not reused
	Verdict   Verdict   `json:"verdict"`
	Reply     string    `json:"reply,omitempty"`
}

type stateKey struct {
	pair  string
	dim   Dimension
	order Order
}

func (j Judgement) key() stateKey { return stateKey{j.Pair, j.Dimension, j.Order} }

// State holds judgements already made and appends new ones to a JSONL
// file, one line per judge call, so that an interrupted run resumes where
// it stopped. Only calls that got an answer are stored; calls that failed
// are tried again on the next run.
type State struct {
	mu    sync.Mutex
	f     *os.File // nil: in memory only
	done  map[stateKey]Judgement
	judge string
}

// OpenState loads path (if it exists) keeping the judgements made by
// judge, and opens it for appending. An empty path keeps state in memory.
// A torn last line (a crash mid-write) is ignored.
func OpenState(path, judge string) (*State, error) {
	s := &State{done: map[stateKey]Judgement{}, judge: judge}
	if path == "" {
		return s, nil
	}
	f, err := os.Open(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("eval: state: %w", err)
	default:
		err = eachLine(f, func(_ int, line []byte) error {
			var j Judgement
			if json.Unmarshal(line, &j) == nil && j.Judge == judge {
				s.done[j.key()] = j
			}
			return nil
		})
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("eval: state: %w", err)
		}
	}
	s.f, err = os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("eval: state: %w", err)
	}
	if err := endLine(path, s.f); err != nil {
		s.f.Close()
		return nil, err
	}
	return s, nil
}

// endLine appends a newline to w if the file at path does not end with
// one, so a line torn by a crash does not swallow the next judgement.
func endLine(path string, w *os.File) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("eval: state: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return err
	}
	last := make([]byte, 1)
	if _, err := f.ReadAt(last, st.Size()-1); err != nil {
		return fmt.Errorf("eval: state: %w", err)
	}
	if last[0] != '\n' {
		if _, err := w.Write([]byte("\n")); err != nil {
			return fmt.Errorf("eval: state: %w", err)
		}
	}
	return nil
}

// Lookup returns a stored judgement.
func (s *State) Lookup(pair string, dim Dimension, o Order) (Judgement, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.done[stateKey{pair, dim, o}]
	return j, ok
}

// Len returns how many judgements are stored.
func (s *State) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.done)
}

// Put stores j and appends it to the file.
func (s *State) Put(j Judgement) error {
	j.Judge = s.judge
	b, err := json.Marshal(j)
	if err != nil {
		return fmt.Errorf("eval: state: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.done[j.key()] = j
	if s.f == nil {
		return nil
	}
	if _, err := s.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("eval: state: %w", err)
	}
	return nil
}

// Close closes the file.
func (s *State) Close() error {
	if s.f == nil {
		return nil
	}
	if err := s.f.Close(); err != nil {
		return fmt.Errorf("eval: state: %w", err)
	}
	return nil
}
