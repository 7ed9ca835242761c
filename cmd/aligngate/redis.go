package main

import (
	"context"
	"log/slog"
	"net/url"
	"time"

	"github.com/aligngate/aligngate/cache"
)

// pingTimeout bounds the start-time and check-time question to Redis.
const pingTimeout = 2 * time.Second

// pingRedis reports whether the Redis server at rawURL answers a PING.
func pingRedis(ctx context.Context, rawURL string) error {
	r, err := cache.NewRedis(cache.Config{RedisURL: rawURL, Timeout: pingTimeout}, nil)
	if err != nil {
		return err
	}
	defer r.Close()
	return r.Ping(ctx)
}

// redactURL hides the password of a URL for output.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// logRedis says at start whether the Redis server of key answered, so an
// outage shows before the first request does.
func logRedis(ctx context.Context, log *slog.Logger, key, rawURL string) {
	if rawURL == "" {
		return
	}
	if err := pingRedis(ctx, rawURL); err != nil {
		log.Warn("redis did not answer; serving without it until it does", "key", key, "url", redactURL(rawURL), "err", err)
		return
	}
	log.Info("redis answered", "key", key, "url", redactURL(rawURL))
}
