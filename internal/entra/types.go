// Package entra holds our Entra ID types (directory users, groups, domains)
// and what a password check establishes (Verdict, Result, the Reason values,
// the Policy of contested AADSTS codes and Classify). It imports no SDK: the
// password verifier over MSAL Go's public-client ROPC flow is
// entra2okta/internal/entra/ropc. The Microsoft Graph adapter
// (internal/graph) returns the directory types defined here, so that packages
// which need the types do not compile msgraph-sdk-go, whose models package
// alone needs minutes and about 4.5 GB of memory to compile.
package entra

import "time"

// User is an Entra ID user as read from Microsoft Graph.
type User struct {
	ID                string
	UserPrincipalName string
	Mail              string
	AccountEnabled    bool
	UserType          string // "Member" or "Guest"
	// Attributes holds every selected Graph property by its Graph name
	// (givenName, surname, businessPhones, ...), as decoded JSON values
	// (string, bool, float64, []any, nil). ManagerUPN is added as
	// "manager.userPrincipalName" when requested.
	Attributes map[string]any
}

// Domain is a verified domain of the tenant (Graph /domains).
type Domain struct {
	ID                 string // the domain name, e.g. contoso.com
	AuthenticationType string // "Managed" or "Federated"
	IsVerified         bool
}

// Source selects users for a batch: exactly one of the fields is set.
type Source struct {
	GroupID string   // transitive members of this group
	Filter  string   // a Graph $filter over /users
	Logins  []string // explicit user principal names (at most MaxInlineLogins)
	All     bool     // every user
	// CSV is a file of user principal names that the workers read a page at
	// a time, for lists too long to ride in a workflow's input.
	CSV *CSVFile
}

// MaxInlineLogins bounds Source.Logins: 5,000 logins of up to 64 bytes stay
// well under Temporal's 2 MB payload limit in every input that carries them;
// a longer list goes in a CSVFile.
const MaxInlineLogins = 5000

// CSVFile is a CSV of logins (one per row, first column; an optional header
// row whose first cell is "login", "upn" or "userPrincipalName"), at a path
// every worker can read. SHA256 (hex) pins its content: a worker that finds
// another content fails the listing rather than migrating other users.
type CSVFile struct {
	Path   string
	SHA256 string
	Rows   int // logins in the file, for progress
}

// UserPage is one page of users and the cursor of the next one ("" at the end).
type UserPage struct {
	Users []User
	Next  string
}

// Verdict is what a password check established.
type Verdict string

const (
	// Verified: Entra accepted the password (possibly with an interrupt that
	// policy accepts, such as MFA required).
	Verified Verdict = "verified"
	// Rejected: the password is wrong, or the account must not be migrated.
	Rejected Verdict = "rejected"
	// Indeterminate: no statement about the password (throttled, locked, timed
	// out, misconfigured). Never to be treated as verified.
	Indeterminate Verdict = "indeterminate"
)

// Result is the outcome of one password check. It never holds the password or
// a token.
type Result struct {
	Verdict Verdict
	// Code is the first AADSTS code of Entra's answer (0 on success or when no
	// answer was received).
	Code int
	// Reason is a short, stable, log-safe reason: "ok", "wrong_password",
	// "mfa_required", "locked", "timeout", "throttled", ...
	Reason string
	// RetryAfter is set when Entra throttled us (429 Retry-After).
	RetryAfter time.Duration
	// Latency is the time spent talking to Entra.
	Latency time.Duration
	// ObjectID and TenantID are the oid and tid claims of the ID token
	// Entra issued when it accepted the password (Reason "ok"): the
	// immutable object ID of the account that holds the username now, and
	// its tenant
	// (https://learn.microsoft.com/en-us/entra/identity-platform/id-token-claims-reference).
	// Both are "" for every other result, including a password accepted
	// with an MFA or other interrupt, which comes with no token.
	ObjectID string
	TenantID string
}

// DefaultAuthorityHost is the Entra ID authority of the public cloud.
const DefaultAuthorityHost = "https://login.microsoftonline.com"
