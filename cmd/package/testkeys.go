package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/edgeauth/edgeauth/shared/config"
)

// testKeyWarnings names what of cfg is the repository's own test material,
// whose secrets are public: a session key pair copied from an example config
// (anyone could forge sessions with it), or a JWKS key from testdata/keys
// (anyone could sign tokens it verifies). It reads them from the module
// root; files that are not there are skipped. Warnings name files and key
// ids only, never a key.
func testKeyWarnings(root string, cfg *config.Config) []string {
	var out []string
	examples, _ := filepath.Glob(filepath.Join(root, "testdata", "config", "*.json"))
	examples = append(examples, filepath.Join(root, "deploy", "testdata", "config.json"))
	for i, k := range cfg.Keys {
		for _, ex := range examples {
			if hasHashKey(ex, k.Hash) {
				rel, _ := filepath.Rel(root, ex)
				out = append(out, fmt.Sprintf("keys[%d] is the test key pair of %s: anyone can forge sessions with it; "+
					"leave \"keys\" out and make package generates a pair", i, rel))
				break
			}
		}
	}
	test := testModuli(filepath.Join(root, "testdata", "keys", "jwks.json"))
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
			N   string `json:"n"`
		} `json:"keys"`
	}
	if json.Unmarshal(cfg.JWKS, &set) == nil {
		for _, k := range set.Keys {
			if k.N != "" && test[k.N] {
				out = append(out, fmt.Sprintf("jwks key %q is a test key of testdata/keys, whose private half is public: "+
					"anyone can sign tokens it verifies; leave \"jwks\" out and make package fetches the issuer's", k.Kid))
			}
		}
	}
	return out
}

func hasHashKey(path string, hash []byte) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	var c struct {
		Keys []config.KeyPair `json:"keys"`
	}
	if json.Unmarshal(b, &c) != nil {
		return false
	}
	for _, k := range c.Keys {
		if bytes.Equal(k.Hash, hash) {
			return true
		}
	}
	return false
}

func testModuli(path string) map[string]bool {
	out := map[string]bool{}
	b, err := os.ReadFile(path)
	if err != nil {
		return out
	}
	var set struct {
		Keys []struct {
			N string `json:"n"`
		} `json:"keys"`
	}
	if json.Unmarshal(b, &set) == nil {
		for _, k := range set.Keys {
			out[k.N] = true
		}
	}
	return out
}
