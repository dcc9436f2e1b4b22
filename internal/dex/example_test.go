package dex_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/cookiejar"
	"os"

	"golang.org/x/oauth2"

	"github.com/edgeauth/edgeauth/internal/dex"
)

// Dex's sub claim is not the user id: it encodes the user id and the
// connector the user logged in through.
func ExampleSubject() {
	alice := dex.DemoUsers()[0]
	fmt.Println(alice.Subject())
	userID, connector, err := dex.ParseSubject(alice.Subject())
	fmt.Println(userID, connector, err)
	// Output:
	// CiQ4ZDVjM2E2ZS00ZjBiLTRjMWUtOWE1MS0wYTExY2UwMDAwMDESBWxvY2Fs
	// 8d5c3a6e-4f0b-4c1e-9a51-0a11ce000001 local <nil>
}

// Start Dex for an edge on localhost:8080, write the suite's config for it,
// and log alice in without a browser.
func ExampleStart() {
	ctx := context.Background()
	s, err := dex.Start(ctx, dex.Options{RedirectURIs: []string{"http://localhost:8080/parseauth"}})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	cfg, err := s.SuiteConfig("http://localhost:8080")
	if err != nil {
		log.Fatal(err)
	}
	// The config holds the client secret and cookie keys.
	if err := os.WriteFile("config.json", cfg, 0o600); err != nil {
		log.Fatal(err)
	}

	jar, _ := cookiejar.New(nil)
	conf := s.OAuth2Config("http://localhost:8080/parseauth")
	verifier := oauth2.GenerateVerifier()
	callback, err := s.Login(ctx, &http.Client{Jar: jar}, conf.AuthCodeURL("state", oauth2.S256ChallengeOption(verifier)), dex.DemoUsers()[0])
	if err != nil {
		log.Fatal(err)
	}
	tok, err := conf.Exchange(ctx, callback.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		log.Fatal(err)
	}
	_ = tok.Extra("id_token")
}
