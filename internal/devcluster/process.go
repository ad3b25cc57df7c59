package devcluster

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"entra2okta/internal/procgroup"
)

// sink keeps one process's output and copies it to the cluster's Output.
type sink struct {
	mu  sync.Mutex
	buf bytes.Buffer
	out io.Writer
}

func (s *sink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf.Write(p)
	if s.out != nil {
		_, _ = s.out.Write(p)
	}
	return len(p), nil
}

func (s *sink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// process is one binary of the topology, run again by start after a kill.
// It runs in a process group of its own, so that a kill reaches anything it
// started, and dies with the test process (Pdeathsig).
type process struct {
	name string
	bin  string
	env  []string
	logs *sink

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// start runs the binary (again); an error if it is running.
func (p *process) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return fmt.Errorf("devcluster: %s is running", p.name)
	}
	cmd := exec.Command(p.bin)
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = p.logs, p.logs
	cmd.SysProcAttr = procgroup.Attr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("devcluster: start %s: %w", p.name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	p.cmd, p.done = cmd, done
	return nil
}

// pid is the running process's id (0 when stopped).
func (p *process) pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// signal sends sig to the process group and waits up to wait for the
// process to exit; after that it SIGKILLs the group. It then checks that
// nothing of the group remains.
func (p *process) signal(sig syscall.Signal, wait time.Duration) error {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.cmd, p.done = nil, nil
	p.mu.Unlock()
	if cmd == nil {
		return nil
	}
	return procgroup.Stop(p.name, cmd.Process.Pid, done, sig, wait)
}

// kill SIGKILLs the process group.
func (p *process) kill() error { return p.signal(syscall.SIGKILL, 10*time.Second) }

// stop asks the process to stop (SIGTERM), then kills it after 20 s.
func (p *process) stop() error { return p.signal(syscall.SIGTERM, 20*time.Second) }

// Build builds ./worker and ./hookserver into dir (go build, from the
// module the current directory belongs to). Start calls it when
// Options.BinDir is empty; callers starting several clusters build once.
func Build(ctx context.Context, dir string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	for _, pkg := range []string{"worker", "hookserver"} {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(dir, pkg), "entra2okta/"+pkg)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("devcluster: go build ./%s: %w: %s", pkg, err, bytes.TrimSpace(out.Bytes()))
		}
	}
	return nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
