package worker

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"entra2okta/internal/buildinfo"
)

// TestMain_ExitCodes: Main's exit codes and outputs for -h, -version and a
// bad value, each before anything dials Temporal. No output carries a
// secret of the environment.
func TestMain_ExitCodes(t *testing.T) {
	for name, tc := range map[string]struct {
		args       []string
		env        map[string]string
		code       int
		stdout     string // exact
		stderrHas  []string
		stderrPref string
	}{
		"help":              {args: []string{"-h"}, code: 0, stderrHas: []string{"Usage of worker", "-okta-rps", "OKTA_RPS"}},
		"version":           {args: []string{"-version"}, code: 0, stdout: "worker " + buildinfo.Version() + "\n"},
		"version, bad env":  {args: []string{"-version"}, env: map[string]string{"OKTA_RPS": "fast"}, code: 0, stdout: "worker " + buildinfo.Version() + "\n"},
		"bad variable":      {env: map[string]string{"OKTA_RPS": "fast"}, code: 2, stderrPref: "worker: ", stderrHas: []string{"OKTA_RPS", `"fast"`}},
		"bad flag value":    {args: []string{"-okta-rps", "fast"}, code: 2, stderrHas: []string{"worker: ", "okta-rps", "Usage of worker"}},
		"missing setting":   {env: map[string]string{"OKTA_API_TOKEN": "s3cr3t-token-value"}, code: 2, stderrPref: "worker: ", stderrHas: []string{"OKTA_ORG_URL"}},
		"secret as a flag":  {args: []string{"-okta-api-token", "s3cr3t-token-value"}, code: 2, stderrHas: []string{"worker: ", "OKTA_API_TOKEN"}},
		"over Okta's limit": {args: []string{"-okta-concurrency", "100"}, env: complete, code: 2, stderrPref: "worker: ", stderrHas: []string{"OKTA_CONCURRENCY"}},
	} {
		t.Run(name, func(t *testing.T) {
			e := map[string]string{}
			for k, v := range tc.env {
				e[k] = v
			}
			var stdout, stderr bytes.Buffer
			code := Main(context.Background(), tc.args, env(e), &stdout, &stderr)
			assert.Equal(t, tc.code, code, "exit code; stderr:\n%s", stderr.String())
			assert.Equal(t, tc.stdout, stdout.String(), "stdout")
			if tc.stdout != "" {
				assert.Empty(t, stderr.String(), "stderr")
			}
			if tc.stderrPref != "" {
				assert.True(t, strings.HasPrefix(stderr.String(), tc.stderrPref), "stderr %q starts with %q", stderr.String(), tc.stderrPref)
			}
			for _, want := range tc.stderrHas {
				assert.Contains(t, stderr.String(), want)
			}
			for _, secret := range []string{"s3cr3t-token-value", "s3cr3t-client-value"} {
				assert.NotContains(t, stdout.String()+stderr.String(), secret)
			}
		})
	}
}
