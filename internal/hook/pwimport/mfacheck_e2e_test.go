package pwimport_test

import (
	"bytes"
	"entra2okta/internal/testkit/logbuf"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"entra2okta/internal/devstack"
	"entra2okta/internal/emu/fakeentra"
	"entra2okta/internal/hook/pwimport"
	"entra2okta/internal/hookserver"
	"entra2okta/internal/redact"
)

// TestMFAOrderCheck runs the canary check through MSAL
// against fakeentra in both tenant behaviours. Password first: the check
// passes, an MFA-enforced user's right password is VERIFIED and a wrong one
// is not. MFA first (a wrong password also gets 50076): the check fails, an
// error is logged, the unsafe gauge stays 1, and neither the wrong nor the
// right password of an MFA-enforced user is VERIFIED. The canary's password
// appears in no log or metric.
func TestMFAOrderCheck(t *testing.T) {
	for _, mfaFirst := range []bool{false, true} {
		name := map[bool]string{false: "password first", true: "MFA first"}[mfaFirst]
		t.Run(name, func(t *testing.T) {
			const canaryPassword = "Canary-Wrong-Pa55word-7731"
			const secret = "Basic bWZhOm1mYS1vcmRlci1zZWNyZXQ="
			var logs logbuf.Buffer
			var dir fakeentra.DemoDirectory
			var canary, user fakeentra.DemoUser
			st := startHookStack(t, devstack.Options{Seed: seedDemo(40, &dir), Entra: fakeentra.Options{MFAFirst: mfaFirst},
				Hook: &devstack.HookOptions{Secret: secret, Signaler: &recordingSignaler{},
					Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
					Configure: func(_ *devstack.Stack, cfg *hookserver.ServerConfig) error {
						var mfa []fakeentra.DemoUser
						for _, u := range dir.Users {
							if u.State == fakeentra.StateMFARequired && !u.Disabled && !u.Guest && !u.Federated {
								mfa = append(mfa, u)
							}
						}
						if len(mfa) < 2 {
							return fmt.Errorf("%d MFA-enforced users in the demo directory", len(mfa))
						}
						canary, user = mfa[0], mfa[1]
						cfg.Hook.Budget = 2 * time.Second
						cfg.Hook.MFACheck = pwimport.MFACheckConfig{PolicyMFA: true, Username: canary.UserPrincipalName,
							Password: redact.New(canaryPassword)}
						return nil
					}}})
			fe, srv := st.Entra(), st.HookServer()
			want := map[bool]string{false: pwimport.MFAOrderPasswordFirst, true: pwimport.MFAOrderMFAFirst}[mfaFirst]
			var metrics string
			for deadline := time.Now().Add(10 * time.Second); ; {
				metrics = httpGet(t, srv.AdminHandler(), "/metrics")
				if strings.Contains(metrics, `entra2okta_hook_mfa_order{state="`+want+`"} 1`) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the check did not find %s:\n%s\n%s", want, metrics, logs.String())
				}
				time.Sleep(20 * time.Millisecond)
			}
			wantUnsafe := map[bool]string{false: "0", true: "1"}[mfaFirst]
			if !strings.Contains(metrics, "entra2okta_hook_mfa_policy_unsafe "+wantUnsafe+"\n") {
				t.Fatalf("unsafe gauge, want %s:\n%s", wantUnsafe, metrics)
			}
			if !strings.Contains(logs.String(), "HOOK_POLICY_MFA=true") {
				t.Fatalf("no warning at start:\n%s", logs.String())
			}
			if mfaFirst != strings.Contains(logs.String(), `"level":"ERROR","msg":"MFA order check failed`) {
				t.Fatalf("error log (want %v):\n%s", mfaFirst, logs.String())
			}
			if st := fe.Lockout(canary.UserPrincipalName); st.Locked {
				t.Fatalf("the canary is locked: %+v", st)
			}

			signIn := func(eventID, password string) (int, string) {
				body := `{"eventId":"` + eventID + `","eventType":"com.okta.user.credential.password.import","data":{"context":{"credential":{"username":"` +
					user.UserPrincipalName + `","password":"` + password + `"}}}}`
				req := httptest.NewRequest(http.MethodPost, pwimport.PasswordImportPath, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", secret)
				rec := httptest.NewRecorder()
				srv.Handler().ServeHTTP(rec, req)
				return rec.Code, rec.Body.String()
			}
			_, wrong := signIn("ev-wrong", user.Password+"-not")
			if strings.Contains(wrong, `"VERIFIED"`) {
				t.Fatalf("a wrong password of an MFA-enforced user was VERIFIED: %s", wrong)
			}
			code, right := signIn("ev-right", user.Password)
			if mfaFirst {
				if strings.Contains(right, `"VERIFIED"`) || code != pwimport.StatusUndecided {
					t.Fatalf("MFA first: an MFA interrupt was answered %d %s, want undecided", code, right)
				}
			} else if !strings.Contains(right, `"VERIFIED"`) {
				t.Fatalf("password first: the right password of an MFA-enforced user: %d %s", code, right)
			}
			metrics = httpGet(t, srv.AdminHandler(), "/metrics")
			for what, text := range map[string]string{"logs": logs.String(), "metrics": metrics} {
				if strings.Contains(text, canaryPassword) || bytes.Contains([]byte(text), []byte(user.Password)) {
					t.Errorf("a password appears in the %s", what)
				}
			}
		})
	}
}
