package wire

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// Error types used in OpenAI error bodies.
const (
	TypeInvalidRequest = "invalid_request_error"
	TypeServer         = "server_error"
	TypeUpstream       = "upstream_error"
	TypeRateLimit      = "rate_limit_error"
)

// Error is the "error" object of an OpenAI error response. It is also a Go
// error carrying the HTTP status it should be answered with.
type Error struct {
	Status  int     `json:"-"`
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
	// RetryAfter, in seconds, is sent as a Retry-After header when > 0.
	RetryAfter int `json:"-"`
}

// NewError builds an Error; code may be empty.
func NewError(status int, typ, code, message string) *Error {
	e := &Error{Status: status, Type: typ, Message: message}
	if code != "" {
		e.Code = &code
	}
	return e
}

// WithParam returns e naming the request parameter at fault.
func (e *Error) WithParam(p string) *Error {
	e.Param = &p
	return e
}

func (e *Error) Error() string { return e.Message }

// Body is the JSON document {"error": e}.
func (e *Error) Body() []byte {
	b, err := json.Marshal(struct {
		Error *Error `json:"error"`
	}{e})
	if err != nil { // cannot happen: only strings and pointers to strings
		return []byte(`{"error":{"message":"internal error","type":"server_error","param":null,"code":null}}`)
	}
	return b
}

// Write answers the request with e as a JSON error response.
func (e *Error) Write(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	w.WriteHeader(e.Status)
	_, _ = w.Write(e.Body())
}
