// Package iostreams holds the process's standard streams and what connctl
// knows about them: whether each is a terminal, whether prompting is allowed,
// the terminal width and colour. Commands write data to Out and everything
// else (progress, hints, prompts, confirmations) to ErrOut.
package iostreams

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/connctl/connctl/internal/textsafe"
)

// IOStreams is the set of streams a command uses.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	stdinTTY  bool
	stdoutTTY bool
	stderrTTY bool
	noPrompt  bool
	color     bool
	width     int

	inFd int // file descriptor for no-echo reads; -1 when In is not a terminal
	// readSecret reads one line without echo; replaced in tests.
	readSecret func() (string, error)
	reader     *bufio.Reader
	quiet      bool
	// ctx ends prompts when it is done (Ctrl-C); see SetContext.
	ctx context.Context
}

// System returns streams for the real process, reading the environment for
// CONNCTL_FORCE_TTY, CONNCTL_NO_PROMPT, NO_COLOR and CLICOLOR_FORCE.
func System(getenv func(string) string) *IOStreams {
	io := &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr, inFd: -1}
	io.stdinTTY = term.IsTerminal(int(os.Stdin.Fd()))
	io.stdoutTTY = term.IsTerminal(int(os.Stdout.Fd()))
	io.stderrTTY = term.IsTerminal(int(os.Stderr.Fd()))
	if io.stdinTTY {
		io.inFd = int(os.Stdin.Fd())
	}
	if force := getenv("CONNCTL_FORCE_TTY"); force != "" && force != "0" && force != "false" {
		io.stdoutTTY = true
		if n, err := strconv.Atoi(force); err == nil && n > 1 {
			io.width = n
		}
	}
	if io.width == 0 && io.stdoutTTY {
		if w, _, err := term.GetSize(int(os.Stdout.Fd())); err == nil && w > 0 {
			io.width = w
		} else {
			io.width = 80
		}
	}
	io.noPrompt = getenv("CONNCTL_NO_PROMPT") != ""
	io.color = io.stdoutTTY && getenv("NO_COLOR") == ""
	if getenv("CLICOLOR_FORCE") != "" && getenv("CLICOLOR_FORCE") != "0" {
		io.color = true
	}
	return io
}

// Test returns streams backed by buffers: (streams, stdin, stdout, stderr).
func Test() (*IOStreams, *bytes.Buffer, *bytes.Buffer, *bytes.Buffer) {
	in, out, errOut := &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut, inFd: -1, width: 80}, in, out, errOut
}

// SetTTY sets whether stdin, stdout and stderr count as terminals (tests).
func (s *IOStreams) SetTTY(stdin, stdout, stderr bool) {
	s.stdinTTY, s.stdoutTTY, s.stderrTTY = stdin, stdout, stderr
}

// SetSecretReader replaces the no-echo reader (tests).
func (s *IOStreams) SetSecretReader(f func() (string, error)) { s.readSecret = f }

// IsStdoutTTY reports whether stdout is a terminal (or forced to be one).
func (s *IOStreams) IsStdoutTTY() bool { return s.stdoutTTY }

// IsStdinTTY reports whether stdin is a terminal.
func (s *IOStreams) IsStdinTTY() bool { return s.stdinTTY }

// IsStderrTTY reports whether stderr is a terminal.
func (s *IOStreams) IsStderrTTY() bool { return s.stderrTTY }

// ColorEnabled reports whether output may use ANSI colour.
func (s *IOStreams) ColorEnabled() bool { return s.color }

// TerminalWidth is the width tables fit into; 0 when not a terminal.
func (s *IOStreams) TerminalWidth() int {
	if !s.stdoutTTY {
		return 0
	}
	return s.width
}

// CanPrompt reports whether connctl may ask questions: stdin and stdout are
// terminals and CONNCTL_NO_PROMPT is unset.
func (s *IOStreams) CanPrompt() bool { return s.stdinTTY && s.stdoutTTY && !s.noPrompt }

// ErrPromptAborted is returned when the user ends input (Ctrl-D) at a prompt.
var ErrPromptAborted = errors.New("prompt aborted")

func (s *IOStreams) lineReader() *bufio.Reader {
	if s.reader == nil {
		s.reader = bufio.NewReader(s.In)
	}
	return s.reader
}

// SetContext makes every later prompt end as soon as ctx is done, with an
// error that wraps ctx.Err(). app.Run passes the context that Ctrl-C and
// SIGTERM cancel, so that an interrupt ends a prompt at once rather than at
// the next Enter (and the line typed next is never taken as an answer).
func (s *IOStreams) SetContext(ctx context.Context) { s.ctx = ctx }

// interruptible runs read, which blocks on In, until it returns or the
// context set by SetContext is done. On an interrupt the read is left
// behind in its goroutine (the process is about to exit); the context stays
// done, so no later prompt starts a second reader on In.
func (s *IOStreams) interruptible(read func() (string, error)) (string, error) {
	ctx := s.ctx
	if ctx == nil {
		return read()
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("prompt: %w", err)
	}
	type result struct {
		v   string
		err error
	}
	got := make(chan result, 1)
	go func() {
		v, err := read()
		got <- result{v, err}
	}()
	select {
	case r := <-got:
		return r.v, r.err
	case <-ctx.Done():
		return "", fmt.Errorf("prompt: %w", ctx.Err())
	}
}

