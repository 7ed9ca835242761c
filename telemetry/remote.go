package telemetry

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/metric"
)

// RegisterRemoteRetries makes f feed aligngate_remote_retries_total: the
// requests to the remote correction backend sent a second time because a
// kept-alive connection had been closed under them. f is called at each
// collection and must be fast and safe for concurrent use. Call it once.
func (m *Metrics) RegisterRemoteRetries(f func() int64) error {
	_, err := m.meter.Int64ObservableCounter("aligngate_remote_retries", metric.WithUnit("{request}"),
		metric.WithDescription("Requests to the remote correction backend retried on a new connection after a kept-alive one was closed."),
		metric.WithInt64Callback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(f())
			return nil
		}))
	if err != nil {
		return fmt.Errorf("telemetry: register remote retries: %w", err)
	}
	return nil
}
