package proxy

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"

	"github.com/aligngate/aligngate/wire"
)

// checkEncoding refuses a compressed body on a route whose body the proxy
// reads: it would only fail to parse, with a misleading message.
func checkEncoding(r *http.Request) *wire.Error {
	ce := strings.TrimSpace(r.Header.Get("Content-Encoding"))
	if ce == "" || strings.EqualFold(ce, "identity") {
		return nil
	}
	return wire.NewError(http.StatusUnsupportedMediaType, wire.TypeInvalidRequest, "unsupported_content_encoding",
		"Request bodies must not be compressed (Content-Encoding: "+ce+").")
}

// jsonError is the 400 for a body that does not decode: invalid_type,
// naming the field, when a value has the wrong type, else invalid_json.
func jsonError(err error) *wire.Error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return badRequest("invalid_type", te.Field,
			"Invalid type for '"+te.Field+"': expected "+kindName(te.Type)+", got "+te.Value+".")
	}
	return invalidJSON(err)
}

// kindName names a Go type the way an OpenAI error names a JSON type.
func kindName(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "a boolean"
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "another type"
}
