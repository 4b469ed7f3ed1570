//go:build linux

package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestStartupLeavesTheTerminalAlone: linking the terminal UI (bubbletea)
// into connctl must not make other commands talk to the terminal when
// they start, as bubbletea v1's init did (it asked for the background
// colour), nor run `tmux info`, as Lip Gloss v2's package variable does
// inside tmux. Each command runs on a pseudo-terminal, as inside tmux with
// a 256-colour TERM; nothing but its own plain output may reach the
// terminal, and the tmux on PATH (a stand-in) must not run.
func TestStartupLeavesTheTerminalAlone(t *testing.T) {
	connctl, err := exec.LookPath("connctl")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	marker := filepath.Join(dir, "tmux-ran")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "tmux"), []byte("#!/bin/sh\ntouch '"+marker+"'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"list"}, {"version"}, {"list", "--help"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			master, slave := openPTY(t)
			var out bytes.Buffer
			done := make(chan struct{})
			go func() {
				_, _ = io.Copy(&out, master) // ends with EIO once the slave is closed
				close(done)
			}()
			cmd := exec.Command(connctl, args...)
			cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
			cmd.Env = append(os.Environ(), "TERM=xterm-256color", "COLORTERM=", "TMUX=/tmp/tmux-0/default,1,0", "PATH="+bin+":"+os.Getenv("PATH"),
				"HOME="+dir, "XDG_CONFIG_HOME="+filepath.Join(dir, "config"), "XDG_STATE_HOME="+filepath.Join(dir, "state"),
				"CONNCTL_TEST_FAKE_KEYRING="+filepath.Join(dir, "keyring.json"), "CONNCTL_CONFIG=")
			err := cmd.Run()
			slave.Close()
			<-done
			if err != nil {
				t.Fatalf("connctl %s: %v\n%s", strings.Join(args, " "), err, out.String())
			}
			if i := bytes.IndexByte(out.Bytes(), 0x1b); i >= 0 {
				t.Errorf("connctl %s wrote an escape sequence to the terminal: %q", strings.Join(args, " "), out.Bytes()[i:min(i+20, out.Len())])
			}
			if _, err := os.Stat(marker); err == nil {
				t.Errorf("connctl %s ran `tmux` while starting", strings.Join(args, " "))
			}
		})
	}
}
