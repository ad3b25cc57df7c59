// Package redact holds a password or other secret so that no formatting can
// print it: fmt (every verb, %v of a struct that holds it included),
// log/slog and encoding/json all render it as Redacted. Only Reveal gives
// the value, at the one place that must send it (a password check).
package redact

import (
	"fmt"
	"log/slog"
)

// Redacted is what every rendering of a String shows.
const Redacted = "[redacted]"

// String is a secret value. It holds the value behind a pointer: fmt cannot
// call the methods of an unexported field, and prints a pointer inside a
// struct as an address, so even a struct that keeps a String in an
// unexported field prints no value.
type String struct{ p *string }

// New holds v.
func New(v string) String { return String{p: &v} }

// Reveal returns the value: call it only where the value is sent.
func (s String) Reveal() string {
	if s.p == nil {
		return ""
	}
	return *s.p
}

// Len is the value's length in bytes.
func (s String) Len() int { return len(s.Reveal()) }

// Empty reports whether no value is held.
func (s String) Empty() bool { return s.Reveal() == "" }

// String implements fmt.Stringer.
func (String) String() string { return Redacted }

// GoString implements fmt.GoStringer (%#v).
func (String) GoString() string { return Redacted }

// Format implements fmt.Formatter: every verb prints Redacted.
func (String) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(Redacted)) }

// LogValue implements slog.LogValuer.
func (String) LogValue() slog.Value { return slog.StringValue(Redacted) }

// MarshalJSON renders Redacted, never the value.
func (String) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// MarshalText renders Redacted, never the value.
func (String) MarshalText() ([]byte, error) { return []byte(Redacted), nil }
