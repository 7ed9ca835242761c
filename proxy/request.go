package proxy

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/aligngate/aligngate/proxy/wire"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// readBody reads the whole request body once, refusing more than limit bytes.
// When the client announced a length the buffer is allocated exactly once.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, *wire.Error) {
	if r.ContentLength > limit {
		return nil, tooLarge(limit)
	}
	body := http.MaxBytesReader(w, r.Body, limit)
	if r.ContentLength >= 0 {
		buf := make([]byte, r.ContentLength)
		if _, err := io.ReadFull(body, buf); err != nil {
			return nil, bodyError(err, limit)
		}
		// Anything past the announced length is refused, as net/http would.
		var one [1]byte
		if n, _ := body.Read(one[:]); n > 0 {
			return nil, badRequest("invalid_body", "", "The request body is longer than its Content-Length.")
		}
		return buf, nil
	}
	buf, err := io.ReadAll(body)
	if err != nil {
		return nil, bodyError(err, limit)
	}
	return buf, nil
}

// present records whether a JSON field was there (and what kind of value it
// held) without copying it.
type present byte

func (p *present) UnmarshalJSON(b []byte) error {
	if len(b) > 0 {
		*p = present(b[0])
	}
	return nil
}

// stringField is a JSON field that must be a string when present.
type stringField struct {
	kind  present
	value string
}

func (f *stringField) UnmarshalJSON(b []byte) error {
	_ = f.kind.UnmarshalJSON(b)
	if f.kind != '"' {
		return nil
	}
	return json.Unmarshal(b, &f.value)
}

// routing is what the proxy reads of a request body to route and validate
// it; the body itself is forwarded untouched.
type routing struct {
	Model    stringField `json:"model"`
	Messages present     `json:"messages"`
	Stream   bool        `json:"stream"`
	User     stringField `json:"user"`
	// Metadata is read for policies only.
	Metadata lenientMetadata `json:"metadata"`
}

func parseRouting(body []byte) (routing, error) {
	var r routing
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return r, errors.New("the body must be a JSON object")
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return r, err
	}
	return r, nil
}

// validate checks the fields an OpenAI endpoint requires before anything is
// sent upstream.
func (r routing) validate(needMessages bool) *wire.Error {
	switch {
	case r.Model.kind == 0 || r.Model.kind == 'n':
		return badRequest("missing_required_parameter", "model", "Missing required parameter: 'model'.")
	case r.Model.kind != '"' || r.Model.value == "":
		return badRequest("invalid_type", "model", "Invalid type for 'model': expected a non-empty string.")
	case needMessages && (r.Messages == 0 || r.Messages == 'n'):
		return badRequest("missing_required_parameter", "messages", "Missing required parameter: 'messages'.")
	case needMessages && r.Messages != '[':
		return badRequest("invalid_type", "messages", "Invalid type for 'messages': expected an array of objects.")
	}
	return nil
}

// invalidJSON is the 400 for a body that does not parse.
func invalidJSON(err error) *wire.Error {
	return badRequest("invalid_json", "", "We could not parse the JSON body of your request. ("+err.Error()+")")
}
