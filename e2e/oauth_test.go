package e2e

import "golang.org/x/oauth2"

func oauth2S256(verifier string) []oauth2.AuthCodeOption {
	return []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier)}
}

func oauth2Verifier(verifier string) []oauth2.AuthCodeOption {
	return []oauth2.AuthCodeOption{oauth2.VerifierOption(verifier)}
}
