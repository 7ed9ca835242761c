package llamacpp

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/aligngate/aligngate/llamacpp/gguf"
)

// CheckModel reads the header of the GGUF model file at path as Open
// would, without loading the model. Errors wrap ErrModel.
func CheckModel(path string) (gguf.Info, error) {
	if path == "" {
		return gguf.Info{}, fmt.Errorf("%w: no model_path configured", ErrModel)
	}
	return inspectModel(path)
}

// CheckLibrary checks that dir holds the llama.cpp library files Open
// loads, of the version this package is built against, without binding
// llama.cpp. It returns the folder's absolute path. Errors wrap ErrLibrary.
func CheckLibrary(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("%w: lib_dir %q: %w", ErrLibrary, dir, err)
	}
	for _, name := range requiredLibs {
		if _, err := os.Stat(filepath.Join(abs, name)); err != nil {
			return abs, fmt.Errorf("%w: %s not found in %s; run scripts/install-llama.sh and set llamacpp.lib_dir or YZMA_LIB", ErrLibrary, name, abs)
		}
	}
	return abs, checkVersion(abs)
}
