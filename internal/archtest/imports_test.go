package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// pkg is the part of a `go list -json` package the rules read.
type pkg struct {
	ImportPath   string
	Imports      []string // non-test imports
	TestImports  []string // imports of the package's in-package test files
	XTestImports []string // imports of its external (_test package) test files
}

// graph maps an import path to its package: every package of the module
// and every package they depend on.
type graph map[string]*pkg

// sdk names an SDK, the import-path prefix of its packages and the one
// package of the module that may import it.
type sdk struct {
	name, prefix, adapter string
}

// sdks are the SDKs the rules know. The msgraph-sdk-go prefix also matches
// msgraph-sdk-go-core, part of the same SDK.
var sdks = []sdk{
	{"okta-sdk-golang", "github.com/okta/okta-sdk-golang", "entra2okta/internal/okta/oktaclient"},
	{"MSAL", "github.com/AzureAD/microsoft-authentication-library-for-go", "entra2okta/internal/entra/ropc"},
	{"msgraph-sdk-go", "github.com/microsoftgraph/msgraph-sdk-go", "entra2okta/internal/graph"},
}

func (s sdk) has(path string) bool { return strings.HasPrefix(path, s.prefix) }

// sdkFree reports the packages that must not depend on any SDK: the domain
// types (internal/okta, internal/entra), the workflows, the activities and
// every package of the hook (internal/hook and its subpackages, such as
// internal/hook/pwimport and internal/hook/eventhook, present and future).
func sdkFree(path string) bool {
	switch path {
	case "entra2okta/internal/okta", "entra2okta/internal/entra", "entra2okta/workflows", "entra2okta/activities", "entra2okta/internal/hook":
		return true
	}
	return strings.HasPrefix(path, "entra2okta/internal/hook/")
}

// hookServer reports the hook server's packages: they may link MSAL, through
// the ROPC verifier only, and no other SDK.
func hookServer(path string) bool {
	return path == "entra2okta/hookserver" || path == "entra2okta/internal/hookserver"
}

func ours(path string) bool { return path == "entra2okta" || strings.HasPrefix(path, "entra2okta/") }

// violations checks g against the rules and returns one message per broken
// rule, in a stable order; none when g obeys them all.
func violations(g graph) []string {
	roots := make([]string, 0, len(g))
	for path := range g {
		if ours(path) {
			roots = append(roots, path)
		}
	}
	slices.Sort(roots)
	var out []string
	for _, root := range roots {
		for _, s := range sdks {
			switch {
			case sdkFree(root):
				if chain := g.pathTo(root, s, ""); chain != nil {
					out = append(out, fmt.Sprintf("%s must not depend on %s; it does through %s", root, s.name, strings.Join(chain, " -> ")))
				}
			case hookServer(root) && s.name == "MSAL":
				if chain := g.pathTo(root, s, s.adapter); chain != nil {
					out = append(out, fmt.Sprintf("%s must depend on %s only through %s; it does through %s",
						root, s.name, s.adapter, strings.Join(chain, " -> ")))
				}
			case hookServer(root):
				if chain := g.pathTo(root, s, ""); chain != nil {
					out = append(out, fmt.Sprintf("%s must not depend on %s; it does through %s", root, s.name, strings.Join(chain, " -> ")))
				}
			}
		}
	}
	for _, s := range sdks {
		out = append(out, g.directImporters(roots, s)...)
	}
	return out
}

// pathTo returns the shortest import chain from root to a package of s,
// not going through the package skip; nil when there is none.
func (g graph) pathTo(root string, s sdk, skip string) []string {
	prev := map[string]string{root: ""}
	queue := []string{root}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		if s.has(cur) {
			var chain []string
			for p := cur; p != ""; p = prev[p] {
				chain = append(chain, p)
			}
			slices.Reverse(chain)
			return chain
		}
		p := g[cur]
		if p == nil || (cur == skip && cur != root) {
			continue
		}
		for _, imp := range p.Imports {
			if _, seen := prev[imp]; !seen {
				prev[imp] = cur
				queue = append(queue, imp)
			}
		}
	}
	return nil
}

