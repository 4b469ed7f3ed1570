package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// Ctrl-C ends every prompt at once (#12 item 4): connctl runs on a real
// pseudo-terminal, the test types Ctrl-C at the prompt as a user would (the
// terminal turns it into SIGINT for the foreground process), and connctl
// must exit 130 having written nothing, with the terminal's echo back on.

// openPTY opens a pseudo-terminal pair with the Linux ioctls (no cgo, no
// dependency): the master the test reads and types into, and the slave
// connctl gets as its terminal.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err) // CI has /dev/ptmx; SkipAllowed is not needed
	}
	var unlock int32
	if err := ioctl(m, syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); err != nil {
		t.Fatalf("unlock pty: %v", err)
	}
	var n uint32
	if err := ioctl(m, syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); err != nil {
		t.Fatalf("pty number: %v", err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open pty slave: %v", err)
	}
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

func ioctl(f *os.File, req, arg uintptr) error {
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), req, arg); e != 0 {
		return e
	}
	return nil
}

// echoOn reports whether the terminal echoes what is typed.
func echoOn(t *testing.T, tty *os.File) bool {
	t.Helper()
	var st syscall.Termios
	if err := ioctl(tty, syscall.TCGETS, uintptr(unsafe.Pointer(&st))); err != nil {
		t.Fatalf("read terminal state: %v", err)
	}
	return st.Lflag&syscall.ECHO != 0
}

// ptyRun is connctl running on a pseudo-terminal.
type ptyRun struct {
	t      *testing.T
	master *os.File
	slave  *os.File
	cmd    *exec.Cmd
	mu     sync.Mutex
	out    bytes.Buffer
	more   chan struct{} // signalled when output arrives
	exited chan struct{}
	err    error
}

// startOnPTY starts connctl with args as the foreground job of a new
// terminal session, so that Ctrl-C typed into the master reaches it.
func (c *cli) startOnPTY(args ...string) *ptyRun {
	c.t.Helper()
	m, s := openPTY(c.t)
	r := &ptyRun{t: c.t, master: m, slave: s, more: make(chan struct{}, 1), exited: make(chan struct{})}
	r.cmd = exec.Command("connctl", args...)
	r.cmd.Dir, r.cmd.Env = c.dir, c.env
	r.cmd.Stdin, r.cmd.Stdout, r.cmd.Stderr = s, s, s
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := r.cmd.Start(); err != nil {
		c.t.Fatalf("start connctl on a pty: %v", err)
	}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := m.Read(buf)
			if n > 0 {
				r.mu.Lock()
				r.out.Write(buf[:n])
				r.mu.Unlock()
				select {
				case r.more <- struct{}{}:
				default:
				}
			}
			if err != nil {
				return
			}
		}
	}()
	go func() { r.err = r.cmd.Wait(); close(r.exited) }()
	c.t.Cleanup(func() {
		select {
		case <-r.exited:
		default:
			_ = r.cmd.Process.Kill()
			<-r.exited
		}
	})
	return r
}

// output is what connctl has written to the terminal so far.
func (r *ptyRun) output() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.out.String()
}

// waitFor waits until the terminal shows want, also after connctl exited
// (what it wrote last may still be on its way through the terminal). The
// limit is only there so that a hang fails the test instead of the whole
// suite's deadline.
func (r *ptyRun) waitFor(want string) {
	r.t.Helper()
	limit := time.After(60 * time.Second)
	for !strings.Contains(r.output(), want) {
		select {
		case <-r.more:
		case <-limit:
			r.t.Fatalf("connctl never showed %q; it showed:\n%s", want, r.output())
		}
	}
}

// typeKeys types s at the terminal.
func (r *ptyRun) typeKeys(s string) {
	r.t.Helper()
	if _, err := r.master.Write([]byte(s)); err != nil {
		r.t.Fatalf("type %q: %v", s, err)
	}
}

// exitCode waits for connctl to exit (a hang fails after a generous
// limit) and returns its exit code.
func (r *ptyRun) exitCode() int {
	r.t.Helper()
	select {
	case <-r.exited:
	case <-time.After(60 * time.Second):
		r.t.Fatalf("connctl did not exit after Ctrl-C; it showed:\n%s", r.output())
	}
	var ee *exec.ExitError
	if errors.As(r.err, &ee) {
		return ee.ExitCode()
	}
	if r.err != nil {
		r.t.Fatalf("connctl: %v", r.err)
	}
	return 0
}

// interrupted checks that Ctrl-C ended connctl with 130 and the message,
// and that the terminal echoes again.
func (r *ptyRun) interrupted() {
	r.t.Helper()
	if code := r.exitCode(); code != 130 {
		r.t.Errorf("exit %d after Ctrl-C, want 130; it showed:\n%s", code, r.output())
	}
	r.waitFor("error: interrupted")
	if !echoOn(r.t, r.slave) {
		r.t.Errorf("the terminal's echo is still off after Ctrl-C")
	}
}

