package cache

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
)

func TestConfigDefaultsFromYAML(t *testing.T) {
	var c Config
	if err := yaml.Unmarshal([]byte("redis_url: redis://localhost:6379/0\ntimeout: 75ms\n"), &c); err != nil {
		t.Fatal(err)
	}
	c.SetDefaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	want := Config{RedisURL: "redis://localhost:6379/0", TTL: 24 * time.Hour, MemoryBytes: 64 << 20, Timeout: 75 * time.Millisecond,
		LockTTL: 30 * time.Second, LockPoll: 50 * time.Millisecond, Prefix: "aligngate:v1:"}
	got := c
	got.Lock = nil
	if got != want {
		t.Fatalf("config = %+v\nwant     %+v", got, want)
	}
	if !c.LockEnabled() {
		t.Fatal("lock must default to true")
	}
}

func TestConfigLockFalseKept(t *testing.T) {
	var c Config
	if err := yaml.Unmarshal([]byte("lock: false\nttl: 1h\n"), &c); err != nil {
		t.Fatal(err)
	}
	c.SetDefaults()
	if c.LockEnabled() || c.TTL != time.Hour {
		t.Fatalf("explicit values lost: %+v", c)
	}
}

func TestConfigValidate(t *testing.T) {
	valid := func() Config { var c Config; c.SetDefaults(); return c }
	tests := []struct {
		name   string
		modify func(*Config)
		want   string // substring of the error; empty: valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"redis only", func(c *Config) { c.RedisURL = "redis://h:1"; c.MemoryBytes = -1 }, ""},
		{"sentinel", func(c *Config) { c.RedisURL = "redis://h:26379?master_name=mymaster" }, ""},
		{"cluster", func(c *Config) { c.RedisURL = "redis://h:7000?addr=h:7001" }, ""},
		{"cluster scheme", func(c *Config) { c.RedisURL = "rediss+cluster://h:7000" }, ""},
		{"negative ttl", func(c *Config) { c.TTL = -time.Second }, "ttl"},
		{"negative timeout", func(c *Config) { c.Timeout = -1 }, "timeout"},
		{"no memory no redis", func(c *Config) { c.MemoryBytes = -1 }, "memory_bytes"},
		{"poll not shorter than lock", func(c *Config) { c.LockPoll = c.LockTTL }, "lock_poll"},
		{"bad scheme", func(c *Config) { c.RedisURL = "http://h:1" }, "redis_url"},
		{"unknown param", func(c *Config) { c.RedisURL = "redis://h:1?bogus=1" }, "redis_url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid()
			tt.modify(&c)
			err := c.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate = %v, want ErrInvalidConfig mentioning %q", err, tt.want)
			}
		})
	}
}

func TestConfigRedactedHidesPassword(t *testing.T) {
	c := Config{RedisURL: "redis://user:s3cret@h:6379/0"}
	if r := c.Redacted(); strings.Contains(r.RedisURL, "s3cret") || !strings.Contains(r.RedisURL, "user") {
		t.Fatalf("Redacted().RedisURL = %q", r.RedisURL)
	}
	bad := Config{RedisURL: "redis://user:s3cret@h:6379/%zz"}
	bad.SetDefaults()
	if err := bad.Validate(); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("Validate error leaks the password or is nil: %v", err)
	}
}

func TestParseRedisURLKind(t *testing.T) {
	tests := []struct {
		url  string
		kind string
	}{
		{"redis://h:6379/2", "simple"},
		{"rediss://u:p@h:6380", "simple"},
		{"redis://h:26379?master_name=m&addr=h2:26379", "failover"},
		{"redis://h:7000?addr=h:7001&addr=h:7002", "cluster"},
		{"redis+cluster://h:7000", "cluster"},
	}
	for _, tt := range tests {
		o, err := parseRedisURL(tt.url)
		if err != nil {
			t.Fatalf("%s: %v", tt.url, err)
		}
		kind := map[bool]string{true: "simple"}[o.simple != nil] + map[bool]string{true: "failover"}[o.failover != nil] +
			map[bool]string{true: "cluster"}[o.cluster != nil]
		if kind != tt.kind {
			t.Errorf("%s: kind %q, want %q", tt.url, kind, tt.kind)
		}
	}
}
