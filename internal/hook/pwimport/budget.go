package pwimport

import (
	"container/list"
	"time"
)

// failureLog is one key's record of charged attempts: the times of the checks
// that reached Entra and that Entra may have counted as failures (in flight,
// or answered by a failure). Times are kept for the table's horizon only.
type failureLog struct {
	times     []stamp
	coolUntil time.Time // no check before (after an Entra lockout)
	touched   time.Time // latest charge or cool-down: the entry is live until touched + horizon
}

// stamp is one charge: when it was made, and whether Entra has answered it.
type stamp struct {
	at      time.Time
	id      uint64
	settled bool
}

// since counts the charges after t. It counts charges timed after now too:
// concurrent callers may take their clocks out of order, and a charge in the
// future of this caller still belongs in every window this caller checks.
func (f *failureLog) since(t time.Time) int {
	n := 0
	for _, c := range f.times {
		if c.at.After(t) {
			n++
		}
	}
	return n
}

// prune forgets charges at or before t.
func (f *failureLog) prune(t time.Time) {
	f.keep(func(c stamp) bool { return c.at.After(t) })
}

// keep keeps the charges for which ok is true.
func (f *failureLog) keep(ok func(stamp) bool) {
	kept := f.times[:0]
	for _, c := range f.times {
		if ok(c) {
			kept = append(kept, c)
		}
	}
	clear(f.times[len(kept):])
	f.times = kept
}

// refund removes charge id, if still held.
func (f *failureLog) refund(id uint64) {
	f.keep(func(c stamp) bool { return c.id != id })
}

// settle marks charge id as answered (and counted).
func (f *failureLog) settle(id uint64) {
	for i := range f.times {
		if f.times[i].id == id {
			f.times[i].settled = true
		}
	}
}

// clearSettled forgets the answered charges (after a verified sign-in reset
// Entra's count) but keeps those still in flight, which Entra may count after
// the reset.
func (f *failureLog) clearSettled() {
	f.keep(func(c stamp) bool { return !c.settled })
}

// empty reports whether the log holds nothing that constrains a check at now.
func (f *failureLog) empty(now time.Time) bool {
	return len(f.times) == 0 && !now.Before(f.coolUntil)
}

// budgetTable holds failure logs by key, at most max of them. An entry is
// live while it may still refuse or count a check: until its last charge or
// cool-down plus horizon. A live entry is never evicted: when the table is
// full of live entries, a new key is refused (fail closed) rather than
// handing an attacker a fresh budget for a victim by touching other keys.
// Not safe for concurrent use; the shield guards it with its mutex.
type budgetTable struct {
	max     int
	horizon time.Duration
	ll      *list.List // front = most recently touched; values *budgetEntry
	items   map[string]*list.Element
}

type budgetEntry struct {
	key string
	log failureLog
}

func newBudgetTable(max int, horizon time.Duration) *budgetTable {
	if max < 1 {
		max = 1
	}
	return &budgetTable{max: max, horizon: horizon, ll: list.New(), items: make(map[string]*list.Element)}
}

// get returns k's log, or nil.
func (t *budgetTable) get(k string) *failureLog {
	if e, ok := t.items[k]; ok {
		return &e.Value.(*budgetEntry).log
	}
	return nil
}

// getOrCreate returns k's log, creating it; nil when the table is full of
// live entries. A dead entry (least recently touched first) makes room.
func (t *budgetTable) getOrCreate(k string, now time.Time) *failureLog {
	if f := t.get(k); f != nil {
		return f
	}
	if t.ll.Len() >= t.max {
		back := t.ll.Back()
		be := back.Value.(*budgetEntry)
		if !t.dead(&be.log, now) {
			return nil
		}
		t.ll.Remove(back)
		delete(t.items, be.key)
	}
	e := t.ll.PushFront(&budgetEntry{key: k})
	t.items[k] = e
	return &e.Value.(*budgetEntry).log
}

// dead reports whether f can no longer refuse or count anything.
func (t *budgetTable) dead(f *failureLog, now time.Time) bool {
	return !now.Before(f.touched.Add(t.horizon)) && !now.Before(f.coolUntil)
}

// touch marks k's log as changed at now (a charge or a cool-down).
func (t *budgetTable) touch(k string, now time.Time) {
	e, ok := t.items[k]
	if !ok {
		return
	}
	f := &e.Value.(*budgetEntry).log
	if now.After(f.touched) {
		f.touched = now
	}
	t.ll.MoveToFront(e)
}

// remove deletes k.
func (t *budgetTable) remove(k string) {
	if e, ok := t.items[k]; ok {
		t.ll.Remove(e)
		delete(t.items, k)
	}
}

// dropIfEmpty deletes k when its log no longer constrains anything.
func (t *budgetTable) dropIfEmpty(k string, now time.Time) {
	if f := t.get(k); f != nil && f.empty(now) {
		t.remove(k)
	}
}

func (t *budgetTable) len() int { return t.ll.Len() }
