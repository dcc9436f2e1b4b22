package idp

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"

	"golang.org/x/oauth2"
)

// maxErrorCode bounds the OAuth error code echoed into an error message.
const maxErrorCode = 64

// classify maps an x/oauth2 error onto the package's sentinels. It never
// includes the response body or x/oauth2's own message, which may quote it.
func classify(op string, err error) error {
	if re, ok := errors.AsType[*oauth2.RetrieveError](err); ok {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		return statusError(op, status, SafeErrorCode(re.ErrorCode))
	}
	return transportError(op, err)
}

// transportError classifies a failure to get a usable answer. Only causes
// that cannot quote the response are kept in the message: a context error
// (timeout, cancel) and a socket error (refused, reset), which name the
// endpoint's address at most. Anything else, such as x/oauth2's "cannot
// parse json" or net/http's "malformed MIME header line", may quote what the
// IdP sent, so it is reported without its text.
func transportError(op string, err error) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: %w: %w", op, ErrUnavailable, context.DeadlineExceeded)
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("%s: %w: %w", op, ErrUnavailable, context.Canceled)
	}
	if oe, ok := errors.AsType[*net.OpError](err); ok {
		return fmt.Errorf("%s: %w: %w", op, ErrUnavailable, oe)
	}
	// Certificate problems are the operator's to fix; their text names
	// certificates, not anything the IdP sent in a response.
	if ce, ok := errors.AsType[*tls.CertificateVerificationError](err); ok {
		return fmt.Errorf("%s: %w: %w", op, ErrUnavailable, ce)
	}
	if _, ok := errors.AsType[*url.Error](err); ok {
		return fmt.Errorf("%s: %w: transport failure", op, ErrUnavailable)
	}
	return fmt.Errorf("%s: %w: malformed response", op, ErrUnavailable)
}

// statusError classifies an HTTP answer that is not a success, or a success
// carrying an OAuth error code (some servers answer 200 with one).
func statusError(op string, status int, code string) error {
	switch {
	case code == "invalid_grant":
		return fmt.Errorf("%s: %w (error %q, status %d)", op, ErrInvalidGrant, code, status)
	case status >= 500 || status == http.StatusTooManyRequests:
		return fmt.Errorf("%s: %w (error %q, status %d)", op, ErrUnavailable, code, status)
	case code != "" || (status >= 400 && status < 500):
		return fmt.Errorf("%s: %w (error %q, status %d)", op, ErrRejected, code, status)
	default:
		return fmt.Errorf("%s: unexpected status %d: %w", op, status, ErrUnavailable)
	}
}

// errorCode reads RFC 6749 §5.2's "error" member from a JSON error body; ""
// when there is none or it is not a valid error code.
func errorCode(body []byte) string {
	var e struct {
		Error any `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	s, _ := e.Error.(string)
	return SafeErrorCode(s)
}

// SafeErrorCode returns code when it is a plausible RFC 6749 error code
// (printable ASCII without '"' or '\\', at most 64 bytes), else "invalid",
// so an IdP, or whoever forges its redirect, cannot smuggle arbitrary text
// (or a token) into a log line. Every OAuth error code the suite logs goes
// through it.
func SafeErrorCode(code string) string {
	if len(code) > maxErrorCode {
		return "invalid"
	}
	for i := 0; i < len(code); i++ {
		c := code[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return "invalid"
		}
	}
	return code
}
