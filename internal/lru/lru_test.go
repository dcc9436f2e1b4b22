package lru

import (
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestExpiry(t *testing.T) {
	c := New[string, int](4)
	c.Put("a", 1, t0.Add(time.Minute), t0)
	for _, tt := range []struct {
		at   time.Time
		want bool
	}{
		{t0, true}, {t0.Add(time.Minute - time.Nanosecond), true}, {t0.Add(time.Minute), false},
		{t0, false}, // dropped at its deadline
	} {
		if _, ok := c.Get("a", tt.at); ok != tt.want {
			t.Errorf("Get at %v = %v, want %v", tt.at, ok, tt.want)
		}
	}
	c.Put("b", 2, t0, t0)
	if c.Len() != 0 {
		t.Error("an entry past its deadline was stored")
	}
}

func TestBoundAndRecency(t *testing.T) {
	c := New[int, int](3)
	until := t0.Add(time.Hour)
	for i := range 3 {
		c.Put(i, i, until, t0)
	}
	c.Get(0, t0) // 0 is now the most recent: 1 goes first
	c.Put(3, 3, until, t0)
	if _, ok := c.Get(1, t0); ok {
		t.Error("the least recently used entry survived")
	}
	for _, k := range []int{0, 2, 3} {
		if v, ok := c.Get(k, t0); !ok || v != k {
			t.Errorf("Get(%d) = %d, %v", k, v, ok)
		}
	}
	c.Put(2, 20, until, t0)
	if v, _ := c.Get(2, t0); v != 20 || c.Len() != 3 {
		t.Errorf("replacing: Get(2) = %d, Len %d", v, c.Len())
	}
	if New[int, int](0).max != 1 {
		t.Error("a cache of 0 entries")
	}
}

func TestConcurrent(t *testing.T) {
	c := New[int, int](8)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				c.Put((g*7+i)%16, i, t0.Add(time.Hour), t0)
				c.Get(i%16, t0)
			}
		})
	}
	wg.Wait()
	if c.Len() > 8 {
		t.Errorf("Len = %d over the bound", c.Len())
	}
}
