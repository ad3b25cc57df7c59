package oktaclient

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v3/jwt"
)

// TestTokenRequestHasADeadline: the SDK sends the token request without a
// context; the transport bounds it, and reads the answer before releasing
// the deadline.
func TestTokenRequestHasADeadline(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow"+tokenPath {
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"token_type":"Bearer","expires_in":3600,"access_token":"at","scope":"okta.users.read"}`))
	}))
	defer srv.Close()
	defer close(release)
	tt := &tokenTransport{base: http.DefaultTransport, timeout: 300 * time.Millisecond}

	req, err := http.NewRequest(http.MethodPost, srv.URL+"/slow"+tokenPath+"?grant_type=client_credentials", nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := tt.RoundTrip(req); err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("a hanging token endpoint: err %v after %s", err, time.Since(start))
	}

	req, _ = http.NewRequest(http.MethodPost, srv.URL+tokenPath, nil)
	resp, err := tt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(400 * time.Millisecond) // past the deadline: the body was read before
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken != "at" {
		t.Fatalf("token answer read after the call: %+v, %v", tok, err)
	}
}

// TestAssertionsCarryAUniqueJTI: each client assertion the SDK builds gets
// its own jti; the other claims are the SDK's (iss = sub = client ID, aud =
// the token endpoint, exp an hour ahead, as integers).
func TestAssertionsCarryAUniqueJTI(t *testing.T) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	signer, err := newAssertionSigner(string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), "kid-7")
	if err != nil {
		t.Fatal(err)
	}
	claims := map[string]any{"iss": "c1", "sub": "c1", "aud": "https://example.okta.com/oauth2/v1/token",
		"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()}
	seen := map[string]bool{}
	for i := 0; i < 3; i++ {
		compact, err := jwt.Signed(signer).Claims(claims).CompactSerialize()
		if err != nil {
			t.Fatal(err)
		}
		parts := strings.Split(compact, ".")
		hdr, _ := base64.RawURLEncoding.DecodeString(parts[0])
		if !strings.Contains(string(hdr), `"alg":"ES256"`) || !strings.Contains(string(hdr), `"kid":"kid-7"`) {
			t.Fatalf("header %s", hdr)
		}
		raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var got map[string]any
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.UseNumber()
		if err := dec.Decode(&got); err != nil {
			t.Fatal(err)
		}
		jti, _ := got["jti"].(string)
		if len(jti) < 20 || seen[jti] {
			t.Fatalf("jti %q (seen before: %v)", jti, seen[jti])
		}
		seen[jti] = true
		if got["iss"] != "c1" || got["exp"] != json.Number(jsonInt(claims["exp"])) {
			t.Fatalf("claims changed: %s", raw)
		}
		// The signature covers the claims with the jti.
		tok, err := jwt.ParseSigned(compact)
		if err != nil {
			t.Fatal(err)
		}
		var verified map[string]any
		if err := tok.Claims(&k.PublicKey, &verified); err != nil || verified["jti"] != jti {
			t.Fatalf("signature over the jti: %v %v", err, verified)
		}
	}
}

func jsonInt(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestConcurrentTokenRequestsShareOne: calls that all find the SDK's token
// cache empty send one token request between them, and each gets the answer.
func TestConcurrentTokenRequestsShareOne(t *testing.T) {
	var (
		mu       sync.Mutex
		requests int
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests++
		mu.Unlock()
		time.Sleep(time.Second) // long enough for every caller to join
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"token_type":"Bearer","expires_in":3600,"access_token":"shared","scope":"okta.users.read"}`))
	}))
	defer srv.Close()
	tt := &tokenTransport{base: http.DefaultTransport, timeout: 10 * time.Second}
	const callers = 8
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for i := 0; i < callers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, srv.URL+tokenPath+"?client_assertion=a"+strconv.Itoa(i), nil)
			resp, err := tt.RoundTrip(req)
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			var tok struct {
				AccessToken string `json:"access_token"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken != "shared" || resp.StatusCode != 200 {
				errs <- fmt.Errorf("caller %d: %d %+v %v", i, resp.StatusCode, tok, err) //nolint:errorlint // err may be nil
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if requests != 1 {
		t.Errorf("%d token requests for %d concurrent callers, want 1", requests, callers)
	}
}
