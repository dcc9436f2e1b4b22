package cfjs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/dop251/goja"
)

// KeyValueStore limits ("Quotas on key value stores").
const (
	MaxKeySize   = 512
	MaxValueSize = 1024
	MaxStoreSize = 5 * 1024 * 1024
)

// ErrKeyValueStore wraps every error reading a store file.
var ErrKeyValueStore = errors.New("cfjs: key value store")

// KeyValueStore is a local stand-in for a CloudFront KeyValueStore, read
// from a JSON file in the format CloudFront imports a store from:
//
//	{"data": [{"key": "k1", "value": "v1"}, ...]}
//
// The file is read again when it changes, so a test or a developer can
// rotate a key without restarting, as a KeyValueStore update needs no
// redeploy.
type KeyValueStore struct {
	path string

	mu      sync.Mutex
	modTime time.Time
	size    int64
	data    map[string]string
}

// OpenKeyValueStore reads and checks the store file at path.
func OpenKeyValueStore(path string) (*KeyValueStore, error) {
	k := &KeyValueStore{path: path}
	if _, err := k.snapshot(); err != nil {
		return nil, err
	}
	return k, nil
}

// snapshot returns the current data, reloading the file if it changed.
func (k *KeyValueStore) snapshot() (map[string]string, error) {
	fi, err := os.Stat(k.path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeyValueStore, err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.data != nil && fi.ModTime().Equal(k.modTime) && fi.Size() == k.size {
		return k.data, nil
	}
	if fi.Size() > MaxStoreSize {
		return nil, fmt.Errorf("%w: %s is %d bytes, over the 5 MB limit of a store", ErrKeyValueStore, k.path, fi.Size())
	}
	b, err := os.ReadFile(k.path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeyValueStore, err)
	}
	data, err := parseStore(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrKeyValueStore, k.path, err)
	}
	k.data, k.modTime, k.size = data, fi.ModTime(), fi.Size()
	return data, nil
}

func parseStore(b []byte) (map[string]string, error) {
	var f struct {
		Data []struct {
			Key   *string `json:"key"`
			Value *string `json:"value"`
		} `json:"data"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf(`want {"data": [{"key": "...", "value": "..."}]}: %w`, err)
	}
	data := make(map[string]string, len(f.Data))
	for i, kv := range f.Data {
		switch {
		case kv.Key == nil || *kv.Key == "":
			return nil, fmt.Errorf("data[%d]: no key", i)
		case kv.Value == nil:
			return nil, fmt.Errorf("data[%d]: no value", i)
		case len(*kv.Key) > MaxKeySize:
			return nil, fmt.Errorf("data[%d]: key of %d bytes, over the %d-byte limit", i, len(*kv.Key), MaxKeySize)
		case len(*kv.Value) > MaxValueSize:
			return nil, fmt.Errorf("data[%d]: value of %d bytes, over the %d-byte limit", i, len(*kv.Value), MaxValueSize)
		}
		if _, dup := data[*kv.Key]; dup {
			return nil, fmt.Errorf("data[%d]: key %q appears twice", i, *kv.Key)
		}
		data[*kv.Key] = *kv.Value
	}
	return data, nil
}

// cloudfrontModule is the cloudfront module: kvs() and logCustomData();
// the origin-modification helpers throw, not being modelled.
func (e *env) cloudfrontModule() *goja.Object {
	m := e.r.NewObject()
	_ = m.Set("kvs", func(goja.FunctionCall) goja.Value {
		// The id names the store on CloudFront; locally the function
		// has at most one, as CloudFront allows one per function.
		if e.f.opts.KeyValueStore == nil {
			panic(e.r.NewGoError(errors.New("no key value store is associated with this function")))
		}
		return e.kvsHandle(e.f.opts.KeyValueStore)
	})
	_ = m.Set("logCustomData", func(s string) {
		e.log("logCustomData", s)
	})
	for _, name := range []string{"updateRequestOrigin", "selectRequestOriginById", "createRequestOriginGroup"} {
		_ = m.Set(name, func(goja.FunctionCall) goja.Value {
			panic(e.r.NewGoError(fmt.Errorf("cf.%s is not modelled by the local edge", name)))
		})
	}
	return m
}

// kvsHandle is what cf.kvs() returns: get, exists and meta, each returning
// a promise, settled before the call returns.
func (e *env) kvsHandle(k *KeyValueStore) *goja.Object {
	h := e.r.NewObject()
	settle := func(f func() (any, error)) *goja.Promise {
		p, resolve, reject := e.r.NewPromise()
		v, err := f()
		if err != nil {
			_ = reject(e.r.NewGoError(err))
		} else {
			_ = resolve(v)
		}
		return p
	}
	_ = h.Set("get", func(key string, options goja.Value) *goja.Promise {
		return settle(func() (any, error) {
			format := "string"
			if o, ok := options.(*goja.Object); ok {
				if f := o.Get("format"); f != nil && !goja.IsUndefined(f) {
					format = f.String()
				}
			}
			data, err := k.snapshot()
			if err != nil {
				return nil, err
			}
			v, ok := data[key]
			if !ok {
				return nil, fmt.Errorf("key %q does not exist", key)
			}
			switch format {
			case "string":
				return v, nil
			case "json":
				return e.jsonParse(goja.Undefined(), e.r.ToValue(v))
			case "bytes":
				return e.buffer([]byte(v)), nil
			}
			return nil, fmt.Errorf("format %q: want string, json or bytes", format)
		})
	})
	_ = h.Set("exists", func(key string) *goja.Promise {
		return settle(func() (any, error) {
			data, err := k.snapshot()
			if err != nil {
				return nil, err
			}
			_, ok := data[key]
			return ok, nil
		})
	})
	_ = h.Set("meta", func() *goja.Promise {
		return settle(func() (any, error) {
			data, err := k.snapshot()
			if err != nil {
				return nil, err
			}
			k.mu.Lock()
			mod := k.modTime.UTC().Format(time.RFC3339)
			k.mu.Unlock()
			return map[string]any{"creationDateTime": mod, "lastUpdatedDateTime": mod, "keyCount": len(data)}, nil
		})
	})
	return h
}
