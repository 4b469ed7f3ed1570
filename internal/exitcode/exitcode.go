// Package exitcode holds connctl's exit codes and the typed errors that carry
// them from commands to app.Run. It never prints.
package exitcode

import (
	"context"
	"errors"
	"fmt"
)

// Code is a process exit status.
type Code int

// The exit codes connctl promises to scripts (docs/exit-codes.md).
const (
	OK          Code = 0
	Failure     Code = 1
	Usage       Code = 2
	Partial     Code = 3
	AuthNeeded  Code = 4
	Pending     Code = 8
	Interrupted Code = 130
)

// Error is an error with an exit code and optional hints printed on their own lines.
type Error struct {
	Code  Code
	Err   error
	Hints []string
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// New returns an error with the given code.
func New(code Code, format string, args ...any) error {
	return &Error{Code: code, Err: fmt.Errorf(format, args...)}
}

// UsageError is a bad flag, argument or input: exit 2.
func UsageError(format string, args ...any) error {
	return &Error{Code: Usage, Err: fmt.Errorf(format, args...)}
}

// FlagError marks a cobra flag/argument parsing error: exit 2 with a pointer to --help.
type FlagError struct {
	Err error
}

func (e *FlagError) Error() string { return e.Err.Error() }
func (e *FlagError) Unwrap() error { return e.Err }

// WithCode wraps err so it exits with code. A nil err stays nil.
func WithCode(code Code, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return &Error{Code: code, Err: err, Hints: e.Hints}
	}
	return &Error{Code: code, Err: err}
}

// WithHint adds a hint line to err, keeping its code.
func WithHint(err error, hint string) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return &Error{Code: e.Code, Err: err, Hints: append(append([]string{}, e.Hints...), hint)}
	}
	var fe *FlagError
	if errors.As(err, &fe) {
		return &Error{Code: Usage, Err: err, Hints: []string{hint}}
	}
	return &Error{Code: Failure, Err: err, Hints: []string{hint}}
}

// Hints returns the hints attached to err, outermost last.
func Hints(err error) []string {
	var e *Error
	if errors.As(err, &e) {
		return e.Hints
	}
	return nil
}

// Exit is the exit status of a process connctl ran for the user (`connctl
// exec`), which connctl exits with as its own: app.Run prints nothing for
// it, even after Ctrl-C (the child decided what an interrupt means).
type Exit struct {
	Status int
}

func (e *Exit) Error() string { return fmt.Sprintf("the command exited with status %d", e.Status) }

// ErrSilent is returned by commands that have already explained the failure.
var ErrSilent = errors.New("silent error")

// FromError maps an error to its exit code.
func FromError(err error) Code {
	if err == nil {
		return OK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	var fe *FlagError
	if errors.As(err, &fe) {
		return Usage
	}
	var x *Exit
	if errors.As(err, &x) {
		return Code(x.Status)
	}
	if errors.Is(err, context.Canceled) {
		return Interrupted
	}
	return Failure
}

// Unknown is an error about a name that does not exist (a connection or a
// job), so that app.Run can suggest the existing names nearest to it.
type Unknown struct {
	Kind string // "connection" or "job"
	Name string
	Err  error
}

func (e *Unknown) Error() string { return e.Err.Error() }
func (e *Unknown) Unwrap() error { return e.Err }

// NotFound is the usage error (exit 2) for a name of kind that does not exist.
func NotFound(kind, name string) error {
	return &Error{Code: Usage, Err: &Unknown{Kind: kind, Name: name, Err: fmt.Errorf("%s %q not found", kind, name)}}
}
