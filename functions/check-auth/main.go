// Command check-auth is the Lambda@Edge function on every protected path.
package main

import (
	"github.com/edgeauth/edgeauth/functions/check-auth/checkauth"
	"github.com/edgeauth/edgeauth/shared/lambdafn"
)

func main() {
	lambdafn.Main("check-auth", func(d lambdafn.Deps) (lambdafn.Handler, error) {
		h, err := checkauth.New(d)
		if err != nil {
			return nil, err
		}
		return h.Handle, nil
	})
}
