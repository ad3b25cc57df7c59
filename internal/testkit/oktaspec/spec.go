// Package oktaspec holds our Okta emulator (internal/emu/fakeokta), our Okta
// adapter's traffic (internal/okta/oktaclient) and our password import hook
// (internal/hook/pwimport) to the OpenAPI description Okta publishes for its
// Management API, including the password import inline hook's request and
// response schemas.
//
// The description is ../shared/reference/okta-openapi/management.yaml beside
// the repository checkout (never copied into the repository). It is loaded
// once per test binary. Tests call Skip to get it, and
// are skipped with a clear message on a clone where it is absent.
//
// Every HTTP exchange is validated with kin-openapi's openapi3filter against
// the operation the router finds for it: request parameters, security
// scheme, request body; response status (it must be one the operation
// documents), described headers and body. On top of the published schemas,
// properties that no schema documents are reported ("undocumented-property"):
// an emulator that renames a field still passes a schema without required
// members, but not this check. Where the description and Okta's documented
// behaviour disagree, the Exceptions list (exceptions.go) says what is
// relaxed or added, and why.
//
// Use:
//
//	spec := oktaspec.Skip(t)
//	rep := oktaspec.NewReport()
//	hc.Transport = spec.Transport(hc.Transport, rep) // client side (the SDK's http.Client)
//	srv := httptest.NewTLSServer(spec.Middleware(fake, rep)) // or server side
//	hookSrv := httptest.NewTLSServer(spec.HookMiddleware(hookHandler, rep)) // the hook, both ways
//	... drive the code under test ...
//	rep.AssertClean(t)
//	rep.AssertSeen(t, "createUser", 200)
//
// CheckHookRequest and CheckHookResponse validate single hook messages.
package oktaspec

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// EnvPath names the environment variable that, when set, overrides where the
// description is read from.
const EnvPath = "OKTASPEC_PATH"

// relPath is where the description lives relative to the module root: beside
// the repository checkout, in the shared reference directory.
const relPath = "../shared/reference/okta-openapi/management.yaml"

// hookWebhook is the x-webhooks entry that describes the password import
// inline hook (Okta calling us), and hookPath the path our hook server
// serves it on. The path only names the synthetic route; hook validation
// does not route.
const (
	hookWebhook = "CreatePasswordImportInlineHook"
	hookPath    = "/okta/password-import"
)

// ErrAbsent is returned (wrapped) by Load when the description file does not
// exist.
var ErrAbsent = errors.New("oktaspec: Okta OpenAPI description not found")

// Spec is the loaded description, a host-agnostic router over its paths, and
// the password import hook operation taken from its x-webhooks section.
type Spec struct {
	path   string
	doc    *openapi3.T
	router routers.Router
	hook   *routers.Route
	// errorSchema is components.schemas.Error, used for error statuses the
	// Exceptions allow where the description documents none.
	errorSchema *openapi3.SchemaRef
}

var (
	loadOnce sync.Once
	loaded   *Spec
	loadErr  error
)

