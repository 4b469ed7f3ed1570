// Package secretflags reads a connection's secrets from where a user or a
// script may safely give them: stdin, a file, an environment variable, or a
// no-echo prompt on a terminal. Never argv.
package secretflags

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/iostreams"
)

// maxSecretInput bounds what is read from stdin or a file.
const maxSecretInput = 64 << 10

// Flags are the secret-input flags of one command.
type Flags struct {
	Stdin bool
	File  string
	Env   string
	Field string
}

// Add declares --secret-stdin, --secret-file, --secret-env and --secret-field.
func Add(cmd *cobra.Command) *Flags {
	f := &Flags{}
	cmd.Flags().BoolVar(&f.Stdin, "secret-stdin", false, "read the secret from standard input (one trailing newline is dropped)")
	cmd.Flags().StringVar(&f.File, "secret-file", "", "read the secret from `file` (e.g. a service-account JSON key)")
	cmd.Flags().StringVar(&f.Env, "secret-env", "", "read the secret from the environment `variable` named")
	cmd.Flags().StringVar(&f.Field, "secret-field", "", "which secret the input fills (default: the connector's main secret)")
	cmd.MarkFlagsMutuallyExclusive("secret-stdin", "secret-file", "secret-env")
	return f
}

// Given reports whether a secret source flag was used.
func (f *Flags) Given() bool { return f.Stdin || f.File != "" || f.Env != "" }

// Collect returns secret values by field name. The flag input fills the
// target field; when requireAll is set, other required secrets are asked
// for on a terminal, and their absence elsewhere is a usage error naming the flags.
func (f *Flags) Collect(ios *iostreams.IOStreams, getenv func(string) string, fields []connector.Field, requireAll bool) (map[string]string, error) {
	out := map[string]string{}
	if len(fields) == 0 {
		if f.Given() {
			return nil, exitcode.UsageError("this connection takes no secret: drop --secret-stdin/--secret-file/--secret-env")
		}
		return out, nil
	}
	target, err := f.target(fields)
	if err != nil {
		return nil, err
	}
	if f.Given() {
		v, err := f.read(ios, getenv, target)
		if err != nil {
			return nil, err
		}
		out[target.Name] = v
	}
	if !requireAll {
		return out, nil
	}
	for _, fld := range fields {
		if !fld.Required || out[fld.Name] != "" {
			continue
		}
		if !ios.CanPrompt() {
			hint := "pass it with --secret-stdin, --secret-file or --secret-env"
			if fld.Name != target.Name {
				hint += fmt.Sprintf(" and --secret-field %s", fld.Name)
			}
			return nil, exitcode.WithHint(exitcode.UsageError("the secret %s is required and connctl is not running interactively", fld.Name), hint)
		}
		v, err := promptSecret(ios, fld)
		if err != nil {
			return nil, err
		}
		out[fld.Name] = v
	}
	return out, nil
}

func (f *Flags) target(fields []connector.Field) (connector.Field, error) {
	if f.Field == "" {
		for _, fld := range fields {
			if fld.Required {
				return fld, nil
			}
		}
		return fields[0], nil
	}
	names := make([]string, 0, len(fields))
	for _, fld := range fields {
		if fld.Name == f.Field {
			return fld, nil
		}
		names = append(names, fld.Name)
	}
	return connector.Field{}, exitcode.UsageError("--secret-field %q is not a secret of this connection (secrets: %s)", f.Field, strings.Join(names, ", "))
}

func (f *Flags) read(ios *iostreams.IOStreams, getenv func(string) string, fld connector.Field) (string, error) {
	var v string
	switch {
	case f.Stdin:
		if ios.IsStdinTTY() && ios.CanPrompt() {
			return promptSecret(ios, fld)
		}
		b, err := io.ReadAll(io.LimitReader(ios.In, maxSecretInput+1))
		if err != nil {
			return "", fmt.Errorf("read secret from stdin: %w", err)
		}
		if len(b) > maxSecretInput {
			return "", exitcode.UsageError("the secret on stdin is larger than %d bytes", maxSecretInput)
		}
		v = trimNewline(string(b))
		if v == "" {
			return "", exitcode.UsageError("--secret-stdin got nothing: pipe the %s in, e.g. printf %%s \"$VALUE\" | connctl ...", fld.Name)
		}
	case f.File != "":
		b, err := readFile(f.File)
		if err != nil {
			return "", err
		}
		v = trimNewline(string(b))
		if v == "" {
			return "", exitcode.UsageError("--secret-file %s is empty", f.File)
		}
	case f.Env != "":
		v = getenv(f.Env)
		if v == "" {
			return "", exitcode.UsageError("--secret-env %s: the variable is unset or empty", f.Env)
		}
	}
	return v, nil
}

func readFile(path string) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, exitcode.UsageError("--secret-file %s does not exist", path)
		}
		return nil, exitcode.UsageError("--secret-file %s cannot be read: %v", path, errors.Unwrap(err))
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, maxSecretInput+1))
	if err != nil {
		return nil, exitcode.UsageError("--secret-file %s cannot be read: %v", path, err)
	}
	if len(b) > maxSecretInput {
		return nil, exitcode.UsageError("--secret-file %s is larger than %d bytes: is it the right file?", path, maxSecretInput)
	}
	return b, nil
}

func promptSecret(ios *iostreams.IOStreams, fld connector.Field) (string, error) {
	label := fld.Label
	if label == "" {
		label = fld.Name
	}
	if fld.Help != "" {
		fmt.Fprintf(ios.ErrOut, "%s\n", fld.Help)
	}
	v, err := ios.PromptSecret(label + " (input hidden): ")
	if err != nil {
		return "", err
	}
	if v = strings.TrimSpace(v); v == "" {
		return "", exitcode.UsageError("no %s given", fld.Name)
	}
	return v, nil
}

func trimNewline(s string) string {
	s = strings.TrimSuffix(s, "\n")
	return strings.TrimSuffix(s, "\r")
}
