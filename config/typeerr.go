package config

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// keyError is a YAML type error named by the key it is at, e.g.
// `server.max_body_bytes (line 12): want an integer, got "lots"`, rather
// than by the Go struct field the library names.
type keyError struct {
	key  string
	line int
	msg  string
	err  error
}

func (e *keyError) Error() string { return fmt.Sprintf("%s (line %d): %s", e.key, e.line, e.msg) }

func (e *keyError) Unwrap() error { return e.err }

// nameKey turns a type error of the YAML library into a keyError by finding
// the node it points at in data. It returns nil for other errors, or when
// the node is not found.
func nameKey(data []byte, err error) error {
	var ye yaml.Error
	if !errors.As(err, &ye) || ye.GetToken() == nil {
		return nil
	}
	var msg string
	var te *yaml.TypeError
	var ne *yaml.UnexpectedNodeTypeError
	switch {
	case errors.As(err, &te):
		msg = "want " + kindName(te.DstType) + ", got " + quoteValue(ye.GetToken().Value, te.SrcType)
	case errors.As(err, &ne):
		msg = "want " + nodeName(ne.Expected) + ", got " + nodeName(ne.Actual)
	default:
		return nil
	}
	pos := ye.GetToken().Position
	key := keyAtPosition(data, pos.Line, pos.Column)
	if key == "" {
		return nil
	}
	return &keyError{key: key, line: pos.Line, msg: msg, err: err}
}

// keyAtPosition returns the dotted key (e.g. "upstreams[0].models") of the
// innermost node that starts at line and column, or "".
func keyAtPosition(data []byte, line, column int) string {
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return ""
	}
	v := &positionFinder{line: line, column: column}
	for _, doc := range f.Docs {
		ast.Walk(v, doc)
	}
	return strings.TrimPrefix(strings.TrimPrefix(v.path, "$"), ".")
}

// positionFinder is an ast.Visitor remembering the path of the last (so
// innermost) node found at a position.
type positionFinder struct {
	line, column int
	path         string
}

func (v *positionFinder) Visit(n ast.Node) ast.Visitor {
	if tk := n.GetToken(); tk != nil && tk.Position.Line == v.line && tk.Position.Column == v.column {
		if p := n.GetPath(); p != "" {
			v.path = p
		}
	}
	return v
}

// kindName describes what a Go type accepts, in YAML words.
func kindName(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == durationType {
		return "a duration with a unit, e.g. \"5s\""
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping"
	}
	return t.String()
}

// quoteValue shows a scalar value, or the kind of a collection.
func quoteValue(value string, src reflect.Type) string {
	if src != nil && (src.Kind() == reflect.Slice || src.Kind() == reflect.Map) {
		return kindName(src)
	}
	return fmt.Sprintf("%q", value)
}

// nodeName describes a YAML node type.
func nodeName(t ast.NodeType) string {
	switch t {
	case ast.MappingType, ast.MappingValueType:
		return "a mapping"
	case ast.SequenceType:
		return "a list"
	case ast.StringType:
		return "a string"
	case ast.IntegerType:
		return "an integer"
	case ast.FloatType:
		return "a number"
	case ast.BoolType:
		return "true or false"
	case ast.NullType:
		return "null"
	}
	return strings.ToLower(t.String())
}