// nothingStored checks that no connection and no secret exist.
func (c *cli) nothingStored() {
	c.t.Helper()
	if b, err := os.ReadFile(filepath.Join(c.dir, "home", ".config", "connctl", "config.yaml")); err == nil && bytes.Contains(b, []byte("name:")) {
		c.t.Errorf("the config holds a connection after Ctrl-C:\n%s", b)
	}
	keys, err := storeKeys(c.fake)
	if err != nil {
		c.t.Fatal(err)
	}
	if len(keys) != 0 {
		c.t.Errorf("the secret store holds %v after Ctrl-C", keys)
	}
}

func TestCtrlCAtPrompts(t *testing.T) {
	if realKeyring() {
		t.Skip("the prompts do not depend on the keyring: run once, with the fake")
	}
	t.Parallel()
	create := []struct {
		name   string
		args   []string
		prompt string
		typed  string // typed before Ctrl-C
	}{
		{"connector prompt", []string{"create", "--name", "fd"}, "Connector: ", ""},
		{"field prompt", []string{"create", "--connector", "freshdesk", "--name", "fd"}, "Domain: ", "acm"},
		{"hidden secret prompt", []string{"create", "--connector", "freshdesk", "--name", "fd", "--set", "domain=acme"}, "(input hidden): ", ""},
		{"hidden secret prompt, half typed", []string{"create", "--connector", "freshdesk", "--name", "fd", "--set", "domain=acme"}, "(input hidden): ", "fd-CANARY-ke"},
	}
	for _, tc := range create {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newCLI(t)
			r := c.startOnPTY(tc.args...)
			r.waitFor(tc.prompt)
			r.typeKeys(tc.typed)
			r.typeKeys("\x03")
			r.interrupted()
			c.nothingStored()
		})
	}

	confirm := []struct {
		name string
		args []string
	}{
		{"delete confirmation", []string{"delete", "fd", "--cascade"}},
		{"jobs delete confirmation", []string{"jobs", "delete", "j"}},
	}
	for _, tc := range confirm {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newCLI(t)
			c.ok("fd-CANARY-key", "create", "--connector", "freshdesk", "--name", "fd", "--set", "domain=acme", "--secret-stdin", "--no-verify")
			c.ok("", "jobs", "create", "j", "--connection", "fd", "--source", "tickets", "--dest", "out.ndjson")
			before := string(c.read(filepath.Join("home", ".config", "connctl", "config.yaml")))
			r := c.startOnPTY(tc.args...)
			r.waitFor("[y/N] ")
			r.typeKeys("\x03")
			r.interrupted()
			if after := string(c.read(filepath.Join("home", ".config", "connctl", "config.yaml"))); after != before {
				t.Errorf("the config changed after Ctrl-C at the confirmation:\n%s", after)
			}
			if keys, err := storeKeys(c.fake); err != nil || len(keys) != 1 {
				t.Errorf("the secret store holds %v (%v) after Ctrl-C, want the one secret", keys, err)
			}
		})
	}
}

// TestCtrlCStopsJQ: SIGINT ends a --jq query that never would (#10 item 10)
// with exit 130. connctl starts with SIGINT ignored, so that the Go runtime
// installs its handler only when app.Run asks for the signal: the test
// sends SIGINT once /proc shows it caught, never before.
func TestCtrlCStopsJQ(t *testing.T) {
	if realKeyring() {
		t.Skip("--jq does not depend on the keyring: run once, with the fake")
	}
	t.Parallel()
	c := newCLI(t)
	bin, err := exec.LookPath("connctl")
	if err != nil {
		t.Fatal(err)
	}
	for _, query := range []string{"def f: f; f", "last(repeat(1))"} {
		cmd := exec.Command("sh", "-c", `trap "" INT; exec "$0" "$@"`, bin, "list", "--jq", query)
		cmd.Dir, cmd.Env = c.dir, c.env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		waitCatches(t, cmd.Process.Pid, syscall.SIGINT, exited)
		if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		select {
		case err = <-exited:
		case <-time.After(60 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatalf("--jq %q did not stop on SIGINT", query)
		}
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 130 {
			t.Errorf("--jq %q after SIGINT: %v, want exit 130; stderr: %s", query, err, stderr.String())
		}
		if !strings.Contains(stderr.String(), "error: interrupted") {
			t.Errorf("--jq %q after SIGINT says %q", query, stderr.String())
		}
	}
}

// waitCatches waits until process pid has a handler for sig (SigCgt in
// /proc/<pid>/status).
func waitCatches(t *testing.T, pid int, sig syscall.Signal, exited chan error) {
	t.Helper()
	limit := time.Now().Add(60 * time.Second)
	for {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				if v, ok := strings.CutPrefix(line, "SigCgt:"); ok {
					mask, _ := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
					if mask&(1<<(uint(sig)-1)) != 0 {
						return
					}
				}
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("connctl exited before it handled %v: %v", sig, err)
		default:
		}
		if time.Now().After(limit) {
			t.Fatalf("connctl never handled %v", sig)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
