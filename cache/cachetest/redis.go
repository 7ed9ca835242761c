// Package cachetest gives tests real Redis servers: the shared one named by
// ALIGNGATE_REDIS_ADDR, or a private redis-server process per test.
//
// When neither is available a test fails under CI (CI=true) and is
// skipped otherwise.
package cachetest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aligngate/aligngate/internal/testenv"
)

// EnvAddr names the variable holding the host:port of a shared server.
const EnvAddr = "ALIGNGATE_REDIS_ADDR"

// startWait bounds how long a server may take to answer PING.
const startWait = 10 * time.Second

// Redis returns the address of a Redis server for t: the shared one from
// ALIGNGATE_REDIS_ADDR if set, else a private one stopped at cleanup.
// Tests on the shared server must use keys (prefixes) of their own.
func Redis(t testing.TB) string {
	t.Helper()
	if addr := os.Getenv(EnvAddr); addr != "" {
		return addr
	}
	return StartRedis(t).Addr()
}

// RedisURL is Redis as a redis:// URL.
func RedisURL(t testing.TB) string {
	t.Helper()
	return "redis://" + Redis(t)
}

// Server is a redis-server process owned by one test, for fault tests.
type Server struct {
	t      testing.TB // nil for Start's servers
	bin    string
	port   int
	dir    string
	conf   string   // config file given first, or empty
	extra  []string // arguments after the common ones
	query  string   // URL suffix: mode-specific parameters
	scheme string   // URL sscheme

	mu     sync.Mutex
	proc   *os.Process
	exited chan error // receives the process's exit once
}

// ErrNoRedisServer means redis-server is not on PATH.
var ErrNoRedisServer = errors.New("cachetest: redis-server not on PATH")

// StartRedis starts a private redis-server on a free loopback port,
// without persistence, and stops it at t's cleanup.
func StartRedis(t testing.TB) *Server {
	t.Helper()
	return own(t, Start)
}

// own runs start in a temporary folder, skipping or failing t when
// redis-server is missing, and stops the server at cleanup.
func own(t testing.TB, start func(dir string) (*Server, error)) *Server {
	t.Helper()
	s, err := start(t.TempDir())
	if errors.Is(err, ErrNoRedisServer) {
		unavailable(t, "redis-server not on PATH and %s unset", EnvAddr)
	}
	if err != nil {
		t.Fatal(err)
	}
	s.t = t
	t.Cleanup(s.Stop)
	return s
}

// Start is StartRedis for programs (benchmarks): the caller stops the
// server. dir holds the server's working files.
func Start(dir string) (*Server, error) {
	return launch(&Server{dir: dir, scheme: "redis"})
}

// launch starts s on a free port.
func launch(s *Server) (*Server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, ErrNoRedisServer
	}
	s.bin = bin
	for range 5 { // the free port may be taken between pick and bind
		if s.port, err = freePort(); err != nil {
			continue
		}
		if err = s.start(); err == nil {
			return s, nil
		}
	}
	return nil, fmt.Errorf("cachetest: start redis-server: %w", err)
}

// Addr returns host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// URL returns the redis:// URL of the server.
// For a cluster node it is redis+cluster://, for a sentinel it names the
// master (see cache.Config.RedisURL).
func (s *Server) URL() string { return s.scheme + "://" + s.Addr() + s.query }

// Stop kills the server (data is lost). Stopping twice is harmless.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return
	}
	_ = s.proc.Kill()
	<-s.exited
	s.proc = nil
}

// Restart stops the server and starts an empty one on the same port. It
// fails the test that started the server (panics for Start's) if the
// port cannot be bound again.
func (s *Server) Restart() {
	if s.t != nil {
		s.t.Helper()
	}
	s.Stop()
	deadline := time.Now().Add(startWait)
	for {
		err := s.start()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			if s.t == nil {
				panic(fmt.Sprintf("cachetest: restart redis-server on %s: %v", s.Addr(), err))
			}
			s.t.Fatalf("cachetest: restart redis-server on %s: %v", s.Addr(), err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := &bytes.Buffer{}
	var args []string
	if s.conf != "" {
		args = append(args, s.conf)
	}
	args = append(args, "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir,
		"--daemonize", "no", "--protected-mode", "no", "--loglevel", "warning")
	cmd := exec.Command(s.bin, append(args, s.extra...)...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("exec: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(startWait)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("exited (%v): %s", err, out.String())
		default:
		}
		if ping(s.Addr()) == nil {
			s.proc, s.exited = cmd.Process, exited
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	<-exited
	return fmt.Errorf("no PING answer within %s: %s", startWait, out.String())
}

func ping(addr string) error {
	reply, err := command(addr, "PING")
	if err != nil {
		return err
	}
	if reply != "+PONG" {
		return fmt.Errorf("PING answered %q", reply)
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// unavailable fails t under CI and skips it elsewhere.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	testenv.Missing(t, "cachetest: "+format+"; install redis-server or set "+EnvAddr, args...)
}
