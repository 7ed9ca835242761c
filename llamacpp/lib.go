package llamacpp

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"unsafe"

	"github.com/hybridgroup/yzma/pkg/llama"
	"github.com/hybridgroup/yzma/pkg/loader"
	"github.com/jupiterrider/ffi"
)

// LibraryVersion is the llama.cpp release yzma v1.28.0 is built against.
// Struct layouts differ between releases, so other versions are refused
// rather than risking memory corruption.
const LibraryVersion = "v0.5.0"

// GGMLVersion is what ggml_version() reports in the LibraryVersion build
// (@node-llama-cpp/linux-x64@3.22.1, ggml commit 0ad4a86).
const GGMLVersion = "0.25.1"

// requiredLibs are the files yzma opens by name.
var requiredLibs = []string{"libllama.so", "libggml.so", "libggml-base.so"}

// native records the process-wide library load. llama.cpp and yzma keep
// global state (function tables, backends), so the libraries can be loaded
// only once per process; this is the one piece of package-level state.
var native struct {
	sync.Mutex
	dir string // absolute folder loaded from; empty until loaded
}

// loadLibrary loads and initialises llama.cpp from dir once per process.
func loadLibrary(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("%w: lib_dir %q: %w", ErrLibrary, dir, err)
	}
	native.Lock()
	defer native.Unlock()
	if native.dir == abs {
		return nil
	}
	for _, name := range requiredLibs {
		if _, err := os.Stat(filepath.Join(abs, name)); err != nil {
			return fmt.Errorf("%w: %s not found in %s; run scripts/install-llama.sh and set llamacpp.lib_dir or YZMA_LIB", ErrLibrary, name, abs)
		}
	}
	if err := checkVersion(abs); err != nil {
		return err
	}
	if native.dir != "" {
		return fmt.Errorf("%w: already loaded from %s, cannot load %s too", ErrLibrary, native.dir, abs)
	}
	if err := llama.Load(abs); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrLibrary, abs, err)
	}
	llama.LogSet(llama.LogSilent())
	llama.Init()
	native.dir = abs
	return nil
}

// checkVersion calls ggml_version() before yzma binds any struct-passing
// function.
func checkVersion(dir string) error {
	lib, err := loader.LoadLibrary(dir, "ggml-base")
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrLibrary, dir, err)
	}
	fn, err := lib.Prep("ggml_version", &ffi.TypePointer)
	if err != nil {
		return fmt.Errorf("%w: %s predates llama.cpp %s (no ggml_version); run scripts/install-llama.sh", ErrLibrary, dir, LibraryVersion)
	}
	var ret *byte
	fn.Call(unsafe.Pointer(&ret))
	got := cString(ret)
	if got != GGMLVersion {
		return fmt.Errorf("%w: %s holds ggml %q, want %s (llama.cpp %s); run scripts/install-llama.sh", ErrLibrary, dir, got, GGMLVersion, LibraryVersion)
	}
	return nil
}

// cString copies a NUL-terminated C string.
func cString(p *byte) string {
	if p == nil {
		return ""
	}
	var b []byte
	for ptr := unsafe.Pointer(p); *(*byte)(ptr) != 0; ptr = unsafe.Add(ptr, 1) {
		b = append(b, *(*byte)(ptr))
	}
	return string(b)
}
