package entra

// Reasons are the stable, log-safe Result.Reason values. They name what Entra
// answered, never what was typed.
const (
	ReasonOK                    = "ok"                          // tokens issued (200)
	ReasonWrongPassword         = "wrong_password"              // 50126 (managed user)
	ReasonUnknownUser           = "unknown_user"                // 50034
	ReasonUnknownDomain         = "unknown_domain"              // UserRealm without domain_name: no tenant owns the domain
	ReasonExternalUser          = "external_user"               // 50020, 16000: guest / other identity provider
	ReasonMFARequired           = "mfa_required"                // 50076
	ReasonMFAEnrollment         = "mfa_enrollment_required"     // 50079, 50072
	ReasonMFAInterrupt          = "mfa_interrupt"               // 50074
	ReasonExternalChallenge     = "external_challenge_required" // 50158
	ReasonConditionalAccess     = "conditional_access_blocked"  // 53003
	ReasonPasswordExpired       = "password_expired"            // 50055, 50144
	ReasonCompromised           = "compromised_password"        // 50135
	ReasonDisabled              = "disabled"                    // 50057
	ReasonNoPassword            = "no_password"                 // 50056
	ReasonLocked                = "locked"                      // 50053: smart lockout or blocked IP
	ReasonFederated             = "federated"                   // UserRealm says Federated: MSAL would go to ADFS
	ReasonNotAssigned           = "not_assigned"                // 50105: app requires assignment
	ReasonTenantNotFound        = "tenant_not_found"            // 90002, 50059, 50128
	ReasonBadAuthority          = "bad_authority"               // 9001023: /common or /consumers
	ReasonAppNotPublic          = "app_not_public_client"       // 7000218
	ReasonAppNotFound           = "app_not_found"               // 700016
	ReasonClientCredential      = "client_credential_error"     // 7000215, 7000222, 70002, 700025
	ReasonConsentMissing        = "consent_missing"             // 65001
	ReasonAppMisconfigured      = "app_misconfigured"           // 65005, 650056, 70011, 500011
	ReasonSecurityDefaults      = "security_defaults_blocked"   // 530035
	ReasonUnexpectedInteraction = "unexpected_interaction"      // 50199, 50173, 500121
	ReasonThrottled             = "throttled"                   // HTTP 429, 50196 (loop detected)
	ReasonTransient             = "transient"                   // 90033, 90055, 90090, 90006, 50033, 80001-80014
	ReasonUnavailable           = "unavailable"                 // 5xx, connection refused or reset
	ReasonTimeout               = "timeout"                     // the caller's deadline passed
	ReasonCanceled              = "canceled"                    // the caller's context was canceled
	ReasonScopeDeclined         = "scope_declined"              // 200 with fewer scopes than requested (MSAL: "declined scopes are present")
	ReasonBadResponse           = "bad_response"                // an answer we could not interpret
	ReasonUnknownCode           = "unknown_code"                // an AADSTS code not in the table
	ReasonEmptyCredentials      = "empty_credentials"           // empty username or password: Entra is not asked
	ReasonInvalidRequest        = "invalid_request"             // 900144, 90014: a required field was missing
)

// Policy decides the contested AADSTS codes: answers in which Entra did
// validate the password but refused tokens for another reason (MFA required,
// password expired, Conditional Access).
type Policy struct {
	// MFAVerified accepts 50076/50079/50074/50072/50158 (MFA or an external
	// challenge required) as a verified password: Okta applies its own MFA.
	MFAVerified bool
	// PasswordExpiredVerified accepts 50055/50144 (expired password).
	PasswordExpiredVerified bool
	// ConditionalAccessVerified accepts 53003 (blocked by conditional
	// access), for tenants whose CA rule targets only the verifier app.
	ConditionalAccessVerified bool
}

// DefaultPolicy: MFA required ⇒ verified (without it most MFA-enforced users
// could never migrate); expired ⇒ rejected (Entra itself refuses it);
// conditional access ⇒ rejected (it may be a deliberate block of the user).
func DefaultPolicy() Policy { return Policy{MFAVerified: true} }

func policyVerdict(ok bool) Verdict {
	if ok {
		return Verified
	}
	return Rejected
}

// Classify maps an AADSTS code to a verdict and a log-safe reason, following
// what each code says about the password (codes: https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes).
// Code 0 is a success.
// Codes that make no statement about the password (lockout, throttling,
// configuration, transient errors) are Indeterminate, never Verified.
func Classify(code int, p Policy) (Verdict, string) {
	switch code {
	case 0:
		return Verified, ReasonOK
	case 50126:
		return Rejected, ReasonWrongPassword
	case 50034:
		return Rejected, ReasonUnknownUser
	case 50020, 16000:
		return Rejected, ReasonExternalUser
	case 50076:
		return policyVerdict(p.MFAVerified), ReasonMFARequired
	case 50079, 50072:
		return policyVerdict(p.MFAVerified), ReasonMFAEnrollment
	case 50074:
		return policyVerdict(p.MFAVerified), ReasonMFAInterrupt
	case 50158:
		return policyVerdict(p.MFAVerified), ReasonExternalChallenge
	case 53003:
		return policyVerdict(p.ConditionalAccessVerified), ReasonConditionalAccess
	case 50055, 50144:
		return policyVerdict(p.PasswordExpiredVerified), ReasonPasswordExpired
	case 50135:
		return Rejected, ReasonCompromised
	case 50057:
		return Rejected, ReasonDisabled
	case 50056:
		return Rejected, ReasonNoPassword
	case 50053:
		return Indeterminate, ReasonLocked
	case 50105:
		return Indeterminate, ReasonNotAssigned
	case 90002, 50059, 50128:
		return Indeterminate, ReasonTenantNotFound
	case 9001023:
		return Indeterminate, ReasonBadAuthority
	case 7000218:
		return Indeterminate, ReasonAppNotPublic
	case 700016:
		return Indeterminate, ReasonAppNotFound
	case 7000215, 7000222, 70002, 700025:
		return Indeterminate, ReasonClientCredential
	case 65001:
		return Indeterminate, ReasonConsentMissing
	case 65005, 650056, 70011, 500011:
		return Indeterminate, ReasonAppMisconfigured
	case 530035:
		return Indeterminate, ReasonSecurityDefaults
	case 50199, 50173, 500121:
		return Indeterminate, ReasonUnexpectedInteraction
	case 50196:
		return Indeterminate, ReasonThrottled
	case 900144, 90014:
		return Indeterminate, ReasonInvalidRequest
	case 90033, 90055, 90090, 90006, 50033:
		return Indeterminate, ReasonTransient
	}
	if code >= 80001 && code <= 80014 {
		return Indeterminate, ReasonTransient
	}
	return Indeterminate, ReasonUnknownCode
}
