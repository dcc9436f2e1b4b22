package verifier_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/edgeauth/edgeauth/internal/testtoken"
	"github.com/edgeauth/edgeauth/shared/verifier"
)

// A Verifier is built once per cold start from the pinned key set; a bad
// config fails here, not on the first request.
func ExampleNew() {
	keys, err := testtoken.Load() // the repository's test keys; use the issuer's JWKS
	if err != nil {
		log.Fatal(err)
	}
	v, err := verifier.New(verifier.Config{
		Issuer:    "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_EXAMPLE",
		ClientID:  "example-client",
		Cognito:   true,
		JWKS:      keys.JWKS(),
		ClockSkew: 30 * time.Second,
	})
	fmt.Println(v != nil, err)

	_, err = verifier.New(verifier.Config{ClientID: "example-client", JWKS: keys.JWKS()})
	fmt.Println(err)
	// Output:
	// true <nil>
	// verifier: issuer: is required
}

// Verify takes the token from an Authorization header and says who it
// speaks for; errors are classified with errors.Is.
func ExampleVerifier_Verify() {
	const iss = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_EXAMPLE"
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	keys, err := testtoken.Load()
	if err != nil {
		log.Fatal(err)
	}
	v, err := verifier.New(verifier.Config{
		Issuer: iss, ClientID: "example-client", Cognito: true, JWKS: keys.JWKS(),
		ClockSkew: 30 * time.Second, Now: func() time.Time { return now },
	})
	if err != nil {
		log.Fatal(err)
	}
	token, err := keys.Mint(map[string]any{"alg": "RS256", "kid": testtoken.KeyID1},
		testtoken.CognitoAccess(iss, "example-client", "user-1", []string{"admins"}, now.Add(time.Hour)))
	if err != nil {
		log.Fatal(err)
	}

	raw, err := verifier.ParseBearer("Bearer " + token)
	if err != nil {
		log.Fatal(err)
	}
	id, err := v.Verify(context.Background(), raw, verifier.UseAccess)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(id.Subject, id.Groups, id.TokenUse, id.Expiry)

	// An access token is not an ID token.
	_, err = v.Verify(context.Background(), raw, verifier.UseID)
	fmt.Println(errors.Is(err, verifier.ErrTokenUse))
	// Output:
	// user-1 [admins] access 2026-01-01 01:00:00 +0000 UTC
	// true
}
