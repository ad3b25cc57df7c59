package pwimport_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"entra2okta/internal/emu/fakeentra"
	"entra2okta/internal/entra"
	"entra2okta/internal/entra/ropc"
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
			fe, err := fakeentra.Start(fakeentra.Options{MFAFirst: mfaFirst})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = fe.Close() })
			dir, err := fe.SeedDemo(40)
			if err != nil {
				t.Fatal(err)
			}
			var mfa []fakeentra.DemoUser
			for _, u := range dir.Users {
				if u.State == fakeentra.StateMFARequired && !u.Disabled && !u.Guest && !u.Federated {
					mfa = append(mfa, u)
				}
			}
			if len(mfa) < 2 {
				t.Fatalf("%d MFA-enforced users in the demo directory", len(mfa))
			}
			canary, user := mfa[0], mfa[1]
			const canaryPassword = "Canary-Wrong-Pa55word-7731"
			verifier, err := ropc.NewVerifier(ropc.Config{AuthorityHost: fe.URL, TenantID: dir.TenantID, ClientID: dir.PublicClientID,
				HTTPClient: fe.HTTPClient(0), Policy: entra.DefaultPolicy()})
			if err != nil {
				t.Fatal(err)
			}
			var logs syncBuffer
			const secret = "Basic bWZhOm1mYS1vcmRlci1zZWNyZXQ="
			srv, err := hookserver.NewServer(hookserver.ServerConfig{Hook: pwimport.Config{AuthSecret: secret, Budget: 2 * time.Second,
				MFACheck: pwimport.MFACheckConfig{PolicyMFA: true, Username: canary.UserPrincipalName, Password: redact.New(canaryPassword)}}},
				verifier, &recordingSignaler{}, slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_ = srv.Shutdown(ctx)
			})
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
