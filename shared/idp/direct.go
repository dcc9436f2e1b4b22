package idp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Errors of Introspect and Userinfo beside the token endpoint's.
var (
	// ErrNoIntrospection: the provider has no introspection endpoint
	// configured.
	ErrNoIntrospection = errors.New("idp: no introspection endpoint")
	// ErrNoUserinfo: the provider has no userinfo endpoint configured.
	ErrNoUserinfo = errors.New("idp: no userinfo endpoint")
)

const (
	// maxCheckTimeout caps introspection and userinfo calls: an API call
	// waits on the one, a login on the other.
	maxCheckTimeout = 3 * time.Second
	// maxAnswer bounds a token, introspection or userinfo answer read.
	maxAnswer = 64 << 10
)

// post sends form to endpoint authenticated as at the token endpoint (HTTP
// Basic with a secret, form-encoded as RFC 6749 §2.3.1 says; client_id in
// the body without one) and returns the status, content type and at most
// maxAnswer bytes of the body. A body over the bound is a malformed answer.
func (p *Provider) post(ctx context.Context, op, endpoint string, form url.Values) (int, string, []byte, error) {
	if p.secret == "" {
		form.Set("client_id", p.clientID)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, "", nil, fmt.Errorf("idp: %s: build request: %w", op, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if p.secret != "" {
		req.SetBasicAuth(url.QueryEscape(p.clientID), url.QueryEscape(p.secret))
	}
	return p.do(op, req)
}

func (p *Provider) do(op string, req *http.Request) (int, string, []byte, error) {
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, "", nil, transportError(op, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return 0, "", nil, transportError(op, err)
	}
	if len(body) > maxAnswer {
		return 0, "", nil, fmt.Errorf("%s: %w: answer over %d bytes", op, ErrUnavailable, maxAnswer)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), body, nil
}

// tokenRequest posts a token request and reads the answer as x/oauth2
// would (JSON, or a form-encoded body), classifying failures as Exchange
// does: an OAuth error code, a status, or a malformed answer, never the body.
func (p *Provider) tokenRequest(ctx context.Context, op string, form url.Values) (*Tokens, error) {
	status, ctype, body, err := p.post(ctx, op, p.endpoints.Token, form)
	if err != nil {
		return nil, err
	}
	if status < 200 || status > 299 {
		return nil, statusError(op, status, errorCode(body))
	}
	var answer struct {
		AccessToken  string `json:"access_token"`
		IDToken      string `json:"id_token"`
		RefreshToken string `json:"refresh_token"`
		ExpiresIn    any    `json:"expires_in"`
		Error        any    `json:"error"`
	}
	if mt, _, _ := mime.ParseMediaType(ctype); mt == "application/x-www-form-urlencoded" || mt == "text/plain" {
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, fmt.Errorf("%s: %w: malformed response", op, ErrUnavailable)
		}
		answer.AccessToken, answer.IDToken, answer.RefreshToken = v.Get("access_token"), v.Get("id_token"), v.Get("refresh_token")
		answer.ExpiresIn = v.Get("expires_in")
		if e := v.Get("error"); e != "" {
			answer.Error = e
		}
	} else if err := json.Unmarshal(body, &answer); err != nil {
		return nil, fmt.Errorf("%s: %w: malformed response", op, ErrUnavailable)
	}
	if code, ok := answer.Error.(string); ok && code != "" {
		return nil, statusError(op, status, SafeErrorCode(code))
	}
	if answer.AccessToken == "" {
		return nil, fmt.Errorf("%s: %w: malformed response (no access_token)", op, ErrUnavailable)
	}
	t := &Tokens{AccessToken: answer.AccessToken, IDToken: answer.IDToken, RefreshToken: answer.RefreshToken}
	if secs := seconds(answer.ExpiresIn); secs > 0 {
		t.Expiry = p.now().Add(time.Duration(secs) * time.Second)
	}
	return t, nil
}

// seconds reads expires_in: a JSON number or a decimal string.
func seconds(v any) int64 {
	switch n := v.(type) {
	case float64:
		if n > 0 && n < 1<<40 {
			return int64(n)
		}
	case string:
		if i, err := strconv.ParseInt(n, 10, 64); err == nil && i > 0 && i < 1<<40 {
			return i
		}
	}
	return 0
}

// Introspect asks the provider about an access token (RFC 7662): a POST of
// token=…&token_type_hint=access_token, authenticated as at the token
// endpoint, within min(Timeout, 3s). It returns the answer's members,
// checking only that it is a JSON object: whether the token is active and
// for whom is the caller's to judge. An inactive token is not an error.
// Failures are classified as Exchange's are (ErrUnavailable for a provider
// that is down, slow or answers nonsense; ErrRejected for a refusal such as
// invalid_client), never with the answer's text.
func (p *Provider) Introspect(ctx context.Context, token string) (map[string]any, error) {
	if p.endpoints.Introspection == "" {
		return nil, ErrNoIntrospection
	}
	if token == "" {
		return nil, errors.New("idp: introspect: empty token")
	}
	ctx, cancel := context.WithTimeout(ctx, p.checkWait)
	defer cancel()
	status, _, body, err := p.post(ctx, "introspect", p.endpoints.Introspection, url.Values{"token": {token}, "token_type_hint": {"access_token"}})
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, statusError("introspect", status, errorCode(body))
	}
	return jsonObject("introspect", body)
}

// Userinfo reads the userinfo endpoint with an access token (OpenID Connect
// Core §5.3), within min(Timeout, 3s), and returns its claims. Only a JSON
// answer is read: a signed or encrypted one (application/jwt) is refused
// as ErrRejected, a configuration the suite does not support. A 401 or 403
// (the token is not good for userinfo: an access token issued for an API,
// say) is ErrRejected too. Whose claims they are (sub) is the caller's to
// check.
func (p *Provider) Userinfo(ctx context.Context, accessToken string) (map[string]any, error) {
	if p.endpoints.Userinfo == "" {
		return nil, ErrNoUserinfo
	}
	if accessToken == "" {
		return nil, fmt.Errorf("userinfo: no access token: %w", ErrRejected)
	}
	ctx, cancel := context.WithTimeout(ctx, p.checkWait)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.endpoints.Userinfo, nil)
	if err != nil {
		return nil, fmt.Errorf("idp: userinfo: build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Accept", "application/json")
	status, ctype, body, err := p.do("userinfo", req)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, statusError("userinfo", status, errorCode(body))
	}
	if mt, _, _ := mime.ParseMediaType(ctype); mt == "application/jwt" {
		return nil, fmt.Errorf("userinfo: %w: a signed userinfo answer (application/jwt) is not supported; configure the provider to answer JSON", ErrRejected)
	}
	return jsonObject("userinfo", body)
}

func jsonObject(op string, body []byte) (map[string]any, error) {
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		return nil, fmt.Errorf("%s: %w: malformed response", op, ErrUnavailable)
	}
	return m, nil
}
