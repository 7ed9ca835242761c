package policies

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
)

// fileSink appends JSONL to a file, rotating by size: path → path.1 →
// path.2 ... up to maxBackups, the oldest falling off. The file is opened
// lazily, so a recorder with no experiment creates nothing.
type fileSink struct {
	path       string
	maxBytes   int64
	maxBackups int
	f          *os.File
	w          *bufio.Writer
	size       int64
}

func newFileSink(path string, maxBytes int64, maxBackups int) *fileSink {
	return &fileSink{path: path, maxBytes: maxBytes, maxBackups: maxBackups}
}

func (s *fileSink) open() error {
	f, err := os.OpenFile(s.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("records: open %s: %w", s.path, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("records: stat %s: %w", s.path, err)
	}
	s.f, s.w, s.size = f, bufio.NewWriterSize(f, 64<<10), st.Size()
	return nil
}

func (s *fileSink) write(_ Record, line []byte) error {
	if s.f == nil {
		if err := s.open(); err != nil {
			return err
		}
	}
	if s.size > 0 && s.size+int64(len(line)) > s.maxBytes {
		if err := s.rotate(); err != nil {
			return err
		}
	}
	n, err := s.w.Write(line)
	s.size += int64(n)
	if err != nil {
		s.reset()
		return fmt.Errorf("records: write %s: %w", s.path, err)
	}
	return nil
}

// reset drops the file after an error (bufio errors are sticky) so the
// next write reopens it, e.g. once a full disk has room again.
func (s *fileSink) reset() {
	if s.f != nil {
		s.f.Close()
	}
	s.f, s.w = nil, nil
}

// rotate closes the file, shifts the backups and opens a fresh file.
func (s *fileSink) rotate() error {
	if err := s.close(); err != nil {
		return err
	}
	if s.maxBackups <= 0 {
		if err := os.Remove(s.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("records: rotate: %w", err)
		}
		return s.open()
	}
	for i := s.maxBackups - 1; i >= 1; i-- {
		err := os.Rename(s.backup(i), s.backup(i+1))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("records: rotate: %w", err)
		}
	}
	if err := os.Rename(s.path, s.backup(1)); err != nil {
		return fmt.Errorf("records: rotate: %w", err)
	}
	return s.open()
}

func (s *fileSink) backup(i int) string { return s.path + "." + strconv.Itoa(i) }

func (s *fileSink) flush() error {
	if s.w == nil {
		return nil
	}
	if err := s.w.Flush(); err != nil {
		s.reset()
		return fmt.Errorf("records: flush %s: %w", s.path, err)
	}
	return nil
}

func (s *fileSink) close() error {
	if s.f == nil {
		return nil
	}
	err := s.flush()
	if cerr := s.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("records: close %s: %w", s.path, cerr)
	}
	s.f, s.w = nil, nil
	return err
}

var _ sink = (*fileSink)(nil)
