package proxy

import (
	"net/http"
	"net/url"
	"strings"
)

// pathFault says why a request path was refused. The value is the stable
// error code a client sees.
type pathFault string

const (
	// faultEncoded: an encoded dot, slash or backslash (%2e, %2f, %5c, at
	// any depth of %25 encoding). Servers and front proxies disagree on
	// whether to decode them before routing, so they are never forwarded.
	faultEncoded pathFault = "invalid_path_encoding"
	// faultBackslash: a literal backslash, a separator on some servers.
	faultBackslash pathFault = "invalid_path_backslash"
	// faultTraversal: the cleaned path leaves /v1/.
	faultTraversal pathFault = "invalid_path_traversal"
	// faultInvalid: a malformed escape, a control character or a ';'
	// (matrix parameters, which some servers strip before routing).
	faultInvalid pathFault = "invalid_path"
	// faultNotV1: the path is not under /v1/ at all.
	faultNotV1 pathFault = "unknown_url"
)

// pathError is a refused request path.
type pathError struct {
	fault pathFault
	path  string // as the client spelled it, for the log
}

func (e *pathError) Error() string { return "proxy: refused path " + e.path + ": " + string(e.fault) }

// status is the HTTP status the refusal is answered with.
func (e *pathError) status() int {
	if e.fault == faultNotV1 {
		return http.StatusNotFound
	}
	return http.StatusBadRequest
}

// canonicalRoutes are the routes aligngate handles itself. Any spelling of
// one (case, doubled slashes, dot segments, a trailing slash) is mapped to
// it, so a policy that says "correct" cannot be skipped by spelling the
// path the way a slash-merging upstream still serves.
var canonicalRoutes = [...]string{"/v1/chat/completions", "/v1/completions", "/v1/responses", "/v1/models"}

// cleanV1Path returns the decoded, cleaned form of a request path under
// /v1/, given its escaped form (url.URL.EscapedPath): empty and "."
// segments dropped, ".." resolved, no trailing slash, a canonical route
// spelled canonically. A path that leaves /v1/, or that carries what
// servers decode differently, is refused instead.
func cleanV1Path(escaped string) (string, error) {
	if f := rawFault(escaped); f != "" {
		return "", &pathError{fault: f, path: escaped}
	}
	decoded, err := url.PathUnescape(escaped)
	if err != nil {
		return "", &pathError{fault: faultInvalid, path: escaped}
	}
	if f := layersFault(decoded); f != "" {
		return "", &pathError{fault: f, path: escaped}
	}
	segs, f := resolve(decoded)
	if f != "" {
		return "", &pathError{fault: f, path: escaped}
	}
	clean := "/" + strings.Join(segs, "/")
	for _, c := range canonicalRoutes {
		if strings.EqualFold(clean, c) {
			return c, nil
		}
	}
	return clean, nil
}

// rawFault checks the escaped path for encoded separators and dots,
// looking through any number of %25 layers (%252e is %2e once decoded).
func rawFault(escaped string) pathFault {
	if strings.IndexByte(escaped, '\\') >= 0 {
		return faultBackslash
	}
	for i := 0; i < len(escaped); i++ {
		if escaped[i] != '%' {
			continue
		}
		j := i + 1
		for j+1 < len(escaped) && escaped[j] == '2' && escaped[j+1] == '5' {
			j += 2
		}
		if j+1 >= len(escaped) {
			continue
		}
		switch strings.ToLower(escaped[j : j+2]) {
		case "2e", "2f", "5c":
			return faultEncoded
		}
	}
	return ""
}

// maxLayers bounds how many further decodings layersFault looks through;
// no client has a reason to encode a path that deep.
const maxLayers = 8

// layersFault checks a decoded path, and what further decodings of it
// would give, for what rawFault and decodedFault refuse: mixed spellings
// such as %25%32e decode to %2e only at the second layer.
func layersFault(decoded string) pathFault {
	level := decoded
	for range maxLayers {
		if f := decodedFault(level); f != "" {
			return f
		}
		if f := rawFault(level); f != "" {
			return f
		}
		next, err := url.PathUnescape(level)
		if err != nil || next == level {
			return ""
		}
		level = next
	}
	return faultEncoded
}

// decodedFault refuses control characters and matrix parameters in the
// decoded path.
func decodedFault(decoded string) pathFault {
	for i := 0; i < len(decoded); i++ {
		if c := decoded[i]; c < 0x20 || c == 0x7f || c == ';' {
			return faultInvalid
		}
	}
	return ""
}

// resolve splits a decoded path into segments, resolving dot segments. The
// first segment must be "v1", no ".." may climb out of it, and something
// must remain below it.
func resolve(decoded string) ([]string, pathFault) {
	segs := make([]string, 0, 8)
	for _, s := range strings.Split(decoded, "/") {
		switch s {
		case "", ".":
		case "..":
			if len(segs) <= 1 {
				return nil, faultTraversal
			}
			segs = segs[:len(segs)-1]
		default:
			if len(segs) == 0 && s != "v1" {
				return nil, faultNotV1
			}
			segs = append(segs, s)
		}
	}
	if len(segs) == 0 {
		return nil, faultNotV1
	}
	if len(segs) == 1 {
		// "/v1/.." style paths resolve to /v1 itself, which nothing serves.
		if strings.Contains(decoded, "..") {
			return nil, faultTraversal
		}
		return nil, faultNotV1
	}
	return segs, ""
}

// cleanRequestPath cleans r's path. On success r.URL.Path is the clean
// path and r.URL.RawPath is cleared, so routing and the upstream URL (base
// path plus the suffix after /v1) both see only the clean form.
func cleanRequestPath(r *http.Request) error {
	clean, err := cleanV1Path(r.URL.EscapedPath())
	if err != nil {
		return err
	}
	r.URL.Path = clean
	r.URL.RawPath = ""
	return nil
}
