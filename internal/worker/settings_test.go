package worker

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"entra2okta/internal/settings"
)

// TestConfigSettingsDeclared: every setting has a flag and help, the
// Temporal connection flags are the ones the other binaries use, and the
// secrets are declared as such (never listed with a value).
func TestConfigSettingsDeclared(t *testing.T) {
	cfg := DefaultConfig()
	cfg.OktaAPIToken = "s3cr3t-default"
	list := Settings(&cfg).List()
	byFlag := map[string]settings.Declared{}
	for _, d := range list {
		require.NotEmpty(t, d.Flag)
		require.NotEmpty(t, d.Help, d.Flag)
		byFlag[d.Flag] = d
	}
	assert.Equal(t, "TEMPORAL_ADDRESS", byFlag["temporal-address"].Env)
	assert.Equal(t, "TEMPORAL_NAMESPACE", byFlag["temporal-namespace"].Env)
	for _, f := range []string{"okta-api-token", "okta-private-key", "entra-client-secret"} {
		assert.True(t, byFlag[f].Secret, f)
		assert.Empty(t, byFlag[f].Default, f)
	}
	assert.Equal(t, "9.7", byFlag["okta-create-rps"].Default)
	assert.Equal(t, "30s", byFlag["shutdown-timeout"].Default)
}

// TestConfigVersionFlag: -version answers before the configuration is
// validated, so it works without any credentials.
func TestConfigVersionFlag(t *testing.T) {
	_, err := ParseConfig([]string{"-version"}, env(nil))
	require.True(t, errors.Is(err, settings.ErrVersion), "%v", err)
	_, err = ParseConfig([]string{"-okta-rps", "fast"}, env(complete))
	require.ErrorContains(t, err, "-okta-rps")
}
