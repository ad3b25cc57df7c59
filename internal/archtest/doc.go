// Package archtest holds tests of the module's architecture, run over the
// dependency graph `go list` reports: the domain types (internal/okta,
// internal/entra), the workflows, the activities and the
// hook packages link no SDK; the hook server links MSAL only through the ROPC
// verifier; and each SDK has exactly one adapter package that imports it
// (okta-sdk-golang: internal/okta/oktaclient; MSAL:
// internal/entra/ropc; msgraph-sdk-go: internal/graph). It has no non-test
// code.
package archtest
