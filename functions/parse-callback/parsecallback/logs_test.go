package parsecallback_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/edgeauth/edgeauth/internal/suitetest"
	"github.com/edgeauth/edgeauth/internal/testtoken"
	"github.com/edgeauth/edgeauth/shared/lambdafn"
	"github.com/edgeauth/edgeauth/shared/session"
)

// No log line carries what a token's sender or a forged redirect chose: a
// token the verifier refuses is named by verifier.Reason, an OAuth error
// code passes idp.SafeErrorCode, and the path is a bounded, escaped excerpt.
// Each case pins the whole reason.
func TestLogsCarryNoHostileText(t *testing.T) {
	f := newFixture(t)
	exp := f.now.Add(time.Hour)
	idTokens := suitetest.HostileTokens(t, f.mint, testtoken.OIDCID(issuer, clientID, sub, "n-1", nil, exp))
	accessTokens := suitetest.HostileTokens(t, f.mint, testtoken.OIDCAccess(issuer, clientID, sub, nil, exp))
	reasons := map[string]string{"kid": "unknown key", "alg": "bad signature", "iss": "wrong issuer"}
	type tc struct {
		name, uri, reason string
		id, access        string // the token endpoint's answer; "" for none
	}
	var cases []tc
	for part, reason := range reasons {
		cases = append(cases,
			tc{name: "id token with a hostile " + part, id: idTokens[part], reason: "id token rejected: " + reason},
			// An access token the verifier refuses is not used, and the
			// login goes on (issue 8; it used to end it with a 502).
			tc{name: "access token with a hostile " + part, id: f.idToken(t, "n-1", nil), access: accessTokens[part], reason: "code exchanged; access token not used: " + reason})
	}
	q := url.Values{"error": {suitetest.Hostile()}, "error_description": {suitetest.Hostile()}, "state": {suitetest.Hostile()}}
	cases = append(cases, tc{name: "hostile IdP error", uri: "/parseauth?" + q.Encode(), reason: "idp error: invalid"})
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			uri := tt.uri
			var headers []string
			if uri == "" {
				state, lc := f.login(t, session.LoginState{Nonce: "n-1", Verifier: strings.Repeat("v", 43), ReturnTo: "/x", Created: f.now})
				uri, headers = "/parseauth?code=c&state="+state, []string{"Cookie", suitetest.CookieHeader(lc, f.index)}
				f.idp.answer = func(w http.ResponseWriter, _ url.Values) {
					access := tt.access
					if access == "" {
						access = "opaque-access-token" // not a JWT: not used
					}
					tokens(w, map[string]any{"id_token": tt.id, "access_token": access})
				}
			}
			f.logs.Reset()
			f.handle(t, suitetest.Request(t, uri, headers...))
			lines := suitetest.LogLines(t, f.logs)
			if len(lines) != 1 || lines[0]["reason"] != tt.reason {
				t.Fatalf("log = %s, want one line with reason %q", f.logs, tt.reason)
			}
			if strings.Contains(f.logs.String(), suitetest.HostileMarker) || strings.Contains(f.logs.String(), "XXXXXXXX") {
				t.Errorf("the log carries hostile text: %s", f.logs)
			}
		})
	}
}

// The request's path goes into every line as lambdafn.Excerpt writes it:
// printable, and bounded.
func TestLoggedPathIsAnExcerpt(t *testing.T) {
	f := newFixture(t)
	path := "/parseauth/" + url.PathEscape(suitetest.Hostile())
	ev := suitetest.Request(t, "/")
	req, _, _ := ev.Request()
	req.URI = path + "\n" + strings.Repeat("Y", 400)
	f.logs.Reset()
	f.handle(t, ev)
	lines := suitetest.LogLines(t, f.logs)
	if len(lines) != 1 || lines[0]["path"] != lambdafn.Excerpt(req.URI) {
		t.Fatalf("log = %s, want the path as lambdafn.Excerpt writes it", f.logs)
	}
	if got := lines[0]["path"].(string); strings.ContainsAny(got, "\n\x1b") || len(got) > 4*lambdafn.MaxExcerpt+len("…") {
		t.Errorf("logged path %q is not a bounded, escaped excerpt", got)
	}
}
