package config

import (
	"slices"
	"strings"
)

// Unset lists, in order of first use and once each, the variables that
// data uses as ${VAR} (without a default) and that lookup does not know:
// they expand to the empty string. Lines that are YAML comments are
// skipped, since a variable named only in prose is not a setting.
func Unset(data []byte, lookup func(string) (string, bool)) []string {
	var names []string
	for line := range strings.Lines(string(data)) {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		for _, name := range varsWithoutDefault(line) {
			if _, ok := lookup(name); !ok && !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
	}
	return names
}

// varsWithoutDefault returns the names of the ${VAR} references of s that
// have no ":-" default, skipping "$$" escapes as Expand does.
func varsWithoutDefault(s string) []string {
	var names []string
	for {
		i := strings.IndexByte(s, '$')
		if i < 0 || i == len(s)-1 {
			return names
		}
		switch s[i+1] {
		case '$':
			s = s[i+2:]
		case '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return names
			}
			if expr := s[i+2 : i+end]; !strings.Contains(expr, ":-") && expr != "" {
				names = append(names, expr)
			}
			s = s[i+end+1:]
		default:
			s = s[i+1:]
		}
	}
}
