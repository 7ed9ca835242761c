package config

// setSectionDefaults fills the defaults of the sections owned by lower packages.
func (c *Config) setSectionDefaults() {}

// validateSections validates the sections owned by lower packages.
func (c *Config) validateSections() []error { return nil }