// directImporters checks that s's adapter, and no other package of the
// module, imports s (in code or, for packages other than the adapter, in
// tests).
func (g graph) directImporters(roots []string, s sdk) []string {
	var out []string
	adapterImports := false
	for _, root := range roots {
		p := g[root]
		if imp := firstOf(p.Imports, s); imp != "" {
			if root == s.adapter {
				adapterImports = true
				continue
			}
			out = append(out, fmt.Sprintf("%s imports %s (%s); only its adapter %s may", root, s.name, imp, s.adapter))
		}
		if root == s.adapter {
			continue
		}
		if imp := firstOf(slices.Concat(p.TestImports, p.XTestImports), s); imp != "" {
			out = append(out, fmt.Sprintf("%s's tests import %s (%s); only its adapter %s may", root, s.name, imp, s.adapter))
		}
	}
	if !adapterImports {
		out = append(out, fmt.Sprintf("%s does not import %s: exactly one package, its adapter, must", s.adapter, s.name))
	}
	return out
}

func firstOf(imports []string, s sdk) string {
	for _, imp := range imports {
		if s.has(imp) {
			return imp
		}
	}
	return ""
}

// loadGraph runs one `go list -deps -json ./...` at the module root (with
// the live build tag, so that live tests count too).
func loadGraph(t *testing.T) graph {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("archtest: the go command is not on PATH, so the dependency graph cannot be listed")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root %s: %v", root, err)
	}
	cmd := exec.CommandContext(t.Context(), goCmd, "list", "-deps", "-tags=live",
		"-json=ImportPath,Imports,TestImports,XTestImports", "./...")
	cmd.Dir = root
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	g := graph{}
	dec := json.NewDecoder(&stdout)
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		g[p.ImportPath] = &p
	}
	return g
}

// TestSDKsStayInTheirAdapters checks the module's real dependency graph.
// How it fails is shown by TestViolationsAreReported, which feeds the same
// check graphs that break each rule.
func TestSDKsStayInTheirAdapters(t *testing.T) {
	g := loadGraph(t)
	// The rules would hold vacuously over a graph without the packages they
	// name.
	for _, path := range []string{"entra2okta/workflows", "entra2okta/activities", "entra2okta/internal/hook",
		"entra2okta/internal/hook/pwimport", "entra2okta/internal/hook/eventhook", "entra2okta/internal/hookserver",
		"entra2okta/hookserver", "entra2okta/internal/okta", "entra2okta/internal/entra"} {
		if g[path] == nil {
			t.Errorf("go list did not report %s", path)
		}
	}
	for _, s := range sdks {
		if g[s.adapter] == nil {
			t.Errorf("go list did not report %s's adapter %s", s.name, s.adapter)
		}
	}
	for _, v := range violations(g) {
		t.Error(v)
	}
}

// cleanGraph is a small graph that obeys every rule: the shape of the
// module, with the hook server reaching MSAL through the ROPC verifier and
// the adapters' own tests importing their SDKs.
func cleanGraph() graph {
	const (
		oktaSDK  = "github.com/okta/okta-sdk-golang/v2/okta"
		msal     = "github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"
		msalBase = "github.com/AzureAD/microsoft-authentication-library-for-go/apps/internal/base"
		graphSDK = "github.com/microsoftgraph/msgraph-sdk-go/users"
	)
	g := graph{}
	add := func(path string, imports ...string) *pkg {
		p := &pkg{ImportPath: path, Imports: imports}
		g[path] = p
		return p
	}
	add("entra2okta/internal/okta")
	add("entra2okta/internal/entra")
	add("entra2okta/activities", "entra2okta/internal/entra", "entra2okta/internal/okta")
	add("entra2okta/workflows", "entra2okta/activities", "entra2okta/internal/okta").XTestImports = []string{"entra2okta/internal/okta/oktaclient"}
	add("entra2okta/internal/hook")
	add("entra2okta/internal/hook/pwimport", "entra2okta/internal/entra", "entra2okta/internal/hook", "entra2okta/workflows").XTestImports = []string{"entra2okta/internal/entra/ropc"}
	add("entra2okta/internal/hook/eventhook", "entra2okta/internal/hook", "entra2okta/workflows")
	add("entra2okta/internal/okta/oktaclient", "entra2okta/internal/okta", oktaSDK).XTestImports = []string{oktaSDK}
	add("entra2okta/internal/okta/oktapolicy")
	add("entra2okta/internal/entra/ropc", "entra2okta/internal/entra", msal)
	add("entra2okta/internal/graph", "entra2okta/internal/entra", graphSDK)
	add("entra2okta/internal/hookserver", "entra2okta/internal/entra/ropc", "entra2okta/internal/hook/pwimport",
		"entra2okta/internal/hook/eventhook", "entra2okta/internal/okta/oktapolicy")
	add("entra2okta/hookserver", "entra2okta/internal/hookserver")
	add("entra2okta/worker", "entra2okta/internal/graph", "entra2okta/internal/okta/oktaclient", "entra2okta/workflows")
	add(oktaSDK)
	add(msal, msalBase)
	add(msalBase)
	add(graphSDK, "github.com/Azure/azure-sdk-for-go/sdk/azidentity")
	add("github.com/Azure/azure-sdk-for-go/sdk/azidentity", msal)
	return g
}

