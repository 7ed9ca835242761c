// Package dashboard is aligngate's admin web page: recent corrections with
// a word diff of original and corrected answers, experiment arms, health
// charts and the latest eval result. It is an http.Handler that the proxy
// mounts under /ui, guarded by an admin key and off when none is set.
//
// It reads through small interfaces it declares: records arrive through
// Record (it is a policies.Recorder that keeps a bounded ring and forwards
// to the next recorder), metrics through a Gatherer (the same registry
// /metrics serves), health checks through plain functions. Content is
// shown only when capture is on, both for the process and for the record.
// Nothing is written to disk.
package dashboard
