package app

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/exitcode"
)

// The patterns are compiled on first use (an error), not at every start.
var (
	unknownCommand = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^unknown command "([^"]*)" for "([^"]*)"`)
	})
	unknownFlag = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^unknown flag: --([^\s=]+)`) })
	argCount    = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^(?:accepts (\d+) arg\(s\), received (\d+)|requires at least (\d+) arg\(s\), only received (\d+)|accepts at most (\d+) arg\(s\), received (\d+)|accepts between (\d+) and (\d+) arg\(s\), received (\d+))$`)
	})
)

// explain turns cobra's own errors into one clear line (cobra's messages
// span several lines or do not say what is missing) and adds "did you
// mean" hints for mistyped commands, flags, connection and job names. The
// hints it returns come before the error's own.
func explain(err error, executed *cobra.Command, d *deps.Deps) (string, []string) {
	msg := err.Error()
	first, _, _ := strings.Cut(strings.TrimSpace(msg), "\n")
	if m := unknownCommand().FindStringSubmatch(first); m != nil && executed != nil {
		if !executed.HasAvailableSubCommands() {
			msg := fmt.Sprintf("%s takes no arguments, got %q", executed.CommandPath(), m[1])
			if executed.Flags().Lookup("name") != nil {
				return msg, []string{"give the name with --name " + m[1]}
			}
			return msg, nil
		}
		var names []string
		for _, c := range executed.Commands() {
			if c.IsAvailableCommand() {
				names = append(names, c.Name())
				names = append(names, c.Aliases...)
			}
		}
		if s := suggest(m[1], names); len(s) > 0 {
			for i := range s {
				s[i] = "`" + executed.CommandPath() + " " + s[i] + "`"
			}
			return first, []string{"did you mean " + strings.Join(s, " or ") + "?"}
		}
		return first, nil
	}
	if m := unknownFlag().FindStringSubmatch(first); m != nil && executed != nil {
		var names []string
		add := func(f *pflag.Flag) {
			if !f.Hidden {
				names = append(names, f.Name)
			}
		}
		executed.Flags().VisitAll(add)
		executed.InheritedFlags().VisitAll(add)
		if s := suggest(m[1], names); len(s) > 0 {
			for i := range s {
				s[i] = "--" + s[i]
			}
			return first, []string{"did you mean " + strings.Join(s, " or ") + "? (see `" + executed.CommandPath() + " --help`)"}
		}
		return first, nil
	}
	if m := argCount().FindStringSubmatch(first); m != nil && executed != nil {
		return argsMessage(executed, m), nil
	}
	var u *exitcode.Unknown
	if errors.As(err, &u) && d != nil && d.Config != nil {
		if cfg, cerr := d.Config(); cerr == nil {
			var names []string
			switch u.Kind {
			case "connection":
				for _, c := range cfg.Connections() {
					names = append(names, c.Name)
				}
			case "job":
				for _, j := range cfg.Document().Jobs {
					names = append(names, j.Name)
				}
			}
			if s := suggest(u.Name, names); len(s) > 0 {
				for i := range s {
					s[i] = strconv.Quote(s[i])
				}
				return oneLine(msg), []string{"did you mean " + strings.Join(s, " or ") + "?"}
			}
		}
	}
	return oneLine(msg), nil
}

// argsMessage says which argument is missing, or how many too many were
// given, naming the command's arguments from its usage line.
func argsMessage(c *cobra.Command, m []string) string {
	nums := []int{}
	for _, s := range m[1:] {
		if s != "" {
			n, _ := strconv.Atoi(s)
			nums = append(nums, n)
		}
	}
	var least, most, got int
	switch {
	case m[1] != "":
		least, most, got = nums[0], nums[0], nums[1]
	case m[3] != "":
		least, most, got = nums[0], -1, nums[1]
	case m[5] != "":
		least, most, got = 0, nums[0], nums[1]
	default:
		least, most, got = nums[0], nums[1], nums[2]
	}
	usage := strings.TrimSpace(c.Use)
	params := placeholders(usage)
	path := c.CommandPath()
	line := path
	if _, rest, ok := strings.Cut(usage, " "); ok {
		line += " " + rest
	}
	if got < least {
		missing := "an argument"
		if got < len(params) {
			missing = params[got]
		}
		return fmt.Sprintf("missing %s: usage: %s", missing, line)
	}
	if most == 0 {
		return fmt.Sprintf("%s takes no arguments, got %d: usage: %s", path, got, line)
	}
	if most == len(params) {
		return fmt.Sprintf("%s takes only %s, got %d arguments: usage: %s", path, strings.Join(params, " "), got, line)
	}
	return fmt.Sprintf("%s takes at most %d argument(s), got %d: usage: %s", path, most, got, line)
}

// placeholders are the required arguments of a usage line: its <words>
// outside [brackets].
func placeholders(usage string) []string {
	var out []string
	depth := 0
	fields := strings.Fields(usage)
	for i, f := range fields {
		if i == 0 {
			continue
		}
		if depth == 0 && strings.HasPrefix(f, "<") {
			out = append(out, strings.TrimRight(f, ".,|"))
		}
		depth += strings.Count(f, "[") - strings.Count(f, "]")
	}
	return out
}

// suggest returns the candidates close to typed: at most one edit away
// (two for longer words; a swap of neighbours counts as one), or sharing
// all but its last few letters as a prefix (--connector, --connection).
// Closest first, at most three.
func suggest(typed string, candidates []string) []string {
	t := strings.ToLower(typed)
	if t == "" {
		return nil
	}
	type scored struct {
		name string
		dist int
	}
	var found []scored
	seen := map[string]bool{}
	for _, c := range candidates {
		lc := strings.ToLower(c)
		if seen[c] || lc == t {
			continue
		}
		seen[c] = true
		dist := osa(t, lc)
		limit := 1
		if len([]rune(t)) >= 8 {
			limit = 2
		}
		p := commonPrefix(t, lc)
		switch {
		case dist <= limit:
		case len([]rune(t)) >= 5 && p >= len([]rune(t))-3 && p >= 4:
		default:
			continue
		}
		found = append(found, scored{c, dist})
	}
	sort.SliceStable(found, func(i, j int) bool { return found[i].dist < found[j].dist })
	var out []string
	for i, f := range found {
		if i == 3 {
			break
		}
		out = append(out, f.name)
	}
	return out
}

func commonPrefix(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	n := 0
	for n < len(ra) && n < len(rb) && ra[n] == rb[n] {
		n++
	}
	return n
}

// osa is the optimal string alignment distance: Levenshtein plus the swap
// of two neighbouring letters as one edit ("lsit" is one edit from "list").
func osa(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
