package cache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// ErrStore is wrapped by every error a store returns when it failed
// (unreachable, timeout, protocol error), as opposed to a miss.
var ErrStore = errors.New("cache: store failed")

// Lua scripts that act on a lock only while it still holds our token.
var (
	refreshScript = redis.NewScript(`if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("pexpire", KEYS[1], ARGV[2]) else return 0 end`)
	unlockScript  = redis.NewScript(`if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`)
)

// After tripAfter consecutive failures the store fails fast for openFor
// instead of spending its timeout on every call; the first call after
// that probes Redis again. A success resets it: no state sticks.
const (
	tripAfter = 3
	openFor   = time.Second
)

// errOpen is returned while Redis is skipped after repeated failures.
var errOpen = errors.New("skipped after repeated failures")

// Redis is a Store and Locker on a Redis server, Sentinel group or
// Cluster. Every operation is bounded by the configured timeout; failures
// are logged at most once per 10s, and the client reconnects by itself.
type Redis struct {
	client  redis.UniversalClient
	timeout time.Duration
	log     *rateLog
	logger  *slog.Logger
	now     func() time.Time

	failing   atomic.Bool
	failures  atomic.Int32 // consecutive
	openUntil atomic.Int64 // unix nanoseconds; 0: closed
}

// NewRedis connects to cfg.RedisURL (see Config.RedisURL for the forms).
// It does not contact the server, so it succeeds while Redis is down.
func NewRedis(cfg Config, logger *slog.Logger) (*Redis, error) {
	cfg.SetDefaults()
	if cfg.RedisURL == "" {
		return nil, fmt.Errorf("%w: redis_url is empty", ErrInvalidConfig)
	}
	opts, err := parseRedisURL(cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("%w: redis_url: %w", ErrInvalidConfig, err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Redis{
		client:  opts.client(cfg.Timeout),
		timeout: cfg.Timeout,
		log:     newRateLog(logger, logEvery),
		logger:  logger,
		now:     time.Now,
	}, nil
}

// Get returns the entry under key, ErrMiss if absent, an error wrapping
// ErrMiss and ErrCorrupt if the value is not an entry, or ErrStore.
func (r *Redis) Get(ctx context.Context, key string) (Entry, error) {
	if err := r.allow("get"); err != nil {
		return Entry{}, err
	}
	opCtx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	b, err := r.client.Get(opCtx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		r.ok()
		return Entry{}, ErrMiss
	}
	if err != nil {
		return Entry{}, r.fail(ctx, "get", err)
	}
	r.ok()
	e, err := decodeEntry(b)
	if err != nil {
		r.log.Warn("cache: corrupt value in redis, treating as miss", slog.String("key", key), slog.Any("err", err))
		return Entry{}, err
	}
	return e, nil
}

// Set stores e under key for ttl (zero: no expiry).
func (r *Redis) Set(ctx context.Context, key string, e Entry, ttl time.Duration) error {
	b, err := encodeEntry(withExpiry(e, time.Now(), ttl))
	if err != nil {
		return err
	}
	if err := r.allow("set"); err != nil {
		return err
	}
	opCtx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	if err := r.client.Set(opCtx, key, b, ttl).Err(); err != nil {
		return r.fail(ctx, "set", err)
	}
	r.ok()
	return nil
}

// Lock takes the lock key with token for ttl if nobody holds it.
func (r *Redis) Lock(ctx context.Context, key, token string, ttl time.Duration) (bool, error) {
	if err := r.allow("lock"); err != nil {
		return false, err
	}
	opCtx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	ok, err := r.client.SetNX(opCtx, key, token, ttl).Result()
	if err != nil {
		return false, r.fail(ctx, "lock", err)
	}
	r.ok()
	return ok, nil
}

// Refresh extends the lock to ttl if token still holds it.
func (r *Redis) Refresh(ctx context.Context, key, token string, ttl time.Duration) (bool, error) {
	if err := r.allow("refresh lock"); err != nil {
		return false, err
	}
	opCtx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	n, err := refreshScript.Run(opCtx, r.client, []string{key}, token, ttl.Milliseconds()).Int()
	if err != nil {
		return false, r.fail(ctx, "refresh lock", err)
	}
	r.ok()
	return n == 1, nil
}

// Unlock releases the lock if token still holds it.
func (r *Redis) Unlock(ctx context.Context, key, token string) error {
	if err := r.allow("unlock"); err != nil {
		return err
	}
	opCtx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	if err := unlockScript.Run(opCtx, r.client, []string{key}, token).Err(); err != nil && !errors.Is(err, redis.Nil) {
		return r.fail(ctx, "unlock", err)
	}
	r.ok()
	return nil
}

// Ping reports whether the server answers within the timeout.
func (r *Redis) Ping(ctx context.Context) error {
	opCtx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	if err := r.client.Ping(opCtx).Err(); err != nil {
		return fmt.Errorf("%w: redis ping: %w", ErrStore, err)
	}
	return nil
}

// Close closes the client's connections.
func (r *Redis) Close() error {
	if err := r.client.Close(); err != nil {
		return fmt.Errorf("cache: close redis: %w", err)
	}
	return nil
}

// allow returns an error while Redis is skipped after repeated failures.
func (r *Redis) allow(op string) error {
	if until := r.openUntil.Load(); until != 0 && r.now().UnixNano() < until {
		return fmt.Errorf("%w: redis %s: %w", ErrStore, op, errOpen)
	}
	return nil
}

// fail wraps err, counts it toward skipping Redis and logs it
// (rate-limited) unless the caller left, which is no fault of Redis.
func (r *Redis) fail(ctx context.Context, op string, err error) error {
	if ctx.Err() == nil {
		r.failing.Store(true)
		if r.failures.Add(1) >= tripAfter {
			r.openUntil.Store(r.now().Add(openFor).UnixNano())
		}
		r.log.Warn("cache: redis unavailable, going on uncached", slog.String("op", op), slog.Any("err", err))
	}
	return fmt.Errorf("%w: redis %s: %w", ErrStore, op, err)
}

// Failing reports whether Redis is failing: a round trip failed and none
// has succeeded since.
func (r *Redis) Failing() bool { return r.failing.Load() }

// ok notes a successful round trip, logging once when Redis is back.
func (r *Redis) ok() {
	if r.failing.Load() && r.failing.CompareAndSwap(true, false) {
		r.failures.Store(0)
		r.openUntil.Store(0)
		r.logger.Info("cache: redis reachable again")
	}
}

// RouteRedisLogs sends go-redis's own messages (failed dials, ...) to
// logger at debug level instead of stderr, where an outage would flood
// them. go-redis keeps its logger process-wide, so only main should call
// this, once.
func RouteRedisLogs(logger *slog.Logger) {
	redis.SetLogger(redisLog{logger})
}

type redisLog struct{ logger *slog.Logger }

func (l redisLog) Printf(ctx context.Context, format string, v ...any) {
	l.logger.DebugContext(ctx, fmt.Sprintf(format, v...), slog.String("component", "go-redis"))
}

// redisOptions holds the parsed options of exactly one client kind.
type redisOptions struct {
	simple   *redis.Options
	cluster  *redis.ClusterOptions
	failover *redis.FailoverOptions
}

// parseRedisURL picks the client kind from the URL: Sentinel when
// master_name is given, Cluster for a +cluster scheme or extra addr
// parameters, a single server otherwise.
func parseRedisURL(raw string) (redisOptions, error) {
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the URL, password included
		}
		return redisOptions{}, fmt.Errorf("parse: %w", err)
	}
	q := u.Query()
	var o redisOptions
	switch {
	case strings.HasSuffix(u.Scheme, "+cluster"):
		u.Scheme = strings.TrimSuffix(u.Scheme, "+cluster")
		o.cluster, err = redis.ParseClusterURL(u.String())
	case q.Has("master_name"):
		o.failover, err = redis.ParseFailoverURL(raw)
	case q.Has("addr"):
		o.cluster, err = redis.ParseClusterURL(raw)
	default:
		o.simple, err = redis.ParseURL(raw)
	}
	if err != nil {
		return redisOptions{}, fmt.Errorf("parse: %w", err)
	}
	return o, nil
}

