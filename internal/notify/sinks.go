package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/connctl/connctl/internal/activitylog"
	"github.com/connctl/connctl/internal/safehttp"
)

// SendTimeout bounds one delivery: a notification must not hold up a cron
// run for long.
const SendTimeout = 15 * time.Second

// CheckWebhook checks a notify.webhook value: an https URL, or plain http
// to this machine only (127.0.0.1, ::1 or localhost), so that the payload
// never crosses a network in clear text.
func CheckWebhook(v string) error {
	u, err := url.Parse(strings.TrimSpace(v))
	if err != nil || u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("%q is not a URL such as https://hooks.slack.com/services/...", redactURL(v))
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		switch u.Hostname() {
		case "127.0.0.1", "::1", "localhost":
			return nil
		}
		return fmt.Errorf("%q: plain http is only for 127.0.0.1 or localhost; use https", redactURL(v))
	}
	return fmt.Errorf("%q: the webhook must be an https URL", redactURL(v))
}

// redactURL keeps a URL's scheme and host: its path and query may be the
// credential (a Slack webhook's is).
func redactURL(v string) string {
	u, err := url.Parse(strings.TrimSpace(v))
	if err != nil || u.Host == "" {
		if len(v) > 12 {
			return v[:12] + "…"
		}
		return v
	}
	if u.Path == "" && u.RawQuery == "" && u.User == nil {
		return u.Scheme + "://" + u.Host
	}
	return u.Scheme + "://" + u.Host + "/…"
}

// Webhook POSTs the payload as JSON to a URL (Slack's incoming webhooks
// read its "text"). Any 2xx answer is a delivery.
type Webhook struct {
	URL  string
	HTTP *http.Client // nil: safehttp's default
}

// Name is the sink's name in warnings.
func (w *Webhook) Name() string { return "webhook" }

// Send posts p.
func (w *Webhook) Send(ctx context.Context, p Payload) error {
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, SendTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook %s: bad URL", redactURL(w.URL))
	}
	req.Header.Set("Content-Type", "application/json")
	// No redirect is followed: the payload goes to the URL that was
	// set, nowhere else.
	resp, err := safehttp.NoRedirects(w.HTTP, "notification webhook").Do(req)
	if err != nil {
		// url.Error names the whole URL; keep only the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		var ne *net.OpError
		if errors.As(err, &ne) {
			err = ne
		}
		return fmt.Errorf("webhook %s: %v", redactURL(w.URL), err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook %s answered HTTP %d", redactURL(w.URL), resp.StatusCode)
	}
	return nil
}

// Command runs a program (no shell) with the payload as JSON on its stdin.
// A non-zero exit is a failed delivery; its output is not kept, beyond
// the last line of stderr in the error.
type Command struct {
	Argv []string
}

// ParseCommand turns a notify.command value into argv: the whole value
// when it names an existing file (a path with spaces), else the value
// split as a shell would split words, with '…' and "…" quoting and
// backslash escapes, but without any expansion (no variables, globs or
// pipes: there is no shell).
func ParseCommand(v string) ([]string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, errors.New("an empty command")
	}
	if fi, err := os.Stat(v); err == nil && !fi.IsDir() {
		return []string{v}, nil
	}
	return splitWords(v)
}

func splitWords(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\n' || c == '\r':
			return nil, errors.New("a command is one line")
		case c == '\\':
			if i+1 >= len(s) {
				return nil, errors.New("a trailing backslash")
			}
			i++
			cur.WriteByte(s[i])
			inWord = true
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("an unclosed ' quote")
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, errors.New(`an unclosed " quote`)
			}
			inWord = true
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		out = append(out, cur.String())
	}
	if len(out) == 0 {
		return nil, errors.New("an empty command")
	}
	return out, nil
}

// Name is the sink's name in warnings.
func (c *Command) Name() string { return "command" }

// Send runs the command with p on stdin.
func (c *Command) Send(ctx context.Context, p Payload) error {
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, SendTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.Argv[0], c.Argv[1:]...)
	cmd.Stdin = bytes.NewReader(append(body, '\n'))
	var stderr bytes.Buffer
	cmd.Stderr = &limited{w: &stderr, n: 4096}
	cmd.WaitDelay = time.Second
	if err := cmd.Run(); err != nil {
		last := activitylog.CleanMessage(lastLine(stderr.String()))
		if last != "" {
			return fmt.Errorf("notify.command %s: %v: %s", c.Argv[0], err, last)
		}
		return fmt.Errorf("notify.command %s: %v", c.Argv[0], err)
	}
	return nil
}

type limited struct {
	w io.Writer
	n int
}

func (l *limited) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		_, _ = l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	l := strings.TrimSpace(lines[len(lines)-1])
	if len(l) > 200 {
		l = l[:200] + "…"
	}
	return l
}
