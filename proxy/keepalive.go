package proxy

import (
	"sync"
	"time"

	"github.com/aligngate/aligngate/wire"
)

// collectKeptAlive collects the upstream stream for an aligner-mode
// correction. With keep-alives on (settings.Keepalive > 0), each choice's
// role chunk goes out as soon as the upstream starts it, and an SSE comment
// every interval until the answer is complete, so the client sees bytes
// long before the correction streams.
func (s *Server) collectKeptAlive(ex *exchange, em *emitter) (*collected, error) {
	every := s.settings.Keepalive
	if every <= 0 {
		return collect(ex, nil)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		em.keepAlive(every, stop)
	}()
	col, err := collect(ex, em.role)
	close(stop)
	wg.Wait()
	return col, err
}

// role sends the role chunk of choice i, taking the upstream's head.
func (e *emitter) role(head wire.Chunk, i int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.head.ID == "" {
		e.head = head
	}
	if e.roleSent[i] {
		return
	}
	empty := ""
	_ = e.chunk(wire.OutChoice{Index: i, Delta: wire.OutDelta{Content: &empty}}, nil)
}

// keepAlive writes an SSE comment every interval until stop is closed or a
// write fails.
func (e *emitter) keepAlive(every time.Duration, stop <-chan struct{}) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			e.mu.Lock()
			err := e.sse.Comment("keep-alive")
			e.mu.Unlock()
			if err != nil {
				return
			}
		}
	}
}
