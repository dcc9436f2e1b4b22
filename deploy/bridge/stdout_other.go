//go:build !unix

package bridge

import (
	"errors"
	"os"
)

// takeStdout: the bridge runs on Lambda (Linux) and on Unix development
// machines only.
func takeStdout() (*os.File, error) {
	return nil, errors.New("the Node.js bridge needs a Unix system")
}
