// Package app runs connctl: it builds the command tree, executes it with a
// context cancelled by Ctrl-C or SIGTERM, and turns the outcome into one
// error line, hints and an exit code. Only cmd/ calls os.Exit.
package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/commands/root"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/iostreams"
	"github.com/connctl/connctl/internal/jsonexport"
	"github.com/connctl/connctl/internal/textsafe"
)

// Main runs connctl for this process and returns its exit code.
func Main() int {
	return Run(os.Args[1:], deps.System())
}

// Run executes args against d and returns the exit code.
func Run(args []string, d *deps.Deps) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return RunContext(ctx, args, d)
}

// RunContext is Run with a caller-owned context (tests).
func RunContext(ctx context.Context, args []string, d *deps.Deps) int {
	// Prompts end on Ctrl-C too, not only at the next Enter.
	d.IO.SetContext(ctx)
	cmd := root.NewCmd(d)
	cmd.SetArgs(args)
	cmd.SetIn(d.IO.In)
	cmd.SetOut(d.IO.Out)
	cmd.SetErr(d.IO.ErrOut)
	executed, err := cmd.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	var child *exitcode.Exit
	if errors.As(err, &child) {
		return child.Status // connctl exec: the child's status, whatever interrupted it
	}
	if errors.Is(err, iostreams.ErrInterrupted) || ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, iostreams.ErrPromptAborted) || exitcode.FromError(err) != exitcode.Usage) {
		fmt.Fprintln(d.IO.ErrOut, "error: interrupted")
		return int(exitcode.Interrupted)
	}
	if errors.Is(err, iostreams.ErrPromptAborted) {
		fmt.Fprintln(d.IO.ErrOut, "error: input ended at a prompt")
		return int(exitcode.Interrupted)
	}
	if errors.Is(err, exitcode.ErrSilent) {
		return int(exitcode.FromError(err))
	}
	code := exitcode.FromError(err)
	if code == exitcode.Failure && isCobraUsage(err) {
		code = exitcode.Usage
	}
	msg, hints := explain(err, executed, d)
	hints = append(hints, exitcode.Hints(err)...)
	msg = textsafe.Sanitize(msg)
	d.IO.Error(msg, hints...)
	if code == exitcode.Usage && len(hints) == 0 && executed != nil {
		fmt.Fprintf(d.IO.ErrOut, "see `%s --help`\n", executed.CommandPath())
	}
	if executed != nil && wantsJSON(executed) {
		jsonexport.WriteError(d.IO.ErrOut, int(code), msg)
	}
	return int(code)
}

func wantsJSON(c *cobra.Command) bool {
	if f := c.Flags().Lookup("output"); f != nil && f.Value.String() == "json" {
		return true
	}
	f := c.Flags().Lookup("jq")
	return f != nil && f.Changed
}

// isCobraUsage recognises cobra's own argument and flag errors.
func isCobraUsage(err error) bool {
	var fe *exitcode.FlagError
	if errors.As(err, &fe) {
		return true
	}
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand", "accepts ", "requires at least", "requires at most", "invalid argument", "flag needs an argument", "if any flags in the group", "required flag", "at least one of the flags", "bad flag syntax"} {
		if strings.HasPrefix(msg, p) || strings.Contains(msg, p) && strings.HasPrefix(p, "if any") {
			return true
		}
	}
	return false
}

// oneLine makes an error message one line. Messages quote providers and
// files, so every terminal control left is shown escaped: this is the last
// place an error passes before the terminal.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	s = strings.ReplaceAll(s, "\r", " ")
	return textsafe.Sanitize(strings.ReplaceAll(s, "\n", "; "))
}
