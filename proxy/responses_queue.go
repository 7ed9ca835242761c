package proxy

import (
	"context"
	"errors"
	"io"
	"sync"

	"github.com/aligngate/aligngate/wire"
)

// errStreamTooLarge ends an upstream stream that outgrew maxAnswer while
// the proxy held it.
var errStreamTooLarge = errors.New("upstream stream larger than the proxy holds")

// eventQueue reads an upstream event stream on its own goroutine, so the
// upstream is read as fast as it writes (and its idle timer sees only its
// own silences) while a correction holds up the events behind it. The
// reader goroutine owns the writing side; it ends when the stream does,
// which closing the exchange forces.
type eventQueue struct {
	mu     sync.Mutex
	events [][]byte
	size   int
	err    error // why the reader ended: io.EOF, wire.ErrDone or a read error
	wake   chan struct{}
}

func readEvents(r io.Reader) *eventQueue {
	q := &eventQueue{wake: make(chan struct{}, 1)}
	go q.read(wire.NewSSEReader(r))
	return q
}

func (q *eventQueue) read(r *wire.SSEReader) {
	for {
		data, err := r.Next()
		q.mu.Lock()
		if err == nil && q.size+len(data) > maxAnswer {
			err = errStreamTooLarge
		}
		if err != nil {
			q.err = err
		} else {
			q.events = append(q.events, append([]byte(nil), data...))
			q.size += len(data)
		}
		q.mu.Unlock()
		select {
		case q.wake <- struct{}{}:
		default:
		}
		if err != nil {
			return
		}
	}
}

// next returns the next event's data, or the error that ended the stream
// once every event before it was taken, or ctx's error.
func (q *eventQueue) next(ctx context.Context) ([]byte, error) {
	for {
		q.mu.Lock()
		if len(q.events) > 0 {
			ev := q.events[0]
			q.events[0] = nil
			q.events = q.events[1:]
			q.size -= len(ev)
			q.mu.Unlock()
			return ev, nil
		}
		err := q.err
		q.mu.Unlock()
		if err != nil {
			return nil, err
		}
		select {
		case <-q.wake:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
