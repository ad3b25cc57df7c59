// Package devpostgres starts a private PostgreSQL cluster for tests, the bench
// and the production-topology harness: the machine's own server binaries
// (Debian's postgresql package, /usr/lib/postgresql/<major>/bin), a fresh data
// directory in a temporary directory, a loopback TCP port, and a Unix socket in
// that directory. It never touches the system's PostgreSQL service.
//
// initdb and postgres refuse to run as root
// (https://www.postgresql.org/docs/current/app-initdb.html); when this process
// is root the cluster runs as the unprivileged "postgres" account (or the
// account named by $DEVPOSTGRES_USER), which owns the data directory.
package devpostgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// EnvBinDir names an environment variable that, when set, is the directory of
// initdb, pg_ctl and postgres, instead of the newest /usr/lib/postgresql/*/bin.
const EnvBinDir = "DEVPOSTGRES_BIN"

// EnvUser names an environment variable with the account that runs the cluster
// when this process is root ("postgres" when unset).
const EnvUser = "DEVPOSTGRES_USER"

// EnvRequire names an environment variable that, when set to a non-empty
// value, makes a missing PostgreSQL a failure rather than a skip: CI sets it so
// that the tests that need PostgreSQL cannot silently skip there.
const EnvRequire = "E2O_REQUIRE_POSTGRES"

// ErrNotInstalled is returned by BinDir when no PostgreSQL server binaries exist.
var ErrNotInstalled = errors.New("devpostgres: no PostgreSQL server binaries (initdb, pg_ctl, postgres): install Debian's postgresql package or set " + EnvBinDir)

// Options configure Start.
type Options struct {
	// Port on 127.0.0.1; 0 picks a free one.
	Port int
	// Settings are extra server settings (name → value), passed as -c options.
	Settings map[string]string
}

// Cluster is a running private PostgreSQL cluster. Its superuser is the account
// that runs it, reachable without a password on loopback only.
type Cluster struct {
	bin     string
	dir     string // temporary directory: data/, socket, log
	port    int
	owner   *syscall.Credential // nil: runs as this process's user
	user    string              // database superuser name
	options string              // pg_ctl -o
}

