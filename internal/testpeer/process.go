package testpeer

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Process is a peer server started by a test: in a process group of its
// own and, on Linux, killed by the kernel if the test binary dies, so that
// no server outlives the test.
type Process struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has been waited for
	err    error
}

// Spawn starts cmd. onExit, when set, runs once the process has exited and
// its output has been copied (e.g. to close the log file).
func Spawn(cmd *exec.Cmd, onExit func()) (*Process, error) {
	cmd.SysProcAttr = sysProcAttr()
	// Wait returns this long after the peer exits even if something it
	// started still holds its output pipe open.
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Process{cmd: cmd, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		if onExit != nil {
			onExit()
		}
		close(p.exited)
	}()
	return p, nil
}

// Exited is closed once the process has exited.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Err is how the process ended; read it only after Exited is closed.
func (p *Process) Err() error { return p.err }

// Stop ends the process: SIGTERM to its process group, then SIGKILL after
// 5 seconds, and waits for it.
func (p *Process) Stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = signalGroup(p.cmd, syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
		_ = signalGroup(p.cmd, syscall.SIGKILL)
		<-p.exited
	}
}

// LogTail returns about the last n lines of the log file at path.
func LogTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(reading %s: %v)", path, err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
