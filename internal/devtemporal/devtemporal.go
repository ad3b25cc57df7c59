// Package devtemporal starts a real Temporal server for tests, the demo and
// the production-topology harness, from binaries pinned in the repository's
// tools.mod and built from the Go module proxy on first use (never downloaded
// at test time):
//
//   - Start: the Temporal CLI's dev server (github.com/temporalio/cli v1.5.1,
//     bundling server 1.29.1 and the Web UI), in memory or on SQLite. The
//     SDK's StartDevServer gets the locally built CLI as ExistingPath
//     (without one it would download the CLI).
//   - StartSQL: the Temporal server binary itself (go.temporal.io/server
//     v1.29.1) on PostgreSQL, its schemas applied by temporal-sql-tool of the
//     same release, both stores (default and visibility) on PostgreSQL, and
//     optionally the Web UI server (ui-server v2.42.1): the topology
//     docker-compose.yml runs.
package devtemporal

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
)

// EnvCLI names an environment variable that, when set, is used as the path of
// the Temporal CLI instead of building the pinned one.
const EnvCLI = "TEMPORAL_CLI"

// Options configure Start.
type Options struct {
	// HostPort to bind the frontend to; "" picks a free port on 127.0.0.1.
	HostPort string
	// Namespace to register and use; "" means "default".
	Namespace string
	// EnableUI starts the Web UI; UIPort picks its port (0 = frontend port + 1000).
	EnableUI bool
	UIPort   int
	// DBFile persists the server's state in SQLite; "" keeps it in memory.
	DBFile string
	// SearchAttributes are registered on the namespace at start.
	SearchAttributes temporal.SearchAttributes
	// LogLevel of the server process ("error" by default).
	LogLevel string
	// Output receives the server's stdout and stderr; nil discards them.
	Output io.Writer
	// Logger is the SDK client's logger; nil discards client logs.
	Logger *slog.Logger
}

// Server is a running dev server.
type Server struct {
	dev      *testsuite.DevServer
	hostPort string
	uiURL    string
	ns       string
}

