package iostreams

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestReadHiddenLine(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, keys, want string
		err              error
	}{
		{"enter", "s3cret\r", "s3cret", nil},
		{"newline", "s3cret\nnext", "s3cret", nil},
		{"backspace and DEL", "ab\x7fc\bd\r", "ad", nil},
		{"backspace over UTF-8", "pässé\x7f\x7f\r", "päs", nil},
		{"Ctrl-U erases", "wrong\x15right\r", "right", nil},
		{"other controls ignored", "a\x1b\x01b\r", "ab", nil},
		{"Ctrl-C", "half typed\x03more\r", "", ErrInterrupted},
		{"Ctrl-D on an empty line", "\x04", "", ErrPromptAborted},
		{"Ctrl-D mid-line is ignored", "ab\x04c\r", "abc", nil},
		{"end of input", "", "", ErrPromptAborted},
		{"end of input after text", "abc", "abc", nil},
	}
	for _, tc := range cases {
		got, err := readHiddenLine(strings.NewReader(tc.keys))
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("%s: readHiddenLine(%q) = %q, %v; want %q, %v", tc.name, tc.keys, got, err, tc.want, tc.err)
		}
	}
}

// blocked is a reader that never returns, like a terminal nobody types at.
type blocked struct{}

func (blocked) Read([]byte) (int, error) { select {} }

// TestPromptsEndWithTheContext: a cancelled context (Ctrl-C, SIGTERM) ends
// a prompt that is waiting for a line, with an error that says so.
func TestPromptsEndWithTheContext(t *testing.T) {
	t.Parallel()
	for name, ask := range map[string]func(*IOStreams) error{
		"Prompt":       func(s *IOStreams) error { _, err := s.Prompt("Domain: "); return err },
		"Confirm":      func(s *IOStreams) error { _, err := s.Confirm("Delete?"); return err },
		"PromptSecret": func(s *IOStreams) error { _, err := s.PromptSecret("Key: "); return err },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, _, _, _ := Test()
			s.In = blocked{}
			s.SetSecretReader(func() (string, error) { _, err := io.ReadAll(blocked{}); return "", err })
			ctx, cancel := context.WithCancel(context.Background())
			s.SetContext(ctx)
			errc := make(chan error, 1)
			go func() { errc <- ask(s) }()
			cancel()
			if err := <-errc; !errors.Is(err, context.Canceled) {
				t.Fatalf("%s after cancel: %v, want context.Canceled", name, err)
			}
			// Later prompts end at once and start no second reader.
			if err := ask(s); !errors.Is(err, context.Canceled) {
				t.Fatalf("%s after cancel, again: %v", name, err)
			}
		})
	}
}
