// Package e2e holds the end-to-end and fault-injection suite of entra2okta:
// the real Temporal dev server, the worker (in-process or as a
// real process), the hook server and both emulators, driven through the real
// SDKs, with one fault injected per test. The package has no non-test code
// besides this comment; see docs/testing.md for the faults covered and how to run
// the suite alone.
package e2e
