package eval

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
)

// IsTerminal reports whether w is a terminal (a character device).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progress draws a bar on a terminal, or prints a plain line every 10% of
// the work otherwise.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	total int
	done  int
	next  int // plain mode: print when done reaches next
	noun  string
}

func newProgress(w io.Writer, total int) *progress {
	p := &progress{w: w, total: total, tty: IsTerminal(w), noun: "judge calls"}
	p.next = p.stride()
	return p
}

func (p *progress) stride() int { return max(1, p.total/10) }

func (p *progress) step() {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	switch {
	case p.tty:
		const width = 30
		filled := width * p.done / max(1, p.total)
		fmt.Fprintf(p.w, "\r[%s%s] %d/%d %s", strings.Repeat("#", filled), strings.Repeat(" ", width-filled), p.done, p.total, p.noun)
	case p.done >= p.next || p.done == p.total:
		fmt.Fprintf(p.w, "%d/%d %s\n", p.done, p.total, p.noun)
		p.next = p.done + p.stride()
	}
}

func (p *progress) finish() {
	if p.w != nil && p.tty {
		fmt.Fprintln(p.w)
	}
}
