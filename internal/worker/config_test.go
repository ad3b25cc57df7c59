package worker

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

var complete = map[string]string{
	"OKTA_ORG_URL": "https://example.okta.com", "OKTA_API_TOKEN": "s3cr3t-token-value",
	"ENTRA_TENANT_ID": "t1", "ENTRA_CLIENT_ID": "c1", "ENTRA_CLIENT_SECRET": "s3cr3t-client-value",
}

func TestParseConfig_EnvThenFlags(t *testing.T) {
	e := map[string]string{"TEMPORAL_ADDRESS": "temporal:7233", "OKTA_RPS": "20", "OKTA_CONCURRENCY": "30", "LOG_LEVEL": "debug",
		"WORKFLOW_CACHE_SIZE": "500"}
	for k, v := range complete {
		e[k] = v
	}
	cfg, err := ParseConfig([]string{"-okta-rps", "25", "-metrics-addr", "off"}, env(e))
	require.NoError(t, err)
	assert.Equal(t, "temporal:7233", cfg.TemporalAddress)
	assert.Equal(t, DefaultTemporalNamespace, cfg.TemporalNamespace)
	assert.Equal(t, 25.0, cfg.OktaRPS, "a flag overrides the environment")
	assert.Equal(t, 30, cfg.OktaConcurrency)
	assert.Equal(t, DefaultGraphRPS, cfg.GraphRPS)
	assert.Equal(t, DefaultAuthorityHost, cfg.EntraAuthorityHost)
	assert.Equal(t, DefaultGraphBaseURL, cfg.GraphBaseURL)
	assert.Equal(t, "off", cfg.MetricsAddr)
	assert.Equal(t, "s3cr3t-token-value", cfg.OktaAPIToken)
	assert.True(t, cfg.RegisterSearchAttributes)
	assert.Equal(t, 500, cfg.WorkflowCacheSize)
}

func TestParseConfig_ReportsEveryProblem(t *testing.T) {
	_, err := ParseConfig(nil, env(map[string]string{"OKTA_CONCURRENCY": "80", "LOG_LEVEL": "loud"}))
	require.Error(t, err)
	for _, want := range []string{"OKTA_ORG_URL is required", "OKTA_API_TOKEN is required", "ENTRA_CLIENT_SECRET is required",
		"OKTA_CONCURRENCY must be 1-74", `LOG_LEVEL "loud"`} {
		assert.Contains(t, err.Error(), want)
	}
	_, err = ParseConfig(nil, env(map[string]string{"OKTA_RPS": "fast"}))
	require.ErrorContains(t, err, "OKTA_RPS")
}

func TestConfigLogValueHidesSecrets(t *testing.T) {
	cfg, err := ParseConfig(nil, env(complete))
	require.NoError(t, err)
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("start", "config", cfg)
	out := buf.String()
	assert.Contains(t, out, "example.okta.com")
	assert.False(t, strings.Contains(out, "s3cr3t-token-value") || strings.Contains(out, "s3cr3t-client-value"), out)
}
