package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// StartWorker runs the worker in this process (WorkerConfig) until
// StopWorker or Close; worker.Run is started again a second after it
// returns early (e.g. while Temporal is unreachable).
func (s *Stack) StartWorker() {
	if s.workerStop != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	cfg := s.WorkerConfig()
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			err := runWorker(ctx, cfg)
			if ctx.Err() != nil {
				return
			}
			s.logger.Warn("worker returned; starting it again", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}()
	s.workerStop = func() error {
		cancel()
		select {
		case <-done:
			return nil
		case <-time.After(30 * time.Second):
			return errors.New("devstack: the worker did not stop within 30 s")
		}
	}
}

// StopWorker stops the in-process worker and waits up to 30 s for it.
func (s *Stack) StopWorker() error {
	if s.workerStop == nil {
		return nil
	}
	err := s.workerStop()
	s.workerStop = nil
	return err
}

// WorkerProcess is the worker binary running as a child process.
type WorkerProcess struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has been waited for
}

// StartWorkerProcess starts the worker binary bin ("": built into Dir on
// first use) with WorkerEnv; Close stops it.
func (s *Stack) StartWorkerProcess(ctx context.Context, bin string) (*WorkerProcess, error) {
	if bin == "" {
		s.buildOnce.Do(func() { s.binary, s.buildErr = BuildWorker(ctx, s.dir) })
		if s.buildErr != nil {
			return nil, s.buildErr
		}
		bin = s.binary
	}
	cmd := exec.Command(bin)
	cmd.Env = s.WorkerEnv()
	cmd.SysProcAttr = workerProcAttr()
	var out io.Writer = io.Discard
	if s.opts.WorkerOutput != nil {
		out = s.opts.WorkerOutput
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("devstack: start the worker: %w", err)
	}
	p := &WorkerProcess{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	s.procs = append(s.procs, p)
	return p, nil
}

// PID is the process id.
func (p *WorkerProcess) PID() int { return p.cmd.Process.Pid }

// Kill sends SIGKILL and waits up to 10 s for the process to be gone.
func (p *WorkerProcess) Kill() error {
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(10 * time.Second):
		return errors.New("devstack: the killed worker did not exit")
	}
}

// Stop asks the worker to stop (SIGTERM) and kills it after 40 s; it
// returns at once when the process has already ended.
func (p *WorkerProcess) Stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(40 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}
