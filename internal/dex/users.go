package dex

import (
	"encoding/base64"
	"errors"
	"fmt"
)

// LocalConnector is the id of Dex's password-database connector, the one the
// static users log in through. It is part of every such user's subject.
const LocalConnector = "local"

// ErrBadSubject classifies a sub claim that is not a Dex subject.
var ErrBadSubject = errors.New("dex: not a dex subject")

// User is one static Dex user.
type User struct {
	Email    string // the login name on the password form
	Password string // plain text; only its bcrypt hash reaches Dex
	Username string // Dex's "name" claim; default: Email
	UserID   string // stable id, encoded into the sub claim (see [Subject])
	Groups   []string
}

// Subject returns the sub claim Dex gives user for logins through
// LocalConnector.
func (u User) Subject() string { return Subject(u.UserID, LocalConnector) }

// DemoUsers returns the demo site's users. Their ids are fixed so that the
// per-user pages under testdata/site/users/<sub>/ stay valid.
func DemoUsers() []User {
	return []User{
		{
			Email:    "alice@example.com",
			Password: "alice-demo-password",
			Username: "alice",
			UserID:   "8d5c3a6e-4f0b-4c1e-9a51-0a11ce000001",
			Groups:   []string{"admins", "staff"},
		},
		{
			Email:    "bob@example.com",
			Password: "bob-demo-password",
			Username: "bob",
			UserID:   "2b7e9f10-6c3d-4a8b-b2e4-000000b0b002",
			Groups:   []string{"staff"},
		},
	}
}

// Subject computes the sub claim Dex issues: not the user id verbatim but the
// unpadded base64url encoding of the protobuf message
// IDTokenSubject{user_id = 1; conn_id = 2} (dex server/internal/types.proto,
// encoded by server/internal/codec.go). Writing the two length-delimited
// fields by hand keeps the protobuf runtime out of the main module.
func Subject(userID, connectorID string) string {
	var b []byte
	b = appendField(b, 1, userID)
	b = appendField(b, 2, connectorID)
	return base64.RawURLEncoding.EncodeToString(b)
}

// appendField appends a proto3 string field; proto3 omits empty strings.
func appendField(b []byte, num int, s string) []byte {
	if s == "" {
		return b
	}
	b = appendVarint(b, uint64(num)<<3|2) // wire type 2: length-delimited
	b = appendVarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// ParseSubject decodes a Dex sub claim into the user id and connector id.
// It accepts exactly what [Subject] produces: the two string fields, each at
// most once, in any order.
func ParseSubject(sub string) (userID, connectorID string, err error) {
	b, err := base64.RawURLEncoding.DecodeString(sub)
	if err != nil {
		return "", "", fmt.Errorf("%w: %w", ErrBadSubject, err)
	}
	var seen [3]bool
	for len(b) > 0 {
		key, n := readVarint(b)
		if n == 0 {
			return "", "", fmt.Errorf("%w: bad field key", ErrBadSubject)
		}
		b = b[n:]
		num, wire := key>>3, key&7
		if wire != 2 || (num != 1 && num != 2) || seen[num] {
			return "", "", fmt.Errorf("%w: unexpected field %d", ErrBadSubject, num)
		}
		seen[num] = true
		l, n := readVarint(b)
		if n == 0 || l > uint64(len(b)-n) {
			return "", "", fmt.Errorf("%w: bad field length", ErrBadSubject)
		}
		v := string(b[n : n+int(l)])
		b = b[n+int(l):]
		if num == 1 {
			userID = v
		} else {
			connectorID = v
		}
	}
	if userID == "" || connectorID == "" {
		return "", "", fmt.Errorf("%w: missing user or connector id", ErrBadSubject)
	}
	return userID, connectorID, nil
}

// readVarint returns the value and its length in bytes, 0 when malformed.
func readVarint(b []byte) (uint64, int) {
	var v uint64
	for i := 0; i < len(b) && i < 10; i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i] < 0x80 {
			return v, i + 1
		}
	}
	return 0, 0
}
