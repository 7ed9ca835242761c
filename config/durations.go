package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
)

var durationType = reflect.TypeFor[time.Duration]()

// badDuration finds the first duration value in data that does not parse
// and names its key, e.g. `timeouts.connect: invalid duration "soon"`. The
// YAML library reports such errors without a position, so after a failed
// parse the document is walked again, generically, beside the Config type.
// It returns "" when every duration parses.
func badDuration(data []byte) string {
	var doc any
	if yaml.Unmarshal(data, &doc) != nil {
		return ""
	}
	return walkDurations(reflect.TypeFor[Config](), doc, "")
}

func walkDurations(t reflect.Type, v any, path string) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == durationType:
		if s, ok := v.(string); ok {
			if _, err := time.ParseDuration(s); err != nil {
				return fmt.Sprintf("%s: invalid duration %q (use a number with a unit, e.g. \"5s\")", path, s)
			}
		}
	case t.Kind() == reflect.Struct:
		m, _ := v.(map[string]any)
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if f.Anonymous && opts == "inline" {
				if msg := walkDurations(f.Type, v, path); msg != "" {
					return msg
				}
				continue
			}
			if val, ok := m[name]; ok && name != "" && name != "-" {
				if msg := walkDurations(f.Type, val, join(path, name)); msg != "" {
					return msg
				}
			}
		}
	case t.Kind() == reflect.Slice:
		list, _ := v.([]any)
		for i, el := range list {
			if msg := walkDurations(t.Elem(), el, path+"["+strconv.Itoa(i)+"]"); msg != "" {
				return msg
			}
		}
	case t.Kind() == reflect.Map:
		m, _ := v.(map[string]any)
		for k, el := range m {
			if msg := walkDurations(t.Elem(), el, join(path, k)); msg != "" {
				return msg
			}
		}
	}
	return ""
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
