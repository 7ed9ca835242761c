package gguf

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrNotGGUF reports a file that does not start like a GGUF file.
var ErrNotGGUF = errors.New("not a GGUF file")

// ErrTruncated reports a GGUF file shorter than its tensor table requires.
var ErrTruncated = errors.New("truncated GGUF file")

// Limits that keep a corrupt header from making the reader allocate wildly.
const (
	maxCount  = 1 << 24
	maxString = 1 << 26
)

// Info summarises a GGUF file without reading its tensor data.
type Info struct {
	Version     uint32
	KVCount     uint64
	TensorCount uint64
	Arch        string // general.architecture, when present
	HeaderBytes int64  // bytes of header, metadata and tensor infos
	DataBytes   uint64 // bytes the tensor data needs, 0 when a tensor type is unknown
	FileSize    int64
	// ID is a stable identity of the file: sha256 over the header, metadata
	// and tensor infos plus the file size, hex encoded. Cheap: the tensor
	// data is not read.
	ID string
}

// Inspect reads the header of the GGUF file at path, checks it is complete
// and returns its summary. Errors wrap [ErrNotGGUF] or [ErrTruncated] when
// the file is malformed.
func Inspect(path string) (Info, error) {
	f, err := os.Open(path)
	if err != nil {
		return Info{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Info{}, err
	}
	h := sha256.New()
	cr := &countReader{r: io.TeeReader(bufio.NewReaderSize(f, 1<<16), h)}
	info, err := readInfo(cr, st.Size())
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return Info{}, fmt.Errorf("%w: header ends early", ErrTruncated)
		}
		return Info{}, err
	}
	info.HeaderBytes = cr.n
	info.FileSize = st.Size()
	if info.DataBytes > 0 {
		need := alignUp(uint64(cr.n), DefaultAlignment) + info.DataBytes
		if uint64(st.Size()) < need {
			return Info{}, fmt.Errorf("%w: needs %d bytes, has %d", ErrTruncated, need, st.Size())
		}
	}
	fmt.Fprintf(h, "size=%d", st.Size())
	info.ID = hex.EncodeToString(h.Sum(nil))
	return info, nil
}

// readInfo parses the header, skipping metadata values and noting where the
// tensor data must end.
func readInfo(cr *countReader, size int64) (Info, error) {
	var magic [4]byte
	if _, err := io.ReadFull(cr, magic[:]); err != nil {
		return Info{}, fmt.Errorf("%w: shorter than its magic number", ErrNotGGUF)
	}
	if string(magic[:]) != Magic {
		return Info{}, fmt.Errorf("%w: bad magic %q", ErrNotGGUF, magic[:])
	}
	r := &reader{r: cr, cr: cr, size: size}
	info := Info{Version: r.u32(), TensorCount: r.u64(), KVCount: r.u64()}
	if r.err == nil && (info.Version < 2 || info.Version > 3) {
		return Info{}, fmt.Errorf("%w: unsupported version %d", ErrNotGGUF, info.Version)
	}
	if r.err == nil && (info.TensorCount > maxCount || info.KVCount > maxCount) {
		return Info{}, fmt.Errorf("%w: implausible counts", ErrNotGGUF)
	}
	for i := uint64(0); i < info.KVCount && r.err == nil; i++ {
		key := r.str()
		if s, ok := r.value(valueType(r.u32())); key == "general.architecture" && ok {
			info.Arch = s
		}
	}
	var end uint64
	known := true
	for i := uint64(0); i < info.TensorCount && r.err == nil; i++ {
		size, ok := r.tensorInfo()
		known = known && ok
		end = max(end, size)
	}
	if r.err != nil {
		return Info{}, r.err
	}
	if known {
		info.DataBytes = end
	}
	return info, nil
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// reader decodes little-endian GGUF fields, remembering the first error.
type reader struct {
	r    io.Reader
	cr   *countReader // position, to refuse lengths beyond the file
	size int64
	err  error
	buf  [8]byte
}

func (r *reader) read(n int) []byte {
	if r.err != nil {
		return r.buf[:n]
	}
	_, r.err = io.ReadFull(r.r, r.buf[:n])
	return r.buf[:n]
}

func (r *reader) u32() uint32 { return binary.LittleEndian.Uint32(r.read(4)) }
func (r *reader) u64() uint64 { return binary.LittleEndian.Uint64(r.read(8)) }

func (r *reader) str() string {
	n := r.u64()
	if r.err != nil {
		return ""
	}
	if n > maxString || int64(n) > r.size-r.cr.n {
		r.err = fmt.Errorf("%w: string of %d bytes", ErrTruncated, n)
		return ""
	}
	b := make([]byte, n)
	_, r.err = io.ReadFull(r.r, b)
	return string(b)
}

// scalarSizes are the byte sizes of the fixed-size metadata value types.
var scalarSizes = map[valueType]int{0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}

// value skips one metadata value, returning it when it is a string.
func (r *reader) value(t valueType) (string, bool) {
	switch {
	case r.err != nil:
		return "", false
	case t == typeString:
		return r.str(), true
	case t == typeArray:
		et, n := valueType(r.u32()), r.u64()
		if n > maxString || int64(n) > r.size-r.cr.n {
			r.err = fmt.Errorf("%w: array of %d values", ErrTruncated, n)
		}
		for i := uint64(0); i < n && r.err == nil; i++ {
			r.value(et)
		}
	default:
		size, ok := scalarSizes[t]
		if !ok {
			r.err = fmt.Errorf("%w: unknown value type %d", ErrNotGGUF, t)
			return "", false
		}
		r.read(size)
	}
	return "", false
}

// ggmlSizes maps a ggml type to (elements per block, bytes per block).
var ggmlSizes = map[uint32][2]uint64{
	0: {1, 4}, 1: {1, 2}, 2: {32, 18}, 3: {32, 20}, 6: {32, 22}, 7: {32, 24}, 8: {32, 34}, 9: {32, 36},
	10: {256, 84}, 11: {256, 110}, 12: {256, 144}, 13: {256, 176}, 14: {256, 210}, 15: {256, 292},
	16: {256, 66}, 17: {256, 74}, 18: {256, 98}, 19: {256, 50}, 20: {32, 18}, 21: {256, 110},
	22: {256, 82}, 23: {256, 136}, 24: {1, 1}, 25: {1, 2}, 26: {1, 4}, 27: {1, 8}, 28: {1, 8},
	29: {256, 56}, 30: {1, 2}, 34: {256, 54}, 35: {256, 66}, 39: {32, 17},
}

// tensorInfo reads one tensor info and returns the end offset of its data,
// ok false when its type is unknown here.
func (r *reader) tensorInfo() (uint64, bool) {
	r.str()
	nd := r.u32()
	if nd > 8 {
		r.err = fmt.Errorf("%w: tensor with %d dimensions", ErrNotGGUF, nd)
		return 0, false
	}
	elems := uint64(1)
	for range nd {
		elems *= r.u64()
	}
	typ, off := r.u32(), r.u64()
	bs, ok := ggmlSizes[typ]
	if !ok || r.err != nil {
		return 0, false
	}
	return off + elems/bs[0]*bs[1], true
}