// TestViolationsAreReported breaks each rule in a copy of cleanGraph and
// checks the messages. On the real tree, when a file of entra2okta/workflows
// imports entra2okta/internal/okta/oktaclient again, TestSDKsStayInTheirAdapters
// fails with these lines (the hook packages and the hook server import
// workflows, so they reach the SDK too):
//
//	entra2okta/hookserver must not depend on okta-sdk-golang; it does through entra2okta/hookserver -> entra2okta/internal/hookserver -> entra2okta/workflows -> entra2okta/internal/okta/oktaclient -> github.com/okta/okta-sdk-golang/v2/okta
//	entra2okta/internal/hook/eventhook must not depend on okta-sdk-golang; it does through entra2okta/internal/hook/eventhook -> entra2okta/workflows -> entra2okta/internal/okta/oktaclient -> github.com/okta/okta-sdk-golang/v2/okta
//	entra2okta/internal/hook/pwimport must not depend on okta-sdk-golang; it does through entra2okta/internal/hook/pwimport -> entra2okta/workflows -> entra2okta/internal/okta/oktaclient -> github.com/okta/okta-sdk-golang/v2/okta
//	entra2okta/internal/hookserver must not depend on okta-sdk-golang; it does through entra2okta/internal/hookserver -> entra2okta/workflows -> entra2okta/internal/okta/oktaclient -> github.com/okta/okta-sdk-golang/v2/okta
//	entra2okta/workflows must not depend on okta-sdk-golang; it does through entra2okta/workflows -> entra2okta/internal/okta/oktaclient -> github.com/okta/okta-sdk-golang/v2/okta
func TestViolationsAreReported(t *testing.T) {
	if v := violations(cleanGraph()); len(v) != 0 {
		t.Fatalf("the clean graph breaks rules: %q", v)
	}
	for _, tc := range []struct {
		name   string
		mutate func(g graph)
		want   []string
	}{
		{"workflows imports the Okta adapter", func(g graph) {
			g["entra2okta/workflows"].Imports = append(g["entra2okta/workflows"].Imports, "entra2okta/internal/okta/oktaclient")
		}, []string{
			"entra2okta/hookserver must not depend on okta-sdk-golang; it does through entra2okta/hookserver -> entra2okta/internal/hookserver -> entra2okta/internal/hook/pwimport -> entra2okta/workflows -> entra2okta/internal/okta/oktaclient -> github.com/okta/okta-sdk-golang/v2/okta",
			"entra2okta/internal/hook/eventhook must not depend on okta-sdk-golang; it does through entra2okta/internal/hook/eventhook -> entra2okta/workflows -> entra2okta/internal/okta/oktaclient -> github.com/okta/okta-sdk-golang/v2/okta",
			"entra2okta/internal/hook/pwimport must not depend on okta-sdk-golang; it does through entra2okta/internal/hook/pwimport -> entra2okta/workflows -> entra2okta/internal/okta/oktaclient -> github.com/okta/okta-sdk-golang/v2/okta",
			"entra2okta/internal/hookserver must not depend on okta-sdk-golang; it does through entra2okta/internal/hookserver -> entra2okta/internal/hook/pwimport -> entra2okta/workflows -> entra2okta/internal/okta/oktaclient -> github.com/okta/okta-sdk-golang/v2/okta",
			"entra2okta/workflows must not depend on okta-sdk-golang; it does through entra2okta/workflows -> entra2okta/internal/okta/oktaclient -> github.com/okta/okta-sdk-golang/v2/okta",
		}},
		{"a future hook subpackage imports the verifier", func(g graph) {
			g["entra2okta/internal/hook/pwimport"] = &pkg{ImportPath: "entra2okta/internal/hook/pwimport", Imports: []string{"entra2okta/internal/entra/ropc"}}
		}, []string{"entra2okta/internal/hook/pwimport must not depend on MSAL; it does through " +
			"entra2okta/internal/hook/pwimport -> entra2okta/internal/entra/ropc -> github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"}},
		{"activities reach Graph transitively", func(g graph) {
			g["entra2okta/internal/okta"].Imports = []string{"entra2okta/internal/graph"}
		}, []string{
			"entra2okta/activities must not depend on MSAL; it does through entra2okta/activities -> entra2okta/internal/okta -> entra2okta/internal/graph -> github.com/microsoftgraph/msgraph-sdk-go/users -> github.com/Azure/azure-sdk-for-go/sdk/azidentity -> github.com/AzureAD/microsoft-authentication-library-for-go/apps/public",
			"entra2okta/activities must not depend on msgraph-sdk-go; it does through entra2okta/activities -> entra2okta/internal/okta -> entra2okta/internal/graph -> github.com/microsoftgraph/msgraph-sdk-go/users",
			"entra2okta/hookserver must depend on MSAL only through entra2okta/internal/entra/ropc; it does through entra2okta/hookserver -> entra2okta/internal/hookserver -> entra2okta/internal/hook/pwimport -> entra2okta/workflows -> entra2okta/internal/okta -> entra2okta/internal/graph -> github.com/microsoftgraph/msgraph-sdk-go/users -> github.com/Azure/azure-sdk-for-go/sdk/azidentity -> github.com/AzureAD/microsoft-authentication-library-for-go/apps/public",
			"entra2okta/hookserver must not depend on msgraph-sdk-go; it does through entra2okta/hookserver -> entra2okta/internal/hookserver -> entra2okta/internal/hook/pwimport -> entra2okta/workflows -> entra2okta/internal/okta -> entra2okta/internal/graph -> github.com/microsoftgraph/msgraph-sdk-go/users",
			"entra2okta/internal/hook/eventhook must not depend on MSAL; it does through entra2okta/internal/hook/eventhook -> entra2okta/workflows -> entra2okta/internal/okta -> entra2okta/internal/graph -> github.com/microsoftgraph/msgraph-sdk-go/users -> github.com/Azure/azure-sdk-for-go/sdk/azidentity -> github.com/AzureAD/microsoft-authentication-library-for-go/apps/public",
			"entra2okta/internal/hook/eventhook must not depend on msgraph-sdk-go; it does through entra2okta/internal/hook/eventhook -> entra2okta/workflows -> entra2okta/internal/okta -> entra2okta/internal/graph -> github.com/microsoftgraph/msgraph-sdk-go/users",
			"entra2okta/internal/hook/pwimport must not depend on MSAL; it does through entra2okta/internal/hook/pwimport -> entra2okta/workflows -> entra2okta/internal/okta -> entra2okta/internal/graph -> github.com/microsoftgraph/msgraph-sdk-go/users -> github.com/Azure/azure-sdk-for-go/sdk/azidentity -> github.com/AzureAD/microsoft-authentication-library-for-go/apps/public",
			"entra2okta/internal/hook/pwimport must not depend on msgraph-sdk-go; it does through entra2okta/internal/hook/pwimport -> entra2okta/workflows -> entra2okta/internal/okta -> entra2okta/internal/graph -> github.com/microsoftgraph/msgraph-sdk-go/users",
			"entra2okta/internal/hookserver must depend on MSAL only through entra2okta/internal/entra/ropc; it does through entra2okta/internal/hookserver -> entra2okta/internal/hook/pwimport -> entra2okta/workflows -> entra2okta/internal/okta -> entra2okta/internal/graph -> github.com/microsoftgraph/msgraph-sdk-go/users -> github.com/Azure/azure-sdk-for-go/sdk/azidentity -> github.com/AzureAD/microsoft-authentication-library-for-go/apps/public",
			"entra2okta/internal/hookserver must not depend on msgraph-sdk-go; it does through entra2okta/internal/hookserver -> entra2okta/internal/hook/pwimport -> entra2okta/workflows -> entra2okta/internal/okta -> entra2okta/internal/graph -> github.com/microsoftgraph/msgraph-sdk-go/users",
			"entra2okta/internal/okta must not depend on MSAL; it does through entra2okta/internal/okta -> entra2okta/internal/graph -> github.com/microsoftgraph/msgraph-sdk-go/users -> github.com/Azure/azure-sdk-for-go/sdk/azidentity -> github.com/AzureAD/microsoft-authentication-library-for-go/apps/public",
			"entra2okta/internal/okta must not depend on msgraph-sdk-go; it does through entra2okta/internal/okta -> entra2okta/internal/graph -> github.com/microsoftgraph/msgraph-sdk-go/users",
			"entra2okta/workflows must not depend on MSAL; it does through entra2okta/workflows -> entra2okta/internal/okta -> entra2okta/internal/graph -> github.com/microsoftgraph/msgraph-sdk-go/users -> github.com/Azure/azure-sdk-for-go/sdk/azidentity -> github.com/AzureAD/microsoft-authentication-library-for-go/apps/public",
			"entra2okta/workflows must not depend on msgraph-sdk-go; it does through entra2okta/workflows -> entra2okta/internal/okta -> entra2okta/internal/graph -> github.com/microsoftgraph/msgraph-sdk-go/users",
		}},
		{"the hook server reads policies through the SDK client", func(g graph) {
			g["entra2okta/hookserver"].Imports = append(g["entra2okta/hookserver"].Imports, "entra2okta/internal/okta/oktaclient")
		}, []string{"entra2okta/hookserver must not depend on okta-sdk-golang; it does through " +
			"entra2okta/hookserver -> entra2okta/internal/okta/oktaclient -> github.com/okta/okta-sdk-golang/v2/okta"}},
		{"the hook server reaches MSAL through Graph's azidentity", func(g graph) {
			g["entra2okta/internal/hookserver"] = &pkg{ImportPath: "entra2okta/internal/hookserver",
				Imports: []string{"entra2okta/internal/entra/ropc", "github.com/Azure/azure-sdk-for-go/sdk/azidentity"}}
		}, []string{
			"entra2okta/hookserver must depend on MSAL only through entra2okta/internal/entra/ropc; it does through entra2okta/hookserver -> entra2okta/internal/hookserver -> github.com/Azure/azure-sdk-for-go/sdk/azidentity -> github.com/AzureAD/microsoft-authentication-library-for-go/apps/public",
			"entra2okta/internal/hookserver must depend on MSAL only through entra2okta/internal/entra/ropc; it does through entra2okta/internal/hookserver -> github.com/Azure/azure-sdk-for-go/sdk/azidentity -> github.com/AzureAD/microsoft-authentication-library-for-go/apps/public",
		}},
		{"a second package imports the Okta SDK", func(g graph) {
			g["entra2okta/worker"].Imports = append(g["entra2okta/worker"].Imports, "github.com/okta/okta-sdk-golang/v2/okta")
		}, []string{"entra2okta/worker imports okta-sdk-golang (github.com/okta/okta-sdk-golang/v2/okta); only its adapter entra2okta/internal/okta/oktaclient may"}},
		{"another package's tests import MSAL", func(g graph) {
			g["entra2okta/worker"].TestImports = []string{"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"}
		}, []string{"entra2okta/worker's tests import MSAL (github.com/AzureAD/microsoft-authentication-library-for-go/apps/public); only its adapter entra2okta/internal/entra/ropc may"}},
		{"the Graph adapter no longer imports the SDK", func(g graph) {
			g["entra2okta/internal/graph"].Imports = []string{"entra2okta/internal/entra"}
		}, []string{"entra2okta/internal/graph does not import msgraph-sdk-go: exactly one package, its adapter, must"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := cleanGraph()
			tc.mutate(g)
			if got := violations(g); !slices.Equal(got, tc.want) {
				t.Errorf("violations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}