// BinDir returns the directory of the PostgreSQL server binaries: $DEVPOSTGRES_BIN,
// else the highest-numbered /usr/lib/postgresql/*/bin holding initdb.
func BinDir() (string, error) {
	if d := os.Getenv(EnvBinDir); d != "" {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err != nil {
			return "", fmt.Errorf("devpostgres: %s=%s: %w", EnvBinDir, d, err)
		}
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return majorOf(dirs[i]) > majorOf(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", ErrNotInstalled
}

func majorOf(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// Start creates a cluster in a new temporary directory and starts it. Stop
// removes everything it created.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	c := &Cluster{bin: bin, port: opts.Port}
	if c.port == 0 {
		if c.port, err = freePort(); err != nil {
			return nil, err
		}
	}
	c.user, c.owner, err = runAs()
	if err != nil {
		return nil, err
	}
	if c.dir, err = os.MkdirTemp("", "devpostgres-"); err != nil {
		return nil, fmt.Errorf("devpostgres: temp dir: %w", err)
	}
	if c.owner != nil {
		if err := os.Chown(c.dir, int(c.owner.Uid), int(c.owner.Gid)); err != nil {
			_ = os.RemoveAll(c.dir)
			return nil, fmt.Errorf("devpostgres: hand %s to %s: %w", c.dir, c.user, err)
		}
	}
	if _, err := c.run(ctx, "initdb", "-D", c.dataDir(), "-U", c.user, "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync"); err != nil {
		_ = os.RemoveAll(c.dir)
		return nil, err
	}
	settings := map[string]string{
		"listen_addresses":        "127.0.0.1",
		"port":                    strconv.Itoa(c.port),
		"unix_socket_directories": c.dir,
		"max_connections":         "300",
		// A test cluster: every commit still reaches the kernel before it is
		// acknowledged (synchronous_commit stays on), so a crash of PostgreSQL
		// alone loses nothing; only a machine crash would, without fsync.
		"fsync":            "off",
		"full_page_writes": "off",
	}
	for k, v := range opts.Settings {
		settings[k] = v
	}
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var o []string
	for _, k := range keys {
		o = append(o, "-c "+k+"="+settings[k])
	}
	c.options = strings.Join(o, " ")
	if err := c.Restart(ctx); err != nil {
		// pg_ctl may have given up on a server that still started: stop
		// it before its directory goes.
		_ = c.Halt(context.WithoutCancel(ctx), "immediate")
		_ = os.RemoveAll(c.dir)
		return nil, err
	}
	return c, nil
}

// runAs returns the account that runs the cluster: this process's user, or
// when root the unprivileged account $DEVPOSTGRES_USER (default "postgres").
func runAs() (string, *syscall.Credential, error) {
	if os.Geteuid() != 0 {
		u, err := user.Current()
		if err != nil {
			return "", nil, fmt.Errorf("devpostgres: current user: %w", err)
		}
		return u.Username, nil, nil
	}
	name := os.Getenv(EnvUser)
	if name == "" {
		name = "postgres"
	}
	u, err := user.Lookup(name)
	if err != nil {
		return "", nil, fmt.Errorf("devpostgres: running as root, and initdb refuses root: no account %q to run PostgreSQL as (set %s): %w", name, EnvUser, err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	return name, &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// Restart starts the server if it is stopped (or starts it for the first time)
// and waits until it accepts connections.
func (c *Cluster) Restart(ctx context.Context) error {
	_, err := c.run(ctx, "pg_ctl", "-D", c.dataDir(), "-l", c.LogFile(), "-o", c.options, "-w", "-t", "60", "start")
	return err
}

// Stop stops the server and removes its directory. Safe to call twice.
func (c *Cluster) Stop() error {
	if c.dir == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := c.Halt(ctx, "fast")
	if err != nil {
		// Never leave a server running without its directory.
		if imm := c.Halt(ctx, "immediate"); imm == nil {
			err = nil
		}
	}
	if rmErr := os.RemoveAll(c.dir); rmErr != nil && err == nil {
		err = rmErr
	}
	c.dir = ""
	return err
}

// Halt stops the server and keeps its data, so that Restart brings it back.
// mode is pg_ctl's shutdown mode: "fast" (clean) or "immediate" (a crash: the
// next start recovers from the WAL).
func (c *Cluster) Halt(ctx context.Context, mode string) error {
	if _, err := os.Stat(filepath.Join(c.dataDir(), "postmaster.pid")); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	_, err := c.run(ctx, "pg_ctl", "-D", c.dataDir(), "-m", mode, "-w", "-t", "60", "stop")
	return err
}

// CreateDatabase creates a database owned by the superuser.
func (c *Cluster) CreateDatabase(ctx context.Context, name string) error {
	_, err := c.run(ctx, "createdb", "-h", "127.0.0.1", "-p", strconv.Itoa(c.port), "-U", c.user, name)
	return err
}

// Port is the server's TCP port on 127.0.0.1.
func (c *Cluster) Port() int { return c.port }

// Addr is "127.0.0.1:port".
func (c *Cluster) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port)) }

// User is the database superuser (no password on loopback).
func (c *Cluster) User() string { return c.user }

// DSN is a libpq connection URL for database db.
func (c *Cluster) DSN(db string) string {
	return "postgres://" + c.user + "@" + c.Addr() + "/" + db + "?sslmode=disable"
}

// LogFile is the server's log.
func (c *Cluster) LogFile() string { return filepath.Join(c.dir, "server.log") }

func (c *Cluster) dataDir() string { return filepath.Join(c.dir, "data") }

// run runs one of the cluster's binaries as the cluster's owner.
func (c *Cluster) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, name), args...)
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C", "PGHOST="+c.dir)
	if c.owner != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.owner}
		cmd.Env = append(cmd.Env, "HOME="+c.dir, "USER="+c.user)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// pg_ctl start leaves postgres running with our pipes open unless its
	// output goes to the log: -l does that, and WaitDelay bounds the rest.
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		return out.Bytes(), fmt.Errorf("devpostgres: %s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return out.Bytes(), nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("devpostgres: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
