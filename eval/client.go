package eval

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	openai "github.com/sashabaranov/go-openai"
)

// Sentinel errors.
var (
	// ErrUsage reports bad options.
	ErrUsage = errors.New("eval: usage")
	// ErrFatal wraps errors no retry can fix (bad key, unknown model): the
	// run stops.
	ErrFatal = errors.New("eval: fatal")
)

// Retry bounds retries of calls that failed with 429, 5xx or a network
// error. Delays double from Base up to Max, with jitter.
type Retry struct {
	Attempts int           // total tries per call; default 4
	Base     time.Duration // first delay; default 1s
	Max      time.Duration // delay cap; default 20s
}

func (r Retry) withDefaults() Retry {
	if r.Attempts <= 0 {
		r.Attempts = 4
	}
	if r.Base <= 0 {
		r.Base = time.Second
	}
	if r.Max <= 0 {
		r.Max = 20 * time.Second
	}
	return r
}

// delay returns the wait before try n+1 (n >= 1).
func (r Retry) delay(n int) time.Duration {
	d := r.Base << (n - 1)
	if d > r.Max || d <= 0 {
		d = r.Max
	}
	return d/2 + rand.N(d/2+1) // jitter so parallel workers spread out
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// statusOf returns the HTTP status of a go-openai error, 0 if none.
func statusOf(err error) int {
	var apiErr *openai.APIError
	if errors.As(err, &apiErr) {
		return apiErr.HTTPStatusCode
	}
	var reqErr *openai.RequestError
	if errors.As(err, &reqErr) {
		return reqErr.HTTPStatusCode
	}
	return 0
}

// classify reports whether err is worth retrying, and whether it is fatal
// for the whole run.
func classify(err error) (retry, fatal bool) {
	if errors.Is(err, context.Canceled) {
		return false, false
	}
	switch st := statusOf(err); {
	case st == http.StatusTooManyRequests, st == http.StatusRequestTimeout, st >= 500:
		return true, false
	case st == http.StatusUnauthorized, st == http.StatusForbidden, st == http.StatusNotFound:
		return false, true
	case st != 0:
		return false, false
	}
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, context.DeadlineExceeded) {
		return true, false
	}
	// Unknown transport failures (connection reset, EOF) are retried too.
	return true, false
}

// headerDoer adds fixed headers to every request and never follows a
// redirect, so a key is never sent to another host.
type headerDoer struct {
	client *http.Client
	header http.Header
}

func (d headerDoer) Do(req *http.Request) (*http.Response, error) {
	for k, v := range d.header {
		req.Header[k] = v
	}
	return d.client.Do(req)
}

// ClientOptions configures an OpenAI-compatible client.
type ClientOptions struct {
	BaseURL string        // e.g. http://localhost:8080/v1; "/v1" is added to a bare host
	APIKey  string        // bearer key, may be empty
	Timeout time.Duration // per request; default 120s
	Header  http.Header   // extra headers on every request
}

// NewClient returns a go-openai client for an OpenAI-compatible server.
func NewClient(o ClientOptions) (*openai.Client, error) {
	u, err := url.Parse(o.BaseURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("%w: base URL %q must be absolute", ErrUsage, o.BaseURL)
	}
	if strings.Trim(u.Path, "/") == "" {
		u.Path = "/v1"
	}
	if o.Timeout <= 0 {
		o.Timeout = 120 * time.Second
	}
	cfg := openai.DefaultConfig(o.APIKey)
	cfg.BaseURL = strings.TrimRight(u.String(), "/")
	cfg.HTTPClient = headerDoer{
		client: &http.Client{
			Timeout:       o.Timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		header: o.Header,
	}
	return openai.NewClientWithConfig(cfg), nil
}

// chat sends one chat completion with bounded retries and returns the
// first choice's text.
func chat(ctx context.Context, c *openai.Client, r Retry, req openai.ChatCompletionRequest) (string, error) {
	var err error
	for n := 1; ; n++ {
		var resp openai.ChatCompletionResponse
		resp, err = c.CreateChatCompletion(ctx, req)
		if err == nil {
			if len(resp.Choices) == 0 {
				return "", nil
			}
			return resp.Choices[0].Message.Content, nil
		}
		retry, fatal := classify(err)
		if fatal {
			return "", fmt.Errorf("%w: %w", ErrFatal, err)
		}
		if !retry || n >= r.Attempts || ctx.Err() != nil {
			return "", err
		}
		if serr := sleep(ctx, r.delay(n)); serr != nil {
			return "", err
		}
	}
}