// Prompt writes label to ErrOut and reads one line from In. It ends early
// when the context given to SetContext is done.
func (s *IOStreams) Prompt(label string) (string, error) {
	fmt.Fprint(s.ErrOut, label)
	line, err := s.interruptible(func() (string, error) { return s.lineReader().ReadString('\n') })
	if err != nil && (line == "" || !errors.Is(err, io.EOF)) {
		if errors.Is(err, io.EOF) {
			return "", ErrPromptAborted
		}
		if s.ctx != nil && s.ctx.Err() != nil {
			fmt.Fprintln(s.ErrOut)
		}
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// PromptSecret asks for a value without echoing it. It ends early when the
// context given to SetContext is done, or when Ctrl-C is typed
// (ErrInterrupted), and the terminal is always left as it was found.
func (s *IOStreams) PromptSecret(label string) (string, error) {
	fmt.Fprint(s.ErrOut, label)
	defer fmt.Fprintln(s.ErrOut)
	if s.readSecret != nil {
		return s.interruptible(s.readSecret)
	}
	if s.inFd < 0 {
		return "", errors.New("cannot read a secret without echo: stdin is not a terminal")
	}
	return s.readHidden()
}

// ErrInterrupted is returned when Ctrl-C is typed at a hidden prompt (the
// terminal is in raw mode there, so it is a key, not a signal).
var ErrInterrupted = errors.New("interrupted at a prompt")

// readHidden reads one line from the terminal without echo. Unlike
// term.ReadPassword, which changes the terminal inside the blocking call,
// the terminal is switched to raw mode and back here, in the caller's
// goroutine, so an interrupt can never leave echo off; and Ctrl-C is read
// as the key it is in raw mode, so it ends the prompt at once instead of
// waiting for Enter.
func (s *IOStreams) readHidden() (string, error) {
	var done <-chan struct{}
	if s.ctx != nil {
		if err := s.ctx.Err(); err != nil {
			return "", fmt.Errorf("prompt: %w", err)
		}
		done = s.ctx.Done()
	}
	saved, err := term.MakeRaw(s.inFd)
	if err != nil {
		return "", fmt.Errorf("turn off echo: %w", err)
	}
	defer func() { _ = term.Restore(s.inFd, saved) }()
	type result struct {
		v   string
		err error
	}
	got := make(chan result, 1)
	go func() {
		v, err := readHiddenLine(s.In)
		got <- result{v, err}
	}()
	select {
	case r := <-got:
		return r.v, r.err
	case <-done:
		// SIGTERM (or a deadline): the read is left behind, the
		// process is about to exit.
		return "", fmt.Errorf("prompt: %w", s.ctx.Err())
	}
}

// readHiddenLine reads keys from a terminal in raw mode up to Enter, with
// the line editing a hidden prompt needs: Backspace, Ctrl-U (erase the
// line), Ctrl-C (ErrInterrupted) and Ctrl-D on an empty line
// (ErrPromptAborted). Other control keys are ignored.
func readHiddenLine(in io.Reader) (string, error) {
	var line []byte
	var key [1]byte
	for {
		n, err := in.Read(key[:])
		if n == 1 {
			switch c := key[0]; c {
			case '\r', '\n':
				return string(line), nil
			case 0x03: // Ctrl-C
				return "", ErrInterrupted
			case 0x04: // Ctrl-D
				if len(line) == 0 {
					return "", ErrPromptAborted
				}
			case 0x7f, '\b':
				if len(line) > 0 {
					_, size := utf8.DecodeLastRune(line)
					line = line[:len(line)-size]
				}
			case 0x15: // Ctrl-U
				line = line[:0]
			default:
				if c >= 0x20 {
					line = append(line, c)
				}
			}
			continue
		}
		if errors.Is(err, io.EOF) {
			if len(line) == 0 {
				return "", ErrPromptAborted
			}
			return string(line), nil
		}
		if err != nil {
			return "", err
		}
	}
}

// Confirm asks a yes/no question; the default answer is no.
func (s *IOStreams) Confirm(question string) (bool, error) {
	ans, err := s.Prompt(question + " [y/N] ")
	if err != nil {
		return false, err
	}
	switch strings.ToLower(strings.TrimSpace(ans)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}

// SetQuiet silences confirmations written with Statusf (--quiet).
func (s *IOStreams) SetQuiet(q bool) { s.quiet = q }

// Statusf writes a confirmation line to ErrOut unless --quiet was given.
// Terminal controls other than colour in the line (a name from a hand-edited
// config, a provider's words) are shown escaped (package textsafe).
func (s *IOStreams) Statusf(format string, args ...any) {
	if s.quiet {
		return
	}
	fmt.Fprintln(s.ErrOut, textsafe.SanitizeKeepColor(fmt.Sprintf(format, args...)))
}

// Warnf writes a warning line to ErrOut, even with --quiet, with terminal
// controls shown escaped as Statusf does.
func (s *IOStreams) Warnf(format string, args ...any) {
	fmt.Fprintln(s.ErrOut, "warning: "+textsafe.SanitizeKeepColor(fmt.Sprintf(format, args...)))
}

// Error writes an error line and a line per hint to ErrOut, even with
// --quiet, with terminal controls shown escaped. It is how app.Run reports
// the error a command returned, and how a command that goes on after one of
// several items failed (`jobs run a b`) reports that item's error.
func (s *IOStreams) Error(msg string, hints ...string) {
	fmt.Fprintln(s.ErrOut, "error: "+textsafe.Sanitize(msg))
	for _, h := range hints {
		fmt.Fprintln(s.ErrOut, "hint: "+textsafe.Sanitize(h))
	}
}

// Success returns a check mark on a colour terminal, else nothing.
func (s *IOStreams) Success() string {
	if s.stderrTTY && s.color {
		return "\x1b[32m✓\x1b[0m "
	}
	return ""
}
