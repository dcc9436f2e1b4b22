// Command sign-out is the Lambda@Edge function on the sign-out path.
package main

import (
	"github.com/edgeauth/edgeauth/functions/sign-out/signout"
	"github.com/edgeauth/edgeauth/shared/lambdafn"
)

func main() {
	lambdafn.Main("sign-out", func(d lambdafn.Deps) (lambdafn.Handler, error) {
		h, err := signout.New(d)
		if err != nil {
			return nil, err
		}
		return h.Handle, nil
	})
}
