package settings

// The settings below are read by more than one binary; each is declared once,
// here, so that the binaries' flags, environment variables and help agree.

// Temporal declares the Temporal frontend's address and namespace
// (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE); without them Temporal's
// environment configuration (TEMPORAL_PROFILE) decides, else defAddr and
// defNamespace.
func (s *Set) Temporal(addr, namespace *string, defAddr, defNamespace string) {
	s.String(addr, Setting{Flag: "temporal-address", Env: "TEMPORAL_ADDRESS", Default: "the TEMPORAL_PROFILE's, else " + defAddr,
		Help: "Temporal frontend host:port"})
	s.String(namespace, Setting{Flag: "temporal-namespace", Env: "TEMPORAL_NAMESPACE", Default: "the TEMPORAL_PROFILE's, else " + defNamespace,
		Help: "Temporal namespace"})
}

// EntraTenant declares the Entra ID tenant (ENTRA_TENANT_ID) and the
// authority host its sign-ins and tokens come from (ENTRA_AUTHORITY_HOST).
func (s *Set) EntraTenant(tenantID, authorityHost *string) {
	s.String(tenantID, Setting{Flag: "entra-tenant-id", Env: "ENTRA_TENANT_ID", Help: "Entra ID tenant id or verified domain"})
	s.String(authorityHost, Setting{Flag: "entra-authority-host", Env: "ENTRA_AUTHORITY_HOST", Help: "Entra authority host"})
}

// LogLevel declares the log level (LOG_LEVEL): debug, info, warn or error.
func (s *Set) LogLevel(level *string) {
	s.String(level, Setting{Flag: "log-level", Env: "LOG_LEVEL", Help: "debug, info, warn or error"})
}
