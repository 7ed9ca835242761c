// Package passthrough measures what a proxy adds to an OpenAI-compatible
// request when it only forwards it: a fast mock upstream (Mock), the floor to
// compare against (NewFloor, the standard library's httputil.ReverseProxy),
// and a load generator (Run) that measures sequential latency and saturated
// throughput for several targets in interleaved rounds, so that noise on a
// shared machine hits every target alike. Report renders the results as
// Markdown.
//
// The commands under cmd/ wrap these pieces as separate processes, and
// run.sh wires them together with aligngate; see bench/RESULTS.md.
package passthrough
