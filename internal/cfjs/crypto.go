package cfjs

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"hash"

	"github.com/dop251/goja"
)

// newHash returns the constructor for a digest cloudfront-js-2.0 offers:
// md5, sha1 and sha256, nothing else ("Crypto" in AWS's runtime 2.0 page).
func newHash(algorithm string) func() hash.Hash {
	switch algorithm {
	case "md5":
		return md5.New
	case "sha1":
		return sha1.New
	case "sha256":
		return sha256.New
	}
	return nil
}

// cryptoModule is the crypto module: createHash and createHmac. digest()
// takes hex, base64 or base64url, and without an encoding returns a Buffer
// (runtime 2.0; 1.0 returned a string).
func (e *env) cryptoModule() *goja.Object {
	m := e.r.NewObject()
	_ = m.Set("createHash", func(algorithm string) *goja.Object {
		newH := newHash(algorithm)
		if newH == nil {
			e.throw("createHash: digest %q is not supported: use md5, sha1 or sha256", algorithm)
		}
		return e.hashObject(newH())
	})
	_ = m.Set("createHmac", func(algorithm string, key goja.Value) *goja.Object {
		newH := newHash(algorithm)
		if newH == nil {
			e.throw("createHmac: digest %q is not supported: use md5, sha1 or sha256", algorithm)
		}
		return e.hashObject(hmac.New(newH, e.bytes(key, "key")))
	})
	return m
}

// hashObject wraps h in the object update() and digest() work on.
func (e *env) hashObject(h hash.Hash) *goja.Object {
	o := e.r.NewObject()
	done := false
	_ = o.Set("update", func(data goja.Value) *goja.Object {
		if done {
			e.throw("Digest already called")
		}
		h.Write(e.bytes(data, "data"))
		return o
	})
	_ = o.Set("digest", func(encoding goja.Value) goja.Value {
		if done {
			e.throw("Digest already called")
		}
		done = true
		sum := h.Sum(nil)
		if encoding == nil || goja.IsUndefined(encoding) {
			return e.buffer(sum)
		}
		switch enc := encoding.String(); enc {
		case "hex", "base64", "base64url":
			return e.r.ToValue(decodeBytes(sum, enc))
		default:
			e.throw("digest: encoding %q is not supported: use hex, base64 or base64url", enc)
		}
		return nil
	})
	return o
}

// bytes reads a string (as UTF-8) or a Buffer, typed array, DataView or
// ArrayBuffer.
func (e *env) bytes(v goja.Value, what string) []byte {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		e.throw("%s must be a string or a Buffer", what)
	}
	if s, ok := v.Export().(string); ok {
		return []byte(s)
	}
	if ab, ok := v.Export().(goja.ArrayBuffer); ok {
		return ab.Bytes()
	}
	o := v.ToObject(e.r)
	ab, ok := o.Get("buffer").Export().(goja.ArrayBuffer)
	if !ok {
		e.throw("%s must be a string or a Buffer", what)
	}
	off, n := int(o.Get("byteOffset").ToInteger()), int(o.Get("byteLength").ToInteger())
	return e.slice(ab, off, n)
}

// buffer makes a Buffer holding a copy of b.
func (e *env) buffer(b []byte) goja.Value {
	from, ok := goja.AssertFunction(e.r.Get("Buffer").ToObject(e.r).Get("from"))
	if !ok {
		e.throw("Buffer.from is not a function")
	}
	v, err := from(goja.Undefined(), e.r.ToValue(e.r.NewArrayBuffer(append([]byte(nil), b...))))
	if err != nil {
		panic(err)
	}
	return v
}
