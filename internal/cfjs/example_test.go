package cfjs_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/edgeauth/edgeauth/internal/cfjs"
)

// A viewer-request function that reads its KeyValueStore, run as the local
// edge runs it: the store is a file in CloudFront's import format, the
// code is compiled once (and refused as CloudFront would refuse it), and
// each request gets a fresh runtime. This is how a function generated from
// the suite's config (issue 11's viewer-level mode) plugs in: its code and
// its store file are named in the edge config's cloudfrontFunctions.
func ExampleCompile() {
	dir, err := os.MkdirTemp("", "cfjs-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	store := filepath.Join(dir, "kvs.json")
	if err := os.WriteFile(store, []byte(`{"data":[{"key":"maintenance","value":"on"}]}`), 0o600); err != nil {
		fmt.Println(err)
		return
	}
	kvs, err := cfjs.OpenKeyValueStore(store)
	if err != nil {
		fmt.Println(err)
		return
	}
	code := `import cf from 'cloudfront';
const kvs = cf.kvs();
async function handler(event) {
  if (await kvs.get('maintenance') === 'on') {
    return {statusCode: 503, headers: {'retry-after': {value: '60'}}, body: 'back soon'};
  }
  return event.request;
}`
	fn, err := cfjs.Compile("maintenance.js", []byte(code), cfjs.Options{KeyValueStore: kvs})
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := fn.Run(context.Background(), &cfjs.Event{
		Context: cfjs.Context{EventType: cfjs.ViewerRequest},
		Request: cfjs.Request{Method: "GET", URI: "/", QueryString: map[string]cfjs.Value{}, Headers: map[string]cfjs.Value{}, Cookies: map[string]cfjs.Cookie{}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Response.StatusCode, res.Response.Headers["retry-after"].Value, res.Response.Body.Data)
	// Output: 503 60 back soon
}

// Building an event's fields as CloudFront shows a repeated header: the
// first occurrence in value, every one in multiValue from the second on.
func ExampleAddValue() {
	h := map[string]cfjs.Value{}
	cfjs.AddValue(h, "accept", "text/html")
	fmt.Println(h["accept"].Value, len(h["accept"].MultiValue))
	cfjs.AddValue(h, "accept", "*/*")
	fmt.Println(h["accept"].Value, h["accept"].Values())
	// Output:
	// text/html 0
	// text/html [text/html */*]
}
