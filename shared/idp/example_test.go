package idp_test

import (
	"fmt"
	"maps"
	"net/url"
	"slices"

	"github.com/edgeauth/edgeauth/shared/idp"
)

// A login attempt: fresh state, nonce and PKCE verifier go into the
// login-state cookie, and the browser is sent to the authorize URL.
func ExampleProvider_AuthorizeURL() {
	p, err := idp.New(idp.Config{
		ClientID: "my-app-client",
		Endpoints: idp.Endpoints{
			Authorize: "https://auth.example.com/oauth2/authorize",
			Token:     "https://auth.example.com/oauth2/token",
		},
		Scopes:      []string{"openid", "email"},
		ExtraParams: map[string]string{"identity_provider": "Google"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// Real callers use idp.NewVerifier() and idp.NewNonce(); fixed values
	// keep the output stable. This verifier is RFC 7636's test vector.
	verifier := "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	u, _ := url.Parse(p.AuthorizeURL("https://d111.cloudfront.net/parseauth", "attempt-1", "nonce-1", verifier))

	fmt.Println(u.Scheme + "://" + u.Host + u.Path)
	q := u.Query()
	for _, k := range slices.Sorted(maps.Keys(q)) {
		fmt.Printf("%s=%s\n", k, q.Get(k))
	}
	// Output:
	// https://auth.example.com/oauth2/authorize
	// client_id=my-app-client
	// code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM
	// code_challenge_method=S256
	// identity_provider=Google
	// nonce=nonce-1
	// redirect_uri=https://d111.cloudfront.net/parseauth
	// response_type=code
	// scope=openid email
	// state=attempt-1
}