// knobs points at the fields every go-redis options type shares.
type knobs struct {
	dial, read, write, pool *time.Duration
	retries, dialRetries    *int
	ctxTimeout, noIdentity  *bool
	maint                   **maintnotifications.Config // nil where the type has none
}

// apply keeps every operation inside timeout unless the URL said
// otherwise: no retries, one dial attempt, context deadlines honoured.
func (k knobs) apply(timeout time.Duration) {
	for _, d := range []*time.Duration{k.dial, k.read, k.write, k.pool} {
		if *d == 0 {
			*d = timeout
		}
	}
	if *k.retries == 0 {
		*k.retries = -1
	}
	if *k.dialRetries == 0 {
		*k.dialRetries = 1
	}
	*k.ctxTimeout = true
	*k.noIdentity = true // skips CLIENT SETINFO, one round trip less per connection
	if k.maint != nil && *k.maint == nil {
		*k.maint = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	}
}

func (o redisOptions) client(timeout time.Duration) redis.UniversalClient {
	switch {
	case o.cluster != nil:
		c := o.cluster
		knobs{&c.DialTimeout, &c.ReadTimeout, &c.WriteTimeout, &c.PoolTimeout, &c.MaxRetries, &c.DialerRetries,
			&c.ContextTimeoutEnabled, &c.DisableIdentity, &c.MaintNotificationsConfig}.apply(timeout)
		return redis.NewClusterClient(c)
	case o.failover != nil:
		f := o.failover
		knobs{&f.DialTimeout, &f.ReadTimeout, &f.WriteTimeout, &f.PoolTimeout, &f.MaxRetries, &f.DialerRetries,
			&f.ContextTimeoutEnabled, &f.DisableIdentity, nil}.apply(timeout)
		return redis.NewFailoverClient(f)
	default:
		s := o.simple
		knobs{&s.DialTimeout, &s.ReadTimeout, &s.WriteTimeout, &s.PoolTimeout, &s.MaxRetries, &s.DialerRetries,
			&s.ContextTimeoutEnabled, &s.DisableIdentity, &s.MaintNotificationsConfig}.apply(timeout)
		return redis.NewClient(s)
	}
}

var (
	_ Store  = (*Redis)(nil)
	_ Locker = (*Redis)(nil)
)
