package viewerfn_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/edgeauth/edgeauth/deploy/viewerfn"
	"github.com/edgeauth/edgeauth/internal/cfjs"
	"github.com/edgeauth/edgeauth/shared/config"
)

// Generate the function from a config, write its KeyValueStore file, and
// run it as the local edge does: a request without a session gets the
// per-credential key, a public path the shared one.
func ExampleGenerate() {
	c, err := config.Load(filepath.Join("..", "..", "testdata", "config", "cognito.json"))
	if err != nil {
		log.Fatal(err)
	}
	fn, err := viewerfn.Generate(c, viewerfn.Options{})
	if err != nil {
		log.Fatal(err)
	}
	store, err := fn.KVSFile()
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "viewerfn-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "viewer-kvs.json")
	if err := os.WriteFile(path, store, 0o600); err != nil {
		log.Fatal(err)
	}
	kv, err := cfjs.OpenKeyValueStore(path)
	if err != nil {
		log.Fatal(err)
	}
	f, err := cfjs.Compile("viewer-function.js", fn.Code, cfjs.Options{KeyValueStore: kv})
	if err != nil {
		log.Fatal(err)
	}
	for _, uri := range []string{"/public/", "/docs/x"} {
		res, err := f.Run(context.Background(), &cfjs.Event{
			Context: cfjs.Context{EventType: cfjs.ViewerRequest},
			Request: cfjs.Request{Method: "GET", URI: uri, Headers: map[string]cfjs.Value{
				"host":                 {Value: "www.example.com"},
				"x-edgeauth-cache-key": {Value: "shared"}, // forged: replaced
			}},
		})
		if err != nil {
			log.Fatal(err)
		}
		key := res.Request.Headers["x-edgeauth-cache-key"].Value
		fmt.Println(res.Request.URI, key[:2])
	}
	// Output:
	// /public/index.html sh
	// /docs/x c-
}
