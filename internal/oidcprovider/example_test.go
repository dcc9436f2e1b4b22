package oidcprovider_test

import (
	"context"
	"log"
	"net/http"
	"net/http/cookiejar"

	"golang.org/x/oauth2"

	"github.com/edgeauth/edgeauth/internal/oidcprovider"
)

// Start the provider for an edge on localhost:8080 with ES256-signed
// tokens, log alice in without a browser, get a JWT access token for the
// API and check the refresh token at the provider.
func ExampleStart() {
	ctx := context.Background()
	s, err := oidcprovider.Start(ctx, oidcprovider.Options{
		RedirectURIs: []string{"http://localhost:8080/parseauth"},
		IDTokenAlg:   oidcprovider.ES256, AccessTokenAlg: oidcprovider.ES256,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	jar, _ := cookiejar.New(nil)
	conf := s.OAuth2Config(s.Confidential, "http://localhost:8080/parseauth")
	verifier := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL("state", oauth2.S256ChallengeOption(verifier),
		oidcprovider.ConsentPrompt(), oidcprovider.WithResource(oidcprovider.DefaultResource))
	callback, err := s.Login(ctx, &http.Client{Jar: jar}, authURL, oidcprovider.DemoUsers()[0])
	if err != nil {
		log.Fatal(err)
	}
	// resource again at the token endpoint, or the access token is opaque.
	tok, err := conf.Exchange(ctx, callback.Query().Get("code"), oauth2.VerifierOption(verifier),
		oidcprovider.WithResource(oidcprovider.DefaultResource))
	if err != nil {
		log.Fatal(err)
	}
	_ = tok.AccessToken // a JWT, typ at+jwt, aud https://api.example.test

	active, err := s.RefreshTokenActive(ctx, tok.RefreshToken)
	if err != nil || !active {
		log.Fatal("the refresh token should be live")
	}
	// After an RP-initiated logout (s.EndSessionURL, s.Logout) or an RFC
	// 7009 revocation, s.LiveRefreshTokens tells a browser test what is left.
}