// Start builds the pinned CLI if needed, starts its dev server and waits until
// it serves requests.
func Start(ctx context.Context, opts Options) (*Server, error) {
	cli, err := CLIPath(ctx)
	if err != nil {
		return nil, err
	}
	hostPort := opts.HostPort
	if hostPort == "" {
		if hostPort, err = freeHostPort(); err != nil {
			return nil, err
		}
	}
	ns := opts.Namespace
	if ns == "" {
		ns = "default"
	}
	logLevel := opts.LogLevel
	if logLevel == "" {
		logLevel = "error"
	}
	out := opts.Output
	if out == nil {
		out = io.Discard
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	devOpts := testsuite.DevServerOptions{
		ExistingPath:     cli,
		ClientOptions:    &client.Options{HostPort: hostPort, Namespace: ns, Logger: tlog.NewStructuredLogger(logger)},
		DBFilename:       opts.DBFile,
		EnableUI:         opts.EnableUI,
		LogLevel:         logLevel,
		LogFormat:        "json",
		SearchAttributes: opts.SearchAttributes,
		Stdout:           out,
		Stderr:           out,
	}
	s := &Server{hostPort: hostPort, ns: ns}
	if opts.EnableUI {
		uiPort := opts.UIPort
		if uiPort == 0 {
			_, p, _ := net.SplitHostPort(hostPort)
			n, _ := strconv.Atoi(p)
			uiPort = n + 1000
		}
		devOpts.UIPort = strconv.Itoa(uiPort)
		host, _, _ := net.SplitHostPort(hostPort)
		s.uiURL = "http://" + net.JoinHostPort(host, devOpts.UIPort)
	}
	startCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	dev, err := testsuite.StartDevServer(startCtx, devOpts)
	if err != nil {
		return nil, fmt.Errorf("devtemporal: start dev server: %w", err)
	}
	s.dev = dev
	return s, nil
}

// Client returns a client connected to the server's namespace. Closed by Stop.
func (s *Server) Client() client.Client { return s.dev.Client() }

// HostPort is the frontend's gRPC address.
func (s *Server) HostPort() string { return s.hostPort }

// Namespace is the namespace the server registered.
func (s *Server) Namespace() string { return s.ns }

// UIURL is the Web UI's address, "" when the UI is off.
func (s *Server) UIURL() string { return s.uiURL }

// Stop stops the server process and closes its client.
func (s *Server) Stop() error { return s.dev.Stop() }

func freeHostPort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("devtemporal: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// CLIPath returns the path of the pinned Temporal CLI binary, built by
// ToolPath from tools.mod's github.com/temporalio/cli/cmd/temporal.
// $TEMPORAL_CLI overrides it.
func CLIPath(ctx context.Context) (string, error) {
	if p := os.Getenv(EnvCLI); p != "" {
		return p, nil
	}
	return ToolPath(ctx, ToolCLI)
}

// The tools of tools.mod that this package runs, by package path.
const (
	// ToolCLI is the Temporal CLI (its dev server embeds server and UI).
	ToolCLI = "github.com/temporalio/cli/cmd/temporal"
	// ToolServer is the Temporal server binary.
	ToolServer = "go.temporal.io/server/cmd/server"
	// ToolSQL is temporal-sql-tool, the server's SQL schema tool.
	ToolSQL = "go.temporal.io/server/cmd/tools/sql"
	// ToolUI is the Temporal Web UI server.
	ToolUI = "github.com/temporalio/ui-server/v2/cmd/server"
)

// ToolPath returns the path of the binary of tool, a package path named by a
// tool line of tools.mod, building it with `go tool -n -modfile=tools.mod
// <tool>` from the module root on first use (2-4 min cold on 2 cores for the
// Temporal binaries; cached in GOCACHE afterwards). The resolved path is
// remembered in the user cache directory, keyed by tool and tools.sum, and
// concurrent callers (parallel test binaries) wait on a file lock instead of
// building the same binary twice.
func ToolPath(ctx context.Context, tool string) (string, error) {
	root, err := moduleRoot(ctx)
	if err != nil {
		return "", err
	}
	sum, err := os.ReadFile(filepath.Join(root, "tools.sum"))
	if err != nil {
		return "", fmt.Errorf("devtemporal: read tools.sum: %w", err)
	}
	h := sha256.Sum256(sum)
	cacheDir, err := os.UserCacheDir()
	if err != nil {
		cacheDir = os.TempDir()
	}
	dir := filepath.Join(cacheDir, "entra2okta")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("devtemporal: cache dir: %w", err)
	}
	memo := filepath.Join(dir, memoName(tool)+"-"+hex.EncodeToString(h[:8]))
	if p, ok := readMemo(memo); ok {
		return p, nil
	}
	unlock, err := lockFile(ctx, memo+".lock")
	if err != nil {
		return "", err
	}
	defer unlock()
	if p, ok := readMemo(memo); ok { // built by another process while we waited
		return p, nil
	}
	buildCtx, cancel := context.WithTimeout(ctx, 20*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(buildCtx, "go", "tool", "-n", "-modfile=tools.mod", tool)
	cmd.Dir = root
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("devtemporal: build %s (go tool -n -modfile=tools.mod %s): %w: %s",
			tool, tool, err, strings.TrimSpace(stderr.String()))
	}
	p := strings.TrimSpace(stdout.String())
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("devtemporal: built %s not found at %q: %w", tool, p, err)
	}
	if err := os.WriteFile(memo, []byte(p), 0o644); err != nil {
		return "", fmt.Errorf("devtemporal: remember the path of %s: %w", tool, err)
	}
	return p, nil
}

// memoName is the file name that remembers tool's binary. The CLI keeps the
// name it had before the other tools joined, so existing memos stay valid.
func memoName(tool string) string {
	if tool == ToolCLI {
		return "temporal-cli"
	}
	return "tool-" + strings.NewReplacer("/", "_", ".", "_").Replace(tool)
}

func readMemo(memo string) (string, bool) {
	b, err := os.ReadFile(memo)
	if err != nil {
		return "", false
	}
	p := strings.TrimSpace(string(b))
	if st, err := os.Stat(p); err != nil || st.IsDir() {
		return "", false // GOCACHE was trimmed or cleaned: rebuild
	}
	return p, true
}

func lockFile(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("devtemporal: lock: %w", err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); _ = f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			_ = f.Close()
			return nil, fmt.Errorf("devtemporal: lock: %w", err)
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, fmt.Errorf("devtemporal: waiting for another build of the same tool: %w", ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// moduleRoot finds the directory of this module's go.mod (where tools.mod lives).
func moduleRoot(ctx context.Context) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "env", "GOMOD")
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("devtemporal: go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("devtemporal: not inside the entra2okta module: run from the repository (or set " + EnvCLI + ")")
	}
	root := filepath.Dir(gomod)
	if _, err := os.Stat(filepath.Join(root, "tools.mod")); err != nil {
		return "", fmt.Errorf("devtemporal: %s has no tools.mod: %w", root, err)
	}
	return root, nil
}
