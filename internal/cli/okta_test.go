package cli_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"entra2okta/internal/cli"
)

// TestRollbackOktaCredentials: rollback takes an API token or an Okta OAuth
// service app, exactly one, and says what is missing without printing a
// secret. A complete service app gets past the Okta settings to the
// Temporal connection (unreachable here: exit 1, not a usage error).
func TestRollbackOktaCredentials(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	goodKey := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	keyFile := filepath.Join(t.TempDir(), "okta.pem")
	if err := os.WriteFile(keyFile, []byte(goodKey), 0o600); err != nil {
		t.Fatal(err)
	}
	const marker = "S3CRET-KEY-MATERIAL"
	badKey := "-----BEGIN PRIVATE KEY-----\n" + marker + "\n-----END PRIVATE KEY-----\n"
	base := map[string]string{"TEMPORAL_ADDRESS": "127.0.0.1:1", "OKTA_ORG_URL": "https://example.okta.com"}
	with := func(kv ...string) map[string]string {
		e := map[string]string{}
		for k, v := range base {
			e[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			e[kv[i]] = kv[i+1]
		}
		return e
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string
	}{
		{"client ID without key", with("OKTA_CLIENT_ID", "0oa1"), nil, cli.ExitUsage, "needs both OKTA_CLIENT_ID"},
		{"key without client ID", with("OKTA_PRIVATE_KEY", goodKey), nil, cli.ExitUsage, "needs both OKTA_CLIENT_ID"},
		{"token and service app", with("OKTA_API_TOKEN", marker, "OKTA_CLIENT_ID", "0oa1", "OKTA_PRIVATE_KEY", goodKey), nil,
			cli.ExitUsage, "not both"},
		{"key that does not parse", with("OKTA_CLIENT_ID", "0oa1", "OKTA_PRIVATE_KEY", badKey), nil, cli.ExitUsage, "private key"},
		{"scopes with a token", with("OKTA_API_TOKEN", marker), []string{"--okta-scopes", "okta.users.read"}, cli.ExitUsage,
			"apply to an OAuth service app"},
		{"service app from the environment", with("OKTA_CLIENT_ID", "0oa1", "OKTA_PRIVATE_KEY", goodKey), nil, cli.ExitError, ""},
		{"client ID as a flag", with("OKTA_PRIVATE_KEY", goodKey), []string{"--okta-client-id", "0oa1", "--okta-private-key-id", "k1"},
			cli.ExitError, ""},
		{"key from OKTA_PRIVATE_KEY_FILE", with("OKTA_CLIENT_ID", "0oa1", "OKTA_PRIVATE_KEY_FILE", keyFile), nil, cli.ExitError, ""},
		{"key file missing", with("OKTA_CLIENT_ID", "0oa1", "OKTA_PRIVATE_KEY_FILE", keyFile+".missing"), nil, cli.ExitUsage,
			"OKTA_PRIVATE_KEY_FILE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"rollback", "--batch", "b1"}, tc.args...)
			code, out, errOut := run(t, tc.env, args...)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d, want %d with %q:\n%s%s", code, tc.code, tc.want, out, errOut)
			}
			for _, secret := range []string{marker, "MII", "PRIVATE KEY"} {
				if strings.Contains(out+errOut, secret) {
					t.Fatalf("the output shows %q:\n%s%s", secret, out, errOut)
				}
			}
		})
	}
}
