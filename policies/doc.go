// Package policies decides, per request, whether and how aligngate corrects
// an upstream answer, assigns requests to A/B experiment arms, reloads its
// configuration without a restart, and records experiment outcomes.
//
// The decision is a pure function of the configuration and the request
// facts ([Decide]); it does no I/O and takes microseconds. An [Engine] holds
// the current configuration behind an atomic pointer so that a reload never
// disturbs a request that already took its [Decision].
//
// Precedence, lowest to highest: built-in defaults (mode off, fail open,
// cache on), the `default` action, the first matching rule, the arm of the
// first experiment that enrols the request, and finally the client's
// X-Aligngate-Mode header when the resolved action allows it.
//
// It owns decisions, assignment and records and knows nothing of HTTP: it
// must not import proxy, correct, cache, llamacpp, config or gin (proxy
// declares the Decider and Recorder interfaces it uses).
package policies
