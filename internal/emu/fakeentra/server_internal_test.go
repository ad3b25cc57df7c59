package fakeentra

import "testing"

func TestAppendBoundedKeepsTheLastRecords(t *testing.T) {
	var log []int
	for i := 0; i < 1000; i++ {
		log = appendBounded(log, i, 10)
		if len(log) >= 20 {
			t.Fatalf("log grew to %d records", len(log))
		}
		got := lastN(log, 10)
		if got[len(got)-1] != i || (i >= 9 && (len(got) != 10 || got[0] != i-9)) {
			t.Fatalf("after %d: last records %v", i, got)
		}
	}
}
