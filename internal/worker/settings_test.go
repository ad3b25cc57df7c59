package worker

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"entra2okta/internal/settings"
)

// TestConfigSettingsDeclared: every setting but a secret has a flag, every
// one has help, the Temporal connection flags are the ones the other
// binaries use, and the secrets are declared as such (no flag, never
// listed with a value).
func TestConfigSettingsDeclared(t *testing.T) {
	cfg := DefaultConfig()
	cfg.OktaAPIToken = "s3cr3t-default"
	list := Settings(&cfg).List()
	byFlag, byEnv := map[string]settings.Declared{}, map[string]settings.Declared{}
	for _, d := range list {
		require.NotEmpty(t, d.Help, d.Env)
		require.True(t, d.Secret == (d.Flag == ""), d.Env)
		byFlag[d.Flag], byEnv[d.Env] = d, d
	}
	assert.Equal(t, "TEMPORAL_ADDRESS", byFlag["temporal-address"].Env)
	assert.Equal(t, "TEMPORAL_NAMESPACE", byFlag["temporal-namespace"].Env)
	for _, e := range []string{"OKTA_API_TOKEN", "OKTA_PRIVATE_KEY", "ENTRA_CLIENT_SECRET"} {
		assert.True(t, byEnv[e].Secret, e)
		assert.Empty(t, byEnv[e].Default, e)
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

// TestConfigSecretFlagsRefused: the secrets' former flags are refused with
// the variable to set instead, and the value is not repeated.
func TestConfigSecretFlagsRefused(t *testing.T) {
	const value = "s3cr3t-on-the-command-line"
	for flag, want := range map[string]string{"-okta-api-token": "OKTA_API_TOKEN or OKTA_API_TOKEN_FILE",
		"--okta-private-key=" + value: "OKTA_PRIVATE_KEY or OKTA_PRIVATE_KEY_FILE", "-entra-client-secret": "ENTRA_CLIENT_SECRET or ENTRA_CLIENT_SECRET_FILE"} {
		_, err := ParseConfig([]string{"-okta-rps", "5", flag, value}, env(complete))
		require.ErrorContains(t, err, want, flag)
		require.ErrorContains(t, err, "no longer accepted", flag)
		require.NotContains(t, err.Error(), value, flag)
	}
}
