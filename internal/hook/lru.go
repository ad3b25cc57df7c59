package hook

import "container/list"

// LRU is a size-bounded map that evicts its least recently used entry. It is
// not safe for concurrent use: its users guard it with their mutex.
type LRU[K comparable, V any] struct {
	max   int
	ll    *list.List // front = most recently used; elements hold *lruEntry
	items map[K]*list.Element
}

type lruEntry[K comparable, V any] struct {
	key K
	val V
}

// NewLRU returns an empty LRU holding at most max entries (at least 1).
func NewLRU[K comparable, V any](max int) *LRU[K, V] {
	if max < 1 {
		max = 1
	}
	return &LRU[K, V]{max: max, ll: list.New(), items: make(map[K]*list.Element)}
}

// Get returns the value of k and marks it recently used.
func (c *LRU[K, V]) Get(k K) (V, bool) {
	if e, ok := c.items[k]; ok {
		c.ll.MoveToFront(e)
		return e.Value.(*lruEntry[K, V]).val, true
	}
	var zero V
	return zero, false
}

// Put sets k to v, evicting the least recently used entry when full. It
// reports how many entries were evicted (0 or 1).
func (c *LRU[K, V]) Put(k K, v V) int {
	if e, ok := c.items[k]; ok {
		c.ll.MoveToFront(e)
		e.Value.(*lruEntry[K, V]).val = v
		return 0
	}
	c.items[k] = c.ll.PushFront(&lruEntry[K, V]{key: k, val: v})
	if c.ll.Len() <= c.max {
		return 0
	}
	last := c.ll.Back()
	c.ll.Remove(last)
	delete(c.items, last.Value.(*lruEntry[K, V]).key)
	return 1
}

// Remove deletes k.
func (c *LRU[K, V]) Remove(k K) {
	if e, ok := c.items[k]; ok {
		c.ll.Remove(e)
		delete(c.items, k)
	}
}

// Oldest returns the least recently used entry.
func (c *LRU[K, V]) Oldest() (K, V, bool) {
	if e := c.ll.Back(); e != nil {
		en := e.Value.(*lruEntry[K, V])
		return en.key, en.val, true
	}
	var (
		k K
		v V
	)
	return k, v, false
}

// Len returns the number of entries.
func (c *LRU[K, V]) Len() int { return c.ll.Len() }
