package proxy

import (
	"errors"

	"github.com/aligngate/aligngate/cache"
	"github.com/aligngate/aligngate/correct"
	"github.com/aligngate/aligngate/policies"
	"github.com/aligngate/aligngate/telemetry"
)

// testConfig is what the proxy's tests configure: the proxy's own sections
// and those of the collaborators the tests build, as the command's
// composite file would hold them.
type testConfig struct {
	Config
	Correct   correct.Config
	Cache     cache.Config
	Policies  policies.Config
	Telemetry telemetry.Config
}

func defaultTestConfig() *testConfig {
	c := &testConfig{}
	c.SetDefaults()
	return c
}

func (c *testConfig) SetDefaults() {
	c.Config.SetDefaults()
	c.Correct.SetDefaults()
	c.Cache.SetDefaults()
	c.Policies.SetDefaults()
	c.Telemetry.SetDefaults()
}

func (c *testConfig) Validate() error {
	return errors.Join(c.Config.Validate(), c.Correct.Validate(), c.Cache.Validate(),
		c.Policies.Validate(), c.Telemetry.Validate())
}

func (c *testConfig) Secrets() []string {
	s := c.Config.Secrets()
	if c.Correct.Remote.APIKey != "" {
		s = append(s, c.Correct.Remote.APIKey)
	}
	return s
}

// settings are the correction settings the command hands the proxy.
func (c *testConfig) settings() CorrectionSettings {
	return CorrectionSettings{Backend: c.Correct.Backend, Drive: c.Correct.Drive, MultiTurn: c.Correct.MultiTurn,
		Keepalive: c.Correct.KeepaliveEvery()}
}
