// Command floor serves passthrough.NewFloor, the standard library's
// httputil.ReverseProxy, as the baseline proxy of the passthrough benchmark.
//
//	floor -listen 127.0.0.1:9002 -upstream http://127.0.0.1:9001
package main

import (
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/aligngate/aligngate/bench/passthrough"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:9002", "address to serve on")
	upstream := flag.String("upstream", "http://127.0.0.1:9001", "origin to forward to (scheme://host:port; the request path is kept)")
	flag.Parse()
	origin, err := url.Parse(*upstream)
	if err != nil || origin.Host == "" {
		fmt.Fprintf(os.Stderr, "floor: bad -upstream %q: %v\n", *upstream, err)
		os.Exit(2)
	}
	srv := &http.Server{Addr: *listen, Handler: passthrough.NewFloor(origin), ReadHeaderTimeout: 10 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}
