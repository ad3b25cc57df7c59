package devstack

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
)

// SignIn signs login in through fakeokta's Classic authentication API (POST
// /api/v1/authn), as a browser behind ip (X-Forwarded-For; "": none, so
// fakeokta sees the connection's address), and returns the HTTP status: 200
// signed in, 401 refused, 429 rate limited.
func (s *Stack) SignIn(ctx context.Context, hc *http.Client, login, password, ip string) (int, error) {
	return SignIn(ctx, hc, s.OktaURL(), login, password, ip)
}

// SignIn is Stack.SignIn against the Okta org at oktaURL.
func SignIn(ctx context.Context, hc *http.Client, oktaURL, login, password, ip string) (int, error) {
	body, err := json.Marshal(map[string]string{"username": login, "password": password})
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, oktaURL+"/api/v1/authn", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if ip != "" {
		req.Header.Set("X-Forwarded-For", ip)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}
