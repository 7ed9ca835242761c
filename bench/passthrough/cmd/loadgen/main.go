// Command loadgen measures what proxies add to OpenAI-compatible requests:
// sequential latency and saturated throughput, non-stream and stream, for
// several targets in interleaved rounds. It prints a Markdown table.
//
//	loadgen -target direct=http://127.0.0.1:9001/v1 \
//	        -target floor=http://127.0.0.1:9002/v1 \
//	        -target aligngate=http://127.0.0.1:9003/v1
//
// The first target is the baseline. With -free-ports N it prints N free
// loopback ports and exits (used by run.sh).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/aligngate/aligngate/bench/passthrough"
)

// targetsFlag collects repeated -target name=baseURL flags.
type targetsFlag []passthrough.Target

func (f *targetsFlag) String() string { return fmt.Sprint(*f) }

func (f *targetsFlag) Set(v string) error {
	name, base, ok := strings.Cut(v, "=")
	if !ok || name == "" || base == "" {
		return errors.New("want name=baseURL, e.g. direct=http://127.0.0.1:9001/v1")
	}
	*f = append(*f, passthrough.Target{Name: name, URL: strings.TrimSuffix(base, "/") + "/chat/completions"})
	return nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run() error {
	var targets targetsFlag
	var cfg passthrough.Config
	flag.Var(&targets, "target", "name=baseURL of a target (repeat; the first is the baseline)")
	flag.IntVar(&cfg.Requests, "n", 2000, "sequential requests per target and mode")
	flag.IntVar(&cfg.Warmup, "warmup", 200, "warm-up requests per target and mode")
	flag.IntVar(&cfg.Concurrency, "c", 64, "connections kept busy when saturating")
	flag.DurationVar(&cfg.Duration, "d", 2*time.Second, "length of one saturated slice")
	flag.IntVar(&cfg.Rounds, "rounds", 3, "saturated slices per target and mode")
	flag.IntVar(&cfg.BodyBytes, "body-bytes", 0, "pad request bodies to this size")
	modes := flag.String("modes", "json,stream", "comma-separated modes: json, stream")
	wait := flag.Duration("wait", 15*time.Second, "how long to wait for targets to come up")
	freePorts := flag.Int("free-ports", 0, "print this many free loopback ports and exit")
	flag.Parse()
	if *freePorts > 0 {
		return printFreePorts(*freePorts)
	}
	if len(targets) == 0 {
		return errors.New("no -target given")
	}
	for _, m := range strings.Split(*modes, ",") {
		cfg.Modes = append(cfg.Modes, passthrough.Mode(strings.TrimSpace(m)))
	}
	cfg.Targets = targets

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	wctx, cancel := context.WithTimeout(ctx, *wait)
	defer cancel()
	if err := passthrough.WaitReady(wctx, targets); err != nil {
		return err
	}
	res, err := passthrough.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if err := passthrough.Report(os.Stdout, res); err != nil {
		return err
	}
	return firstFailure(res)
}

func firstFailure(res *passthrough.Result) error {
	for _, m := range res.Modes {
		for _, t := range m.Targets {
			if t.Errors > 0 {
				return fmt.Errorf("%s %s: %d failed requests, first: %s", m.Mode, t.Name, t.Errors, t.FirstError)
			}
		}
	}
	return nil
}

// printFreePorts holds all n listeners open until every port is chosen so
// that no port is printed twice.
func printFreePorts(n int) error {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("finding a free port: %w", err)
		}
		ls = append(ls, l)
		fmt.Println(l.Addr().(*net.TCPAddr).Port)
	}
	return nil
}
