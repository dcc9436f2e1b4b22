// Command bootstrap is the one binary the suite ships: the three
// Lambda@Edge functions (check-auth, parse-callback, sign-out) in one
// executable, packaged once in one zip that all three functions use. Each
// runs the function its Lambda function's name ends in (lambdafn.Select):
// the template names them <stack>-check-auth, <stack>-parse-callback and
// <stack>-sign-out, and Lambda@Edge's replicas us-east-1.<name>.
//
// It runs under the Node.js bridge (deploy/bridge) on Lambda@Edge, and
// under the Lambda Runtime API otherwise (the local edge's -invoke
// runtime-api, or a regular Lambda function).
package main

import (
	"github.com/edgeauth/edgeauth/functions/check-auth/checkauth"
	"github.com/edgeauth/edgeauth/functions/parse-callback/parsecallback"
	"github.com/edgeauth/edgeauth/functions/sign-out/signout"
	"github.com/edgeauth/edgeauth/shared/lambdafn"
)

func main() {
	lambdafn.MainMulti(map[string]lambdafn.Builder{
		"check-auth":     lambdafn.BuilderOf(checkauth.New),
		"parse-callback": lambdafn.BuilderOf(parsecallback.New),
		"sign-out":       lambdafn.BuilderOf(signout.New),
	})
}
