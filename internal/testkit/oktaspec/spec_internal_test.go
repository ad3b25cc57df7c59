package oktaspec

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// TestAbsentDescription: with the override pointing nowhere, loading fails
// with ErrAbsent and Skip skips (not fails) the test with a message saying
// how to get the description.
func TestAbsentDescription(t *testing.T) {
	t.Setenv(EnvPath, filepath.Join(t.TempDir(), "missing.yaml"))
	_, err := load()
	if !errors.Is(err, ErrAbsent) {
		t.Fatalf("load() error = %v, want ErrAbsent", err)
	}

	var skipped bool
	var msg string
	rec := &recordingTB{TB: t}
	t.Run("skip", func(st *testing.T) {
		rec.TB = st
		defer func() { skipped = st.Skipped() }()
		skipFor(rec, nil, err)
		st.Error("skipFor returned instead of skipping")
	})
	msg = rec.msg
	if !skipped {
		t.Fatal("test was not skipped")
	}
	if !strings.Contains(msg, EnvPath) || !strings.Contains(msg, "not found") {
		t.Errorf("skip message %q should say the description was not found and name %s", msg, EnvPath)
	}
}

// TestPathDefault: without the override the description is looked for
// beside the checkout, relative to the module root.
func TestPathDefault(t *testing.T) {
	t.Setenv(EnvPath, "")
	p, err := Path()
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.FromSlash("shared/reference/okta-openapi/management.yaml")
	if !strings.HasSuffix(p, want) {
		t.Errorf("Path() = %q, want a path ending in %q", p, want)
	}
	// internal/testkit/oktaspec -> module root is three levels up; the description is
	// one more level up, beside the checkout.
	abs, _ := filepath.Abs(filepath.Join("..", "..", "..", "..", want))
	if filepath.Clean(p) != abs {
		t.Errorf("Path() = %q, want %q", p, abs)
	}
}

// recordingTB keeps the message of Skipf.
type recordingTB struct {
	testing.TB
	msg string
}

func (r *recordingTB) Skipf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	r.TB.Skipf(format, args...)
}

// knownDefects are the description's own errors in operations we use, by
// operationId: UserSchemaAttribute.default is a oneOf whose array branch has
// no items. Nothing we send or read carries a default, so the check that
// kin-openapi cannot make there is not needed.
var knownDefects = map[string]string{
	"getUserSchema": "invalid oneOf element: when schema type is 'array', schema 'items' must be non-null",
}

// TestUsedOperationsAreSound: the operations we validate against exist and
// are themselves valid OpenAPI. The whole document is not (kin-openapi
// rejects an invalid default in AccessPolicy and an array without items in
// RegistrationInlineHookResponse), so only what we use is checked, with
// defaults and examples left out (the ListLogs example breaks its own
// schema; see the system-log-event-shape exception).
func TestUsedOperationsAreSound(t *testing.T) {
	s := Skip(t)
	opts := []openapi3.ValidationOption{openapi3.DisableSchemaDefaultsValidation(), openapi3.DisableExamplesValidation()}
	for _, id := range []string{
		"createUser", "getUser", "updateUser", "listUsers", "activateUser", "deactivateUser", "deleteUser",
		"expirePassword", "resetPassword", "listLogEvents",
		"createInlineHook", "getInlineHook", "listInlineHooks", "replaceInlineHook", "deleteInlineHook",
		"activateInlineHook", "deactivateInlineHook", "getUserSchema",
	} {
		op, path := s.Operation(id)
		if op == nil {
			t.Errorf("operation %s is not in the description", id)
			continue
		}
		if err := op.Validate(t.Context(), opts...); err != nil && (knownDefects[id] == "" || !strings.Contains(err.Error(), knownDefects[id])) {
			t.Errorf("%s (%s): %v", id, path, err)
		}
	}
	if err := s.hook.Operation.Validate(t.Context(), opts...); err != nil {
		t.Errorf("x-webhooks.%s: %v", hookWebhook, err)
	}
	if s.hook.Operation.OperationID != HookOperation {
		t.Errorf("hook operationId = %q, want %q", s.hook.Operation.OperationID, HookOperation)
	}
}
