// Package llamacpp runs a GGUF language model in-process through llama.cpp,
// loaded at run time with github.com/hybridgroup/yzma (purego and libffi, no
// cgo). It is the only package that touches the native library.
//
// An [Engine] loads one model (memory-mapped) and one llama.cpp context with
// Config.Parallel sequences. A single scheduler goroutine owns the context
// and does continuous batching: every active [Engine.Generate] call gets a
// sequence, and one llama_decode call advances all of them, mixing prompt
// chunks of newly admitted requests with the next token of running ones.
// Requests beyond Parallel wait in a bounded queue; when it is full Generate
// fails at once with [ErrQueueFull].
//
// Each sequence keeps its KV cache after its request ends. A new request is
// given the free sequence whose cached tokens share the longest prefix with
// its prompt, and only the rest of the prompt is evaluated: the Aligner
// template and the growing answer that Stream Aligner corrects sentence by
// sentence are not re-evaluated. [Result] reports reused and evaluated
// prompt tokens.
//
// # Libraries
//
// The llama.cpp v0.5.0 shared libraries come from the npm package
// @node-llama-cpp/linux-x64@3.22.1; scripts/install-llama.sh installs them in
// .llama/lib. Config.LibDir points at that folder (cmd passes YZMA_LIB when
// set). A missing library or one of another version makes [Open] fail with
// [ErrLibrary]. The libraries are process-wide: every Engine in a process
// uses the folder the first one loaded.
//
// # GPU
//
// Config.GPULayers is passed to llama.cpp as n_gpu_layers. The CPU package
// ignores it; for CUDA install the CUDA build, which ships libggml-cuda.so
// and needs the CUDA 13 runtime on the host:
//
//	LLAMA_NPM_PACKAGE=@node-llama-cpp/linux-x64-cuda@3.22.1 scripts/install-llama.sh .llama/cuda
//
// and run with lib_dir: .llama/cuda and gpu_layers: 99 (all layers). See
// README.md in this folder.
//
// It owns the native engine and nothing above it: it must not import proxy,
// correct, cache, policies, config, gin or net/http; correct reaches it
// only through the adapter in package llamacorrect.
package llamacpp
