package config

import (
	"fmt"
	"net/url"
	"strings"
)

// setSectionDefaults fills the defaults of the sections owned by lower packages.
func (c *Config) setSectionDefaults() {
	c.Correct.SetDefaults()
	c.LlamaCpp.SetDefaults()
	c.Cache.SetDefaults()
	c.Policies.SetDefaults()
	c.Telemetry.SetDefaults()
	c.Dashboard.SetDefaults()
}

// validateSections validates the sections owned by lower packages.
func (c *Config) validateSections() []error {
	var errs []error
	add := func(section string, err error) {
		if err == nil {
			return
		}
		if strings.HasPrefix(err.Error(), section) {
			errs = append(errs, err) // the section already names itself
			return
		}
		errs = append(errs, fmt.Errorf("%s: %w", section, err))
	}
	add("correct", c.Correct.Validate())
	add("llamacpp", c.LlamaCpp.Validate())
	add("cache", c.Cache.Validate())
	add("policies", c.Policies.Validate())
	add("telemetry", c.Telemetry.Validate())
	add("dashboard", c.Dashboard.Validate())
	return errs
}

// Redacted returns a copy safe to log: keys and URLs with passwords blanked.
func (c *Config) Redacted() *Config {
	r := *c
	r.Config = c.Config.Redacted()
	r.Correct = c.Correct.Redacted()
	r.Cache = c.Cache.Redacted()
	r.Telemetry = c.Telemetry.Redacted()
	r.Policies = c.Policies.Redacted()
	r.Dashboard = c.Dashboard.Redacted()
	return &r
}

// Secrets lists every configured secret, for log scrubbing.
func (c *Config) Secrets() []string {
	s := c.Config.Secrets()
	if c.Correct.Remote.APIKey != "" {
		s = append(s, c.Correct.Remote.APIKey)
	}
	if c.Dashboard.AdminKey != "" {
		s = append(s, c.Dashboard.AdminKey)
	}
	for _, raw := range []string{c.Cache.RedisURL, c.Policies.Records.RedisURL} {
		if u, err := url.Parse(raw); err == nil && u.User != nil {
			if p, ok := u.User.Password(); ok && p != "" {
				s = append(s, p)
			}
		}
	}
	return s
}
