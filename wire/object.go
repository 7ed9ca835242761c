package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Object is a JSON object whose members keep their order and their exact
// bytes, so that changing one value re-encodes nothing else. The proxy uses
// it to rewrite the assistant text of an answer and leave every other field
// as the upstream sent it.
type Object struct {
	keys []string
	vals []json.RawMessage
}

// ParseObject parses b, which must hold one JSON object.
func ParseObject(b []byte) (*Object, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("parse object: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("parse object: not a JSON object")
	}
	o := &Object{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("parse object: %w", err)
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("parse object: member %q: %w", key, err)
		}
		o.keys = append(o.keys, key)
		o.vals = append(o.vals, v)
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("parse object: %w", err)
	}
	return o, nil
}

// Get returns the raw value of key.
func (o *Object) Get(key string) (json.RawMessage, bool) {
	for i, k := range o.keys {
		if k == key {
			return o.vals[i], true
		}
	}
	return nil, false
}

// Set replaces the value of key, or appends the member.
func (o *Object) Set(key string, v json.RawMessage) {
	for i, k := range o.keys {
		if k == key {
			o.vals[i] = v
			return
		}
	}
	o.keys = append(o.keys, key)
	o.vals = append(o.vals, v)
}

// SetJSON encodes v and sets it as key's value.
func (o *Object) SetJSON(key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("set %q: %w", key, err)
	}
	o.Set(key, b)
	return nil
}

// Delete removes key if present.
func (o *Object) Delete(key string) {
	for i, k := range o.keys {
		if k == key {
			o.keys = append(o.keys[:i], o.keys[i+1:]...)
			o.vals = append(o.vals[:i], o.vals[i+1:]...)
			return
		}
	}
}

// MarshalJSON writes the members in their order with their original bytes.
func (o *Object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		b.Write(kb)
		b.WriteByte(':')
		b.Write(o.vals[i])
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// ParseArray splits a raw JSON array into its raw elements.
func ParseArray(b []byte) ([]json.RawMessage, error) {
	var a []json.RawMessage
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, fmt.Errorf("parse array: %w", err)
	}
	return a, nil
}

// JoinArray encodes raw elements as a JSON array.
func JoinArray(a []json.RawMessage) []byte {
	b, _ := json.Marshal(a) // RawMessage elements are already valid JSON
	return b
}
