// Command parse-callback is the Lambda@Edge function on the parse-auth and
// refresh paths.
package main

import (
	"github.com/edgeauth/edgeauth/functions/parse-callback/parsecallback"
	"github.com/edgeauth/edgeauth/shared/lambdafn"
)

func main() {
	lambdafn.Main("parse-callback", func(d lambdafn.Deps) (lambdafn.Handler, error) {
		h, err := parsecallback.New(d)
		if err != nil {
			return nil, err
		}
		return h.Handle, nil
	})
}
