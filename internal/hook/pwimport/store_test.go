package pwimport_test

import (
	"testing"

	"entra2okta/internal/hook/pwimport"
	"entra2okta/internal/testkit/storetest"
)

// TestMemoryStore runs the ShieldStore behaviour suite against the memory
// store, as internal/hookstore runs it against PostgreSQL.
func TestMemoryStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T, cfg pwimport.ShieldConfig) pwimport.ShieldStore {
		s, err := pwimport.NewMemoryStore(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, storetest.Options{})
}
