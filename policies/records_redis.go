package policies

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisWriteTimeout bounds one XADD so a stalled Redis cannot stall the
// writer forever (the queue in front of it drops instead).
const redisWriteTimeout = 2 * time.Second

// redisSink appends records to a Redis stream with XADD MAXLEN ~, so many
// replicas can share one record log. Each entry has fields experiment, arm
// and record (the JSON line).
type redisSink struct {
	client *redis.Client
	stream string
	maxLen int64
}

func newRedisSink(url, stream string, maxLen int64) (*redisSink, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, &FieldError{Key: "policies.records.redis_url", Err: fmt.Errorf("%w: %w", ErrInvalid, err)}
	}
	return &redisSink{client: redis.NewClient(opts), stream: stream, maxLen: maxLen}, nil
}

func (s *redisSink) write(r Record, line []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), redisWriteTimeout)
	defer cancel()
	err := s.client.XAdd(ctx, &redis.XAddArgs{
		Stream: s.stream,
		MaxLen: s.maxLen,
		Approx: true,
		Values: []any{"experiment", r.Experiment, "arm", r.Arm, "record", line[:len(line)-1]},
	}).Err()
	if err != nil {
		return fmt.Errorf("records: xadd %s: %w", s.stream, err)
	}
	return nil
}

func (s *redisSink) flush() error { return nil }

func (s *redisSink) close() error {
	if err := s.client.Close(); err != nil {
		return fmt.Errorf("records: close redis: %w", err)
	}
	return nil
}

var _ sink = (*redisSink)(nil)
