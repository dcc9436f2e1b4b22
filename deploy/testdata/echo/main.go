// Command echo is the bootstrap the bridge tests build: deploy/internal/echo
// behind aws-lambda-go's runtime loop, wired like the suite's functions.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/edgeauth/edgeauth/deploy/internal/echo"
)

func main() {
	lambda.StartHandlerFunc(echo.Handle)
}
