package proxy

import (
	"net/http"
	"strconv"

	"github.com/aligngate/aligngate/wire"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// readBody reads the whole request body once, refusing more than limit bytes.
// Its memory grows with the bytes received, whatever length the client
// announced, and the body is allocated once (gatherBody).
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, *wire.Error) {
	if r.ContentLength > limit {
		return nil, tooLarge(limit)
	}
	body := http.MaxBytesReader(w, r.Body, limit)
	if r.ContentLength >= 0 {
		buf, err := gatherBody(body, r.ContentLength)
		if err != nil {
			return nil, bodyError(err, limit)
		}
		// Anything past the announced length is refused, as net/http would.
		var one [1]byte
		if n, _ := body.Read(one[:]); n > 0 {
			return nil, badRequest("invalid_body", "", "The request body is longer than its Content-Length.")
		}
		return buf, nil
	}
	buf, err := gatherBody(body, -1)
	if err != nil {
		return nil, bodyError(err, limit)
	}
	return buf, nil
}

// validate checks the fields an OpenAI endpoint requires before anything is
// sent upstream.
func validateRouting(r wire.Routing, needMessages bool) *wire.Error {
	switch {
	case r.Model.Kind == 0 || r.Model.Kind == 'n':
		return badRequest("missing_required_parameter", "model", "Missing required parameter: 'model'.")
	case r.Model.Kind != '"' || r.Model.Value == "":
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
