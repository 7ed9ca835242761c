package cache

import (
	"errors"
	"fmt"
	"net/url"
	"time"
)

// Defaults applied by [Config.SetDefaults].
const (
	DefaultTTL         = 24 * time.Hour
	DefaultMemoryBytes = 64 << 20
	DefaultTimeout     = 100 * time.Millisecond
	DefaultLockTTL     = 30 * time.Second
	DefaultLockPoll    = 50 * time.Millisecond
	DefaultPrefix      = "aligngate:v1:"
)

// ErrInvalidConfig is wrapped by every error [Config.Validate] returns.
var ErrInvalidConfig = errors.New("cache: invalid config")

// Config is the `cache:` section of the configuration file.
type Config struct {
	// RedisURL is the Redis server to share corrections between replicas.
	// Empty means memory only. Forms:
	//   redis://[user:pass@]host:port/db            single server
	//   redis://host:port?addr=host2:port2           cluster (two or more addresses)
	//   redis+cluster://host:port                    cluster from one seed address
	//   redis://host:port?master_name=mymaster       Sentinel (host:port is a sentinel)
	// rediss:// enables TLS in every form. Query parameters accepted by
	// go-redis (dial_timeout, pool_size, ...) are passed through.
	RedisURL string `yaml:"redis_url"`
	// TTL is how long a correction stays cached. Default 24h.
	TTL time.Duration `yaml:"ttl"`
	// MemoryBytes bounds the in-process LRU in bytes (keys, texts and a
	// fixed per-entry overhead). Default 64 MiB. A negative value disables
	// the memory layer; it is only allowed together with RedisURL.
	MemoryBytes int64 `yaml:"memory_bytes"`
	// Timeout bounds each Redis operation (dial, read and write included,
	// no retries); past it the request goes on uncached. Default 100ms.
	Timeout time.Duration `yaml:"timeout"`
	// Lock enables the cross-replica lock: while one replica computes a
	// correction the others poll for its result instead of computing it
	// again. Only used with Redis. Default true.
	Lock *bool `yaml:"lock"`
	// LockTTL is the lock's expiry; the holder refreshes it while it
	// computes, so it only matters when the holder dies. Default 30s.
	LockTTL time.Duration `yaml:"lock_ttl"`
	// LockPoll is how often waiters look for the holder's result. Default 50ms.
	LockPoll time.Duration `yaml:"lock_poll"`
	// Prefix is put before every key so that a format change never reads
	// old entries. Default "aligngate:v1:".
	Prefix string `yaml:"prefix"`
}

// SetDefaults fills zero fields with their defaults.
func (c *Config) SetDefaults() {
	if c.TTL == 0 {
		c.TTL = DefaultTTL
	}
	if c.MemoryBytes == 0 {
		c.MemoryBytes = DefaultMemoryBytes
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Lock == nil {
		on := true
		c.Lock = &on
	}
	if c.LockTTL == 0 {
		c.LockTTL = DefaultLockTTL
	}
	if c.LockPoll == 0 {
		c.LockPoll = DefaultLockPoll
	}
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
}

// LockEnabled reports whether the cross-replica lock is on (default true).
func (c Config) LockEnabled() bool { return c.Lock == nil || *c.Lock }

// Validate reports the first invalid field. Call it after SetDefaults.
func (c Config) Validate() error {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"ttl", c.TTL}, {"timeout", c.Timeout}, {"lock_ttl", c.LockTTL}, {"lock_poll", c.LockPoll}} {
		if d.v <= 0 {
			return fmt.Errorf("%w: %s must be positive, got %s", ErrInvalidConfig, d.name, d.v)
		}
	}
	if c.Prefix == "" {
		return fmt.Errorf("%w: prefix must not be empty", ErrInvalidConfig)
	}
	if c.MemoryBytes < 0 && c.RedisURL == "" {
		return fmt.Errorf("%w: memory_bytes < 0 disables the memory layer and needs redis_url", ErrInvalidConfig)
	}
	if c.LockPoll >= c.LockTTL {
		return fmt.Errorf("%w: lock_poll (%s) must be shorter than lock_ttl (%s)", ErrInvalidConfig, c.LockPoll, c.LockTTL)
	}
	if c.RedisURL != "" {
		if _, err := parseRedisURL(c.RedisURL); err != nil {
			return fmt.Errorf("%w: redis_url: %w", ErrInvalidConfig, err)
		}
	}
	return nil
}

// Redacted returns a copy safe to log: the password in RedisURL is masked.
func (c Config) Redacted() Config {
	c.RedisURL = redactURL(c.RedisURL)
	return c
}

func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		if raw == "" {
			return ""
		}
		return "<unparsable>"
	}
	return u.Redacted()
}
