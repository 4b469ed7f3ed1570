// Package cmdtest holds what the commands' flag tests share. Only tests
// import it.
package cmdtest

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/exitcode"
)

// Execute runs cmd as `connctl args...` (args start with cmd's name or an
// alias) under a parent that wraps flag errors as the root command does
// (exit 2), with output discarded, and returns Execute's error.
func Execute(cmd *cobra.Command, args []string) error {
	parent := &cobra.Command{Use: "connctl", SilenceUsage: true, SilenceErrors: true}
	parent.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &exitcode.FlagError{Err: err} })
	parent.AddCommand(cmd)
	parent.SetArgs(args)
	parent.SetOut(io.Discard)
	parent.SetErr(io.Discard)
	return parent.Execute()
}
