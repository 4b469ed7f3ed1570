package jsonexport

import (
	"context"
	"strings"

	"github.com/spf13/cobra"
)

// FieldsAnnotation is the cmd.Annotations key under which AddFlags records
// the command's JSON field names, comma-separated, for docs and field tests.
const FieldsAnnotation = "connctl/json-fields"

// AddFlags adds -o/--output and --jq to cmd and keeps *exp up to date as
// they are parsed: nil for the table (the default), otherwise the Exporter
// for the chosen format. fields are the command's stable JSON field names, in
// CSV/TSV column order; they are listed in the --output help text and stored
// under FieldsAnnotation.
//
// The flags validate themselves while cobra parses them (they are
// pflag.Values), so an unknown format, a jq expression that does not parse
// and --jq combined with -o other than json fail before RunE with a usage
// error (exit 2), whatever the order of the flags. Nothing needs wiring into
// PreRunE, and *exp is set by the time RunE (or a test's runF) runs.
func AddFlags(cmd *cobra.Command, exp *Exporter, fields []string) {
	AddFlagsWith(cmd, exp, fields, nil)
}

// ExtraFormat is an output format of one command, which the command writes
// itself (status's prometheus): AddFlagsWith accepts it for -o, and the
// command finds it with FormatOf.
type ExtraFormat struct {
	Name Format
	Desc string // the completion description
}

// AddFlagsWith is AddFlags with formats of the command's own besides the
// common ones.
func AddFlagsWith(cmd *cobra.Command, exp *Exporter, fields []string, extra []ExtraFormat) {
	s := &flagState{exp: exp, fields: fields, ctx: cmd.Context}
	for _, x := range extra {
		s.extra = append(s.extra, x.Name)
	}
	// The default is spelled out here: String is "" until -o is given, so
	// that pflag does not append "(default table)" after the field list.
	usage := "output `format`: " + formatList(", ", s.extra...) + " (default table)"
	if len(fields) > 0 {
		usage += "\nJSON fields: " + strings.Join(fields, ", ")
	}
	cmd.Flags().VarP(&outputValue{s}, "output", "o", usage)
	cmd.Flags().Var(&jqValue{s}, "jq", "filter JSON output with a jq `expression` (implies -o json)")

	completions := make([]cobra.Completion, len(formats), len(formats)+len(extra))
	for i, f := range formats {
		completions[i] = cobra.CompletionWithDesc(string(f), formatDesc[f])
	}
	for _, x := range extra {
		completions = append(completions, cobra.CompletionWithDesc(string(x.Name), x.Desc))
	}
	mustRegister(cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(completions, cobra.ShellCompDirectiveNoFileComp)))
	mustRegister(cmd.RegisterFlagCompletionFunc("jq", cobra.NoFileCompletions))

	if len(fields) > 0 {
		if cmd.Annotations == nil {
			cmd.Annotations = map[string]string{}
		}
		cmd.Annotations[FieldsAnnotation] = strings.Join(fields, ",")
	}
}

// mustRegister panics on a completion registered twice: AddFlags was called
// twice on one command, a programming error that pflag would catch first anyway.
func mustRegister(err error) {
	if err != nil {
		panic(err)
	}
}

// Fields returns the JSON field names AddFlags recorded on cmd, or nil.
func Fields(cmd *cobra.Command) []string {
	v := cmd.Annotations[FieldsAnnotation]
	if v == "" {
		return nil
	}
	return strings.Split(v, ",")
}

// flagState is what -o and --jq have set so far; each Set rebuilds the Exporter.
type flagState struct {
	exp    *Exporter
	fields []string
	format Format // "" until -o is given
	query  string
	ctx    func() context.Context // the command's context, once it runs
	extra  []Format               // the command's own formats
}

func (s *flagState) update(format Format, query string) error {
	e, err := newWith(format, query, s.fields, s.extra)
	if err != nil {
		return err
	}
	if x, ok := e.(*Export); ok {
		x.ctx = s.ctx
	}
	s.format, s.query, *s.exp = format, query, e
	return nil
}

type outputValue struct{ s *flagState }

func (v *outputValue) String() string {
	if v.s == nil {
		return ""
	}
	return string(v.s.format)
}

func (v *outputValue) Set(val string) error { return v.s.update(Format(val), v.s.query) }
func (v *outputValue) Type() string         { return "format" }

type jqValue struct{ s *flagState }

func (v *jqValue) String() string {
	if v.s == nil {
		return ""
	}
	return v.s.query
}

func (v *jqValue) Set(val string) error { return v.s.update(v.s.format, val) }
func (v *jqValue) Type() string         { return "expression" }
