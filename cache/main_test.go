package cache_test

import (
	"log/slog"
	"os"
	"testing"

	"github.com/aligngate/aligngate/cache"
)

func TestMain(m *testing.M) {
	// Fault tests make go-redis log every failed dial; keep the output readable.
	cache.RouteRedisLogs(slog.New(slog.DiscardHandler))
	os.Exit(m.Run())
}