// Path returns the description's location: $OKTASPEC_PATH if set, otherwise
// ../shared/reference/okta-openapi/management.yaml relative to the module
// root (the nearest directory above the working directory holding go.mod).
func Path() (string, error) {
	if p := os.Getenv(EnvPath); p != "" {
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("oktaspec: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, filepath.FromSlash(relPath)), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("oktaspec: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Load reads and prepares the description once per process; later calls
// return the same Spec (or the same error). A missing file gives an error
// wrapping ErrAbsent.
func Load() (*Spec, error) {
	loadOnce.Do(func() { loaded, loadErr = load() })
	return loaded, loadErr
}

// Skip returns the loaded Spec, skips the test with a clear message when the
// description is absent (a clone without the shared reference directory),
// and fails it when the description is present but cannot be used.
func Skip(t testing.TB) *Spec {
	t.Helper()
	s, err := Load()
	return skipFor(t, s, err)
}

// skipFor is Skip's decision, given Load's result.
func skipFor(t testing.TB, s *Spec, err error) *Spec {
	t.Helper()
	if errors.Is(err, ErrAbsent) {
		t.Skipf("%v; set %s or check out ../shared/reference beside the repository to run the OpenAPI fidelity tests", err, EnvPath)
	}
	if err != nil {
		t.Fatalf("oktaspec: %v", err)
	}
	return s
}

func load() (*Spec, error) {
	path, err := Path()
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("%w at %s: %w", ErrAbsent, path, err)
	}
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("oktaspec: load %s: %w", path, err)
	}
	// doc.Validate is deliberately not required: the published description
	// has spec-level defects unrelated to the operations we use (an invalid
	// default in AccessPolicy, an array without items in
	// RegistrationInlineHookResponse). Payloads
	// are validated against the individual operations instead.

	// Route on paths only: the description's single server is
	// https://{yourOktaDomain}, and our emulator listens on loopback ports,
	// over TLS or not. A shallow copy with no servers matches any scheme and
	// host; its Paths and Components are the loaded ones.
	routed := *doc
	routed.Servers = nil
	router, err := gorillamux.NewRouter(&routed)
	if err != nil {
		return nil, fmt.Errorf("oktaspec: router: %w", err)
	}
	resolveMappings(doc)
	hook, err := hookRoute(loader, doc)
	if err != nil {
		return nil, err
	}
	errSchema := doc.Components.Schemas["Error"]
	if errSchema == nil || errSchema.Value == nil {
		return nil, errors.New("oktaspec: components.schemas.Error missing from the description")
	}
	return &Spec{path: path, doc: doc, router: router, hook: hook, errorSchema: errSchema}, nil
}

// hookRoute builds a route for the password import hook from the
// description's x-webhooks section. OpenAPI 3.0 has no webhooks, so kin
// leaves the extension as raw JSON; it is decoded into a PathItem and its
// $refs resolved against the loaded components.
func hookRoute(loader *openapi3.Loader, doc *openapi3.T) (*routers.Route, error) {
	hooks, ok := doc.Extensions["x-webhooks"].(map[string]any)
	if !ok {
		return nil, errors.New("oktaspec: no x-webhooks section in the description")
	}
	raw, ok := hooks[hookWebhook]
	if !ok {
		return nil, fmt.Errorf("oktaspec: x-webhooks has no %s", hookWebhook)
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return nil, fmt.Errorf("oktaspec: x-webhooks.%s: %w", hookWebhook, err)
	}
	item := &openapi3.PathItem{}
	if err := item.UnmarshalJSON(b); err != nil {
		return nil, fmt.Errorf("oktaspec: x-webhooks.%s: %w", hookWebhook, err)
	}
	if item.Post == nil {
		return nil, fmt.Errorf("oktaspec: x-webhooks.%s has no post operation", hookWebhook)
	}
	mini := &openapi3.T{
		OpenAPI:    doc.OpenAPI,
		Info:       doc.Info,
		Components: doc.Components,
		Paths:      openapi3.NewPaths(openapi3.WithPath(hookPath, item)),
	}
	if err := loader.ResolveRefsIn(mini, nil); err != nil {
		return nil, fmt.Errorf("oktaspec: resolve x-webhooks.%s: %w", hookWebhook, err)
	}
	return &routers.Route{Spec: mini, Path: hookPath, PathItem: item, Method: "POST", Operation: item.Post}, nil
}

// resolveMappings points discriminator mappings at their component
// schemas: kin-openapi leaves MappingRef values unresolved, and the
// undocumented-property check follows them (InlineHookChannel's type HTTP
// selects InlineHookChannelHttp, which declares config).
func resolveMappings(doc *openapi3.T) {
	const prefix = "#/components/schemas/"
	for _, ref := range doc.Components.Schemas {
		if ref == nil || ref.Value == nil || ref.Value.Discriminator == nil {
			continue
		}
		m := ref.Value.Discriminator.Mapping
		for k, mr := range m {
			if mr.Value != nil || !strings.HasPrefix(mr.Ref, prefix) {
				continue
			}
			if target := doc.Components.Schemas[strings.TrimPrefix(mr.Ref, prefix)]; target != nil && target.Value != nil {
				mr.Value = target.Value
				m[k] = mr
			}
		}
	}
}

// Operation returns the description's operation with the given operationId
// and its path, or nil and "" if there is none.
func (s *Spec) Operation(id string) (*openapi3.Operation, string) {
	for path, item := range s.doc.Paths.Map() {
		for _, op := range item.Operations() {
			if op.OperationID == id {
				return op, path
			}
		}
	}
	return nil, ""
}

// Example returns the value of components.examples[name] as JSON, for tests
// that replay the description's own examples.
func (s *Spec) Example(name string) ([]byte, error) {
	ex := s.doc.Components.Examples[name]
	if ex == nil || ex.Value == nil {
		return nil, fmt.Errorf("oktaspec: no example %q", name)
	}
	return json.Marshal(ex.Value.Value)
}

// File is where the description was read from.
func (s *Spec) File() string { return s.path }

// contentSchema returns the JSON schema of a content map, or nil.
func contentSchema(c openapi3.Content) *openapi3.Schema {
	mt := c.Get("application/json")
	if mt == nil || mt.Schema == nil {
		return nil
	}
	return mt.Schema.Value
}

// isJSON reports whether a Content-Type header names JSON.
func isJSON(ct string) bool {
	ct = strings.ToLower(strings.TrimSpace(strings.SplitN(ct, ";", 2)[0]))
	return ct == "application/json" || strings.HasSuffix(ct, "+json")
}
