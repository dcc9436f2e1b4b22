// Package lru is a bounded least-recently-used cache whose entries expire:
// what the verifier keeps of verified tokens and introspection of its
// answers. An entry is served only while the clock is before its deadline,
// so nothing is ever served past the time its owner gave it.
package lru

import (
	"container/list"
	"sync"
	"time"
)

// Cache maps K to V, holding at most a fixed number of entries. It is safe
// for concurrent use. Values are handed out as stored: a caller that may
// change one must store and return copies.
type Cache[K comparable, V any] struct {
	max int
	mu  sync.Mutex
	ll  list.List // front: most recently used
	m   map[K]*list.Element
}

type entry[K comparable, V any] struct {
	key   K
	val   V
	until time.Time
}

// New returns a cache of at most size entries (at least 1).
func New[K comparable, V any](size int) *Cache[K, V] {
	size = max(size, 1)
	return &Cache[K, V]{max: size, m: make(map[K]*list.Element, size)}
}

// Get returns the value stored under k if now is before its deadline; an
// entry at or past its deadline is dropped.
func (c *Cache[K, V]) Get(k K, now time.Time) (V, bool) {
	var zero V
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok {
		return zero, false
	}
	en := e.Value.(*entry[K, V])
	if !now.Before(en.until) {
		c.ll.Remove(e)
		delete(c.m, k)
		return zero, false
	}
	c.ll.MoveToFront(e)
	return en.val, true
}

// Put stores v under k until the deadline, unless it has already passed,
// evicting the least recently used entry beyond the bound.
func (c *Cache[K, V]) Put(k K, v V, until, now time.Time) {
	if !now.Before(until) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[k]; ok {
		en := e.Value.(*entry[K, V])
		en.val, en.until = v, until
		c.ll.MoveToFront(e)
		return
	}
	c.m[k] = c.ll.PushFront(&entry[K, V]{key: k, val: v, until: until})
	for c.ll.Len() > c.max {
		last := c.ll.Back()
		c.ll.Remove(last)
		delete(c.m, last.Value.(*entry[K, V]).key)
	}
}

// Len reports the number of entries, expired ones not yet dropped included.
func (c *Cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}
