package verifier

import (
	"container/list"
	"crypto/sha256"
	"sync"
	"time"
)

// cacheKey identifies a verified token: the SHA-256 of the raw token (the
// token itself is never kept) and the use it was verified for.
type cacheKey struct {
	sum [sha256.Size]byte
	use TokenUse
}

type cacheEntry struct {
	key cacheKey
	id  *Identity
}

// cache is a bounded LRU of verified identities. An entry is served only
// while the clock is before the token's exp (no skew: past exp the token is
// verified afresh, which applies the skew), so an expired token is never a
// cache hit.
type cache struct {
	max int
	mu  sync.Mutex
	ll  list.List // front: most recently used
	m   map[cacheKey]*list.Element
}

func newCache(max int) *cache {
	return &cache{max: max, m: make(map[cacheKey]*list.Element, max)}
}

// get returns a copy of the identity cached under k, if any and not expired.
func (c *cache) get(k cacheKey, now time.Time) (*Identity, bool) {
	c.mu.Lock()
	e, ok := c.m[k]
	if !ok {
		c.mu.Unlock()
		return nil, false
	}
	id := e.Value.(*cacheEntry).id
	if !now.Before(id.Expiry) {
		c.ll.Remove(e)
		delete(c.m, k)
		c.mu.Unlock()
		return nil, false
	}
	c.ll.MoveToFront(e)
	c.mu.Unlock()
	// Entries are never modified once stored, so copying outside the lock
	// is safe; the copy keeps callers from changing the cached one.
	return id.Clone(), true
}

// put stores id (which the cache then owns) unless it is already expired,
// evicting the least recently used entry beyond the bound.
func (c *cache) put(k cacheKey, id *Identity, now time.Time) {
	if !now.Before(id.Expiry) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[k]; ok {
		e.Value.(*cacheEntry).id = id
		c.ll.MoveToFront(e)
		return
	}
	c.m[k] = c.ll.PushFront(&cacheEntry{key: k, id: id})
	for c.ll.Len() > c.max {
		last := c.ll.Back()
		c.ll.Remove(last)
		delete(c.m, last.Value.(*cacheEntry).key)
	}
}

// len reports the number of entries (for tests).
func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}
