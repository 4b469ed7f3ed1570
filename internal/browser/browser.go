// Package browser opens URLs in the user's browser: the command in $BROWSER
// (given the URL as its one argument, never through a shell), else the
// platform's opener (xdg-open, open, rundll32).
package browser

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// Opener opens a URL for the user.
type Opener interface {
	Open(ctx context.Context, url string) error
}

// System opens URLs with $BROWSER or the platform opener.
type System struct {
	Getenv func(string) string
}

// Open starts the browser and returns once it has been launched. A
// launcher that keeps running (a real browser) is left to run.
func (s System) Open(ctx context.Context, url string) error {
	name, args := s.command(url)
	if name == "" {
		return errors.New("no browser opener found: set BROWSER or open the URL yourself")
	}
	path, err := exec.LookPath(name)
	if err != nil {
		return fmt.Errorf("cannot start browser %q: not found", name)
	}
	cmd := exec.Command(path, args...)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("cannot start browser %q: %w", name, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// Openers such as xdg-open return quickly; report their failure. A
	// browser started directly keeps running: stop waiting after a moment.
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("browser %q failed: %w", name, err)
		}
		return nil
	case <-time.After(3 * time.Second):
		return nil
	case <-ctx.Done():
		return nil
	}
}

func (s System) command(url string) (string, []string) {
	if b := strings.TrimSpace(s.Getenv("BROWSER")); b != "" {
		// $BROWSER may be a list separated by ':' (the sensible-browser
		// convention); use the first. Words after the command are its arguments.
		first := strings.Split(b, ":")[0]
		fields := strings.Fields(first)
		if len(fields) > 0 {
			return fields[0], append(fields[1:], url)
		}
	}
	switch runtime.GOOS {
	case "darwin":
		return "open", []string{url}
	case "windows":
		return "rundll32", []string{"url.dll,FileProtocolHandler", url}
	default:
		return "xdg-open", []string{url}
	}
}
