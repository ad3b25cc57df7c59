package worker

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParseConfig_TemporalFromItsEnvironmentConfiguration: the worker's
// Temporal connection is the temporal CLI's profile and TEMPORAL_* variables,
// the flags win, and the API key (here from a file) is nowhere in the logs.
func TestParseConfig_TemporalFromItsEnvironmentConfiguration(t *testing.T) {
	const apiKey = "temporal-api-key-MARKER"
	dir := t.TempDir()
	toml := filepath.Join(dir, "temporal.toml")
	require.NoError(t, os.WriteFile(toml, []byte(`
[profile.cloud]
address = "migration.a1b2c.tmprl.cloud:7233"
namespace = "migration.a1b2c"
`), 0o600))
	keyFile := filepath.Join(dir, "api-key")
	require.NoError(t, os.WriteFile(keyFile, []byte(apiKey+"\n"), 0o600))
	e := map[string]string{"TEMPORAL_CONFIG_FILE": toml, "TEMPORAL_PROFILE": "cloud", "TEMPORAL_API_KEY_FILE": keyFile}
	for k, v := range complete {
		e[k] = v
	}

	cfg, err := ParseConfig(nil, env(e))
	require.NoError(t, err)
	require.NotNil(t, cfg.Temporal)
	assert.Equal(t, "migration.a1b2c.tmprl.cloud:7233", cfg.TemporalAddress)
	assert.Equal(t, "migration.a1b2c", cfg.TemporalNamespace)
	assert.True(t, cfg.Temporal.TLS(), "an API key implies TLS")
	assert.True(t, cfg.Temporal.Cloud())
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("worker starting", "config", cfg, "temporal", *cfg.Temporal)
	assert.Contains(t, logs.String(), `"apiKey":true`)
	assert.NotContains(t, logs.String()+fmt.Sprintf("%+v", cfg), apiKey)

	// The environment over the profile, the flags over the environment.
	e["TEMPORAL_NAMESPACE"] = "env-ns"
	cfg, err = ParseConfig([]string{"-temporal-address", "127.0.0.1:7233"}, env(e))
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:7233", cfg.TemporalAddress)
	assert.Equal(t, "env-ns", cfg.TemporalNamespace)
	assert.True(t, cfg.Temporal.TLS(), "the API key still applies")

	// No profile, no variables: the defaults, plaintext.
	cfg, err = ParseConfig(nil, env(map[string]string{"TEMPORAL_CONFIG_FILE": filepath.Join(dir, "none.toml"),
		"OKTA_ORG_URL": complete["OKTA_ORG_URL"], "OKTA_API_TOKEN": "t", "ENTRA_TENANT_ID": "t1", "ENTRA_CLIENT_ID": "c1", "ENTRA_CLIENT_SECRET": "s"}))
	require.NoError(t, err)
	assert.Equal(t, DefaultTemporalAddress, cfg.TemporalAddress)
	assert.Equal(t, DefaultTemporalNamespace, cfg.TemporalNamespace)
	assert.False(t, cfg.Temporal.TLS())

	// An unknown profile is a configuration error.
	e["TEMPORAL_PROFILE"] = "prod"
	_, err = ParseConfig(nil, env(e))
	require.ErrorContains(t, err, "prod")
}

// TestParseConfig_SecretsFromFiles: OKTA_API_TOKEN_FILE and
// ENTRA_CLIENT_SECRET_FILE stand for the variables; a conflict or an
// unreadable file names the variable and the path, never the content.
func TestParseConfig_SecretsFromFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	base := map[string]string{"TEMPORAL_CONFIG_FILE": filepath.Join(dir, "none.toml"),
		"OKTA_ORG_URL": "https://example.okta.com", "ENTRA_TENANT_ID": "t1", "ENTRA_CLIENT_ID": "c1",
		"OKTA_API_TOKEN_FILE":      write("okta", "file-token-MARKER\n"),
		"ENTRA_CLIENT_SECRET_FILE": write("graph", "file-secret-MARKER")}
	cfg, err := ParseConfig(nil, env(base))
	require.NoError(t, err)
	assert.Equal(t, "file-token-MARKER", cfg.OktaAPIToken)
	assert.Equal(t, "file-secret-MARKER", cfg.EntraClientSecret)

	both := map[string]string{"OKTA_API_TOKEN": "var-token-MARKER"}
	for k, v := range base {
		both[k] = v
	}
	both["ENTRA_CLIENT_SECRET_FILE"] = filepath.Join(dir, "missing")
	_, err = ParseConfig(nil, env(both))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "OKTA_API_TOKEN and OKTA_API_TOKEN_FILE are both set")
	assert.Contains(t, err.Error(), "ENTRA_CLIENT_SECRET_FILE: cannot read "+filepath.Join(dir, "missing"))
	assert.NotContains(t, err.Error(), "MARKER")
}
