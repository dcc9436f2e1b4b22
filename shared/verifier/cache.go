package verifier

import (
	"crypto/sha256"
	"time"

	"github.com/edgeauth/edgeauth/internal/lru"
)

// cacheKey identifies a verified token: the SHA-256 of the raw token (the
// token itself is never kept) and the use it was verified for.
type cacheKey struct {
	sum [sha256.Size]byte
	use TokenUse
}

// cache is a bounded LRU of verified identities. An entry is served only
// while the clock is before the token's exp (no skew: past exp the token is
// verified afresh, which applies the skew), so an expired token is never a
// cache hit.
type cache struct {
	l *lru.Cache[cacheKey, *Identity]
}

func newCache(max int) *cache { return &cache{l: lru.New[cacheKey, *Identity](max)} }

// get returns a copy of the identity cached under k, if any and not expired.
// Entries are never modified once stored; the copy keeps callers from
// changing the cached one.
func (c *cache) get(k cacheKey, now time.Time) (*Identity, bool) {
	id, ok := c.l.Get(k, now)
	if !ok {
		return nil, false
	}
	return id.Clone(), true
}

// put stores id (which the cache then owns) until its expiry, unless it is
// already expired, evicting the least recently used entry beyond the bound.
func (c *cache) put(k cacheKey, id *Identity, now time.Time) { c.l.Put(k, id, id.Expiry, now) }

// len reports the number of entries (for tests).
func (c *cache) len() int { return c.l.Len() }
