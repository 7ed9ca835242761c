// Command mock serves passthrough.Mock, a fast OpenAI-shaped upstream for
// the passthrough benchmark.
//
//	mock -listen 127.0.0.1:9001 -chunks 20
package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/aligngate/aligngate/bench/passthrough"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:9001", "address to serve on")
	chunks := flag.Int("chunks", 20, "content deltas per streamed answer")
	delay := flag.Duration("chunk-delay", 0, "sleep between streamed chunks")
	flag.Parse()
	srv := &http.Server{
		Addr:              *listen,
		Handler:           passthrough.NewMock(passthrough.MockOptions{Chunks: *chunks, ChunkDelay: *delay}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, "mock:", err)
		os.Exit(1)
	}
}
