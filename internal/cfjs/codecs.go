package cfjs

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/dop251/goja"
)

// helpers is the object the prelude gets: the byte codecs behind Buffer,
// TextEncoder and TextDecoder.
func (e *env) helpers() *goja.Object {
	h := e.r.NewObject()
	_ = h.Set("refuse", func(what string) {
		panic(e.r.NewGoError(fmt.Errorf("%s is not supported: CloudFront Functions do not evaluate code at run time", what)))
	})
	_ = h.Set("encode", func(s, encoding string) goja.ArrayBuffer {
		return e.r.NewArrayBuffer(encodeString(s, encoding))
	})
	_ = h.Set("decode", func(ab goja.ArrayBuffer, off, n int, encoding string) string {
		return decodeBytes(e.slice(ab, off, n), encoding)
	})
	_ = h.Set("utf8", func(ab goja.ArrayBuffer, off, n int, fatal, ignoreBOM bool) string {
		b := e.slice(ab, off, n)
		if !ignoreBOM {
			b = []byte(strings.TrimPrefix(string(b), "\uFEFF"))
		}
		if fatal && !utf8.Valid(b) {
			e.throw("The encoded data was not valid for encoding utf-8")
		}
		return strings.ToValidUTF8(string(b), "\uFFFD")
	})
	return h
}

func (e *env) slice(ab goja.ArrayBuffer, off, n int) []byte {
	b := ab.Bytes()
	if off < 0 || n < 0 || off+n > len(b) {
		e.throw("offset out of range")
	}
	return b[off : off+n]
}

// encodeString turns a string into bytes as Buffer.from(s, encoding) does
// in Node, whose lenient decoding CloudFront's Buffer follows: hex stops at
// the first bad pair, base64 and base64url accept either alphabet, with or
// without padding, and skip what is not base64.
func encodeString(s, encoding string) []byte {
	switch encoding {
	case "hex":
		n := len(s) / 2
		out := make([]byte, 0, n)
		for i := 0; i < n; i++ {
			b, err := hex.DecodeString(s[2*i : 2*i+2])
			if err != nil {
				break
			}
			out = append(out, b[0])
		}
		return out
	case "base64", "base64url":
		var clean strings.Builder
		for i := 0; i < len(s); i++ {
			c := s[i]
			switch {
			case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '+', c == '/':
				clean.WriteByte(c)
			case c == '-':
				clean.WriteByte('+')
			case c == '_':
				clean.WriteByte('/')
			case c == '=':
				i = len(s) // padding ends the data
			}
		}
		t := clean.String()
		if len(t)%4 == 1 {
			t = t[:len(t)-1]
		}
		out, _ := base64.RawStdEncoding.DecodeString(t) // t is clean: cannot fail
		return out
	}
	return []byte(s)
}

// decodeBytes renders bytes as buf.toString(encoding) does.
func decodeBytes(b []byte, encoding string) string {
	switch encoding {
	case "hex":
		return hex.EncodeToString(b)
	case "base64":
		return base64.StdEncoding.EncodeToString(b)
	case "base64url":
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// btoa encodes a binary string (every character below U+0100) in base64.
func (e *env) btoa(s string) string {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xFF {
			e.throw("btoa: the string has a character outside Latin-1")
		}
		b = append(b, byte(r))
	}
	return base64.StdEncoding.EncodeToString(b)
}

// atob decodes base64 (ASCII whitespace ignored) into a binary string.
func (e *env) atob(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\n' || r == '\f' || r == '\r' {
			return -1
		}
		return r
	}, s)
	if len(s)%4 == 0 && strings.HasSuffix(s, "=") {
		s = strings.TrimRight(s, "=")
	}
	b, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil {
		e.throw("atob: the string is not valid base64")
	}
	runes := make([]rune, len(b))
	for i, c := range b {
		runes[i] = rune(c)
	}
	return string(runes)
}
