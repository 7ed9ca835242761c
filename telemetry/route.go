package telemetry

import "strings"

// knownRoutes are reported as they are; other paths are folded so the route
// label keeps a bounded cardinality.
var knownRoutes = map[string]bool{
	"/v1/chat/completions": true,
	"/v1/completions":      true,
	"/v1/responses":        true,
	"/v1/models":           true,
	"/v1/embeddings":       true,
	"/healthz":             true,
	"/readyz":              true,
	"/metrics":             true,
}

// Route maps a request path to a bounded route label: known routes as they
// are, any other /v1/ path as "/v1/other", anything else as "other". A
// trailing slash is ignored.
func Route(path string) string {
	if knownRoutes[path] {
		return path
	}
	if trimmed := strings.TrimSuffix(path, "/"); knownRoutes[trimmed] {
		return trimmed
	}
	if strings.HasPrefix(path, "/v1/") {
		return "/v1/other"
	}
	return "other"
}
