package cachetest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// MasterName is the master a sentinel from StartSentinel monitors.
const MasterName = "mymaster"

// StartCluster starts a one-node Redis Cluster that owns every hash slot,
// enough to exercise cluster clients. Its URL is redis+cluster://.
func StartCluster(t testing.TB) *Server {
	t.Helper()
	return own(t, func(dir string) (*Server, error) {
		s, err := launch(&Server{dir: dir, scheme: "redis+cluster", extra: []string{"--cluster-enabled", "yes"}})
		if err != nil {
			return nil, err
		}
		if err := s.claimAllSlots(); err != nil {
			s.Stop()
			return nil, err
		}
		return s, nil
	})
}

// StartSentinel starts a sentinel monitoring master under MasterName. Its
// URL names the master, so clients reach master through the sentinel.
func StartSentinel(t testing.TB, master *Server) *Server {
	t.Helper()
	return own(t, func(dir string) (*Server, error) {
		conf := filepath.Join(dir, "sentinel.conf")
		line := fmt.Sprintf("sentinel monitor %s 127.0.0.1 %d 1\n", MasterName, master.port)
		if err := os.WriteFile(conf, []byte(line), 0o644); err != nil {
			return nil, fmt.Errorf("cachetest: sentinel config: %w", err)
		}
		return launch(&Server{dir: dir, scheme: "redis", conf: conf, extra: []string{"--sentinel"},
			query: "?master_name=" + MasterName})
	})
}

func (s *Server) claimAllSlots() error {
	if reply, err := command(s.Addr(), "CLUSTER ADDSLOTSRANGE 0 16383"); err != nil || reply != "+OK" {
		return fmt.Errorf("cachetest: claim cluster slots: %q, %v", reply, err)
	}
	deadline := time.Now().Add(startWait)
	for time.Now().Before(deadline) {
		if info, err := command(s.Addr(), "CLUSTER INFO"); err == nil && strings.Contains(info, "cluster_state:ok") {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("cachetest: cluster on %s not ok within %s", s.Addr(), startWait)
}

// command sends one inline command and returns the reply: a status or
// error line as is, a bulk string's content.
func command(addr, line string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte(line + "\r\n")); err != nil {
		return "", err
	}
	r := bufio.NewReader(c)
	head, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	head = strings.TrimRight(head, "\r\n")
	if !strings.HasPrefix(head, "$") {
		return head, nil
	}
	n, err := strconv.Atoi(head[1:])
	if err != nil || n < 0 {
		return "", fmt.Errorf("bad bulk header %q", head)
	}
	buf := make([]byte, n+2)
	if _, err := io.ReadFull(r, buf); err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}
