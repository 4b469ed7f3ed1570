// Package postgres runs a real PostgreSQL server (Debian's `postgresql`
// package, version 15 or later) for tests: initdb in a throwaway folder,
// then pg_ctl start on a free loopback port, with trust authentication for
// the superuser "postgres" and the socket in the same folder. As root it
// runs the server as the `postgres` user (the folder is given to it);
// PostgreSQL refuses to run as root.
//
// The binaries are found in $CONNCTL_PG_BIN, on PATH, or in
// /usr/lib/postgresql/<version>/bin, where Debian installs them (not on
// PATH). A test that needs them and does not find them is skipped, or fails
// when CONNCTL_TEST_DISALLOW_SKIP=1 (testpeer.Missing).
package postgres

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/connctl/connctl/internal/testpeer"
)

// BinEnv names the environment variable that points at the folder holding
// initdb and pg_ctl, instead of PATH and /usr/lib/postgresql/*/bin.
const BinEnv = "CONNCTL_PG_BIN"

// InstallFix says how to get PostgreSQL; it ends the error of BinDir.
const InstallFix = "run scripts/install-deps.sh (installs Debian's postgresql package)"

// ErrNotInstalled is what BinDir's error wraps when initdb is missing.
var ErrNotInstalled = errors.New("PostgreSQL not installed")

// BinDir returns the folder holding initdb and pg_ctl.
func BinDir() (string, error) {
	if d := os.Getenv(BinEnv); d != "" {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err != nil {
			return "", fmt.Errorf("%w: %s=%s: %v", ErrNotInstalled, BinEnv, d, err)
		}
		return d, nil
	}
	// Debian keeps the server binaries out of PATH, one folder per major
	// version: take the newest.
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return majorOf(b) - majorOf(a) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", fmt.Errorf("%w: no initdb in $%s, /usr/lib/postgresql/*/bin or PATH: %s", ErrNotInstalled, BinEnv, InstallFix)
}

func majorOf(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// Server is a running PostgreSQL server.
type Server struct {
	// Host and Port are where it listens (127.0.0.1 and a free port).
	Host string
	Port int
	// Dir holds the data folder, the socket and the log.
	Dir string
	// LogPath is the server's log file.
	LogPath string

	bin  string
	opts string              // the server's options (port, socket folder, ...)
	cred *syscall.Credential // nil: run as the current user
	dbs  atomic.Int64
}

// Start starts a server for the test and stops it (pg_ctl -m immediate) in
// tb.Cleanup, removing its folder. When PostgreSQL is missing the test is
// skipped, or fails when CONNCTL_TEST_DISALLOW_SKIP=1. When the test fails,
// the tail of the server log is logged.
func Start(tb testing.TB) *Server {
	tb.Helper()
	s, stop, err := StartProcess()
	if errors.Is(err, ErrNotInstalled) {
		testpeer.Missing(tb, err, InstallFix)
	}
	if err != nil {
		tb.Fatalf("starting PostgreSQL: %v", err)
	}
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("PostgreSQL log (%s), last lines:\n%s", s.LogPath, testpeer.LogTail(s.LogPath, 30))
		}
		stop()
	})
	return s
}

// StartProcess starts a server outside of a test (a TestMain or a
// testscript command). stop ends it and removes its folder. A missing
// installation is an error wrapping ErrNotInstalled.
func StartProcess() (s *Server, stop func(), err error) {
	bin, err := BinDir()
	if err != nil {
		return nil, nil, err
	}
	s = &Server{Host: "127.0.0.1", bin: bin}
	if os.Geteuid() == 0 {
		if s.cred, err = postgresUser(); err != nil {
			return nil, nil, err
		}
	}
	// The folder is made in the shared temp folder, not a test's TempDir:
	// the postgres user must be able to reach it.
	if s.Dir, err = os.MkdirTemp("", "connctl-pg-"); err != nil {
		return nil, nil, err
	}
	cleanup := func() { _ = os.RemoveAll(s.Dir) }
	if s.cred != nil {
		if err := os.Chown(s.Dir, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			cleanup()
			return nil, nil, err
		}
	}
	s.LogPath = filepath.Join(s.Dir, "server.log")
	data := filepath.Join(s.Dir, "data")
	if out, err := s.run("initdb", "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("initdb: %v: %s", err, out)
	}
	// The port is free when we look; another process may take it before
	// the server binds, so try a few.
	for attempt := 0; ; attempt++ {
		if s.Port, err = freePort(); err != nil {
			cleanup()
			return nil, nil, err
		}
		s.opts = fmt.Sprintf("-p %d -h 127.0.0.1 -k %s -c fsync=off -c full_page_writes=off -c max_connections=200", s.Port, s.Dir)
		out, err := s.run("pg_ctl", "-D", data, "-l", s.LogPath, "-o", s.opts, "-w", "-t", "60", "start")
		if err == nil {
			break
		}
		if attempt == 2 {
			tail := testpeer.LogTail(s.LogPath, 10)
			cleanup()
			return nil, nil, fmt.Errorf("pg_ctl start: %v: %s\n%s", err, out, tail)
		}
	}
	stop = func() {
		_, _ = s.run("pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
		cleanup()
	}
	return s, stop, nil
}

// Halt stops the server at once (pg_ctl -m immediate), for tests of what
// connctl does when the database goes away. The folder stays until stop.
func (s *Server) Halt() error {
	out, err := s.run("pg_ctl", "-D", filepath.Join(s.Dir, "data"), "-m", "immediate", "-w", "stop")
	if err != nil {
		return fmt.Errorf("pg_ctl stop: %v: %s", err, out)
	}
	return nil
}

// Resume starts a server stopped by Halt again, on the same port with the
// same data (after crash recovery: Halt stops it as a crash would).
func (s *Server) Resume() error {
	out, err := s.run("pg_ctl", "-D", filepath.Join(s.Dir, "data"), "-l", s.LogPath, "-o", s.opts, "-w", "-t", "60", "start")
	if err != nil {
		return fmt.Errorf("pg_ctl start: %v: %s\n%s", err, out, testpeer.LogTail(s.LogPath, 10))
	}
	return nil
}

// Restart stops the server at once and starts it again on the same port
// with the same data: every connection to it is cut, as when a database
// server restarts under its clients.
func (s *Server) Restart() error {
	if err := s.Halt(); err != nil {
		return err
	}
	return s.Resume()
}

// URL is the connection URL of database db as the superuser postgres.
func (s *Server) URL(db string) string {
	u := url.URL{Scheme: "postgres", User: url.User("postgres"), Host: net.JoinHostPort(s.Host, strconv.Itoa(s.Port)), Path: "/" + db, RawQuery: "sslmode=disable"}
	return u.String()
}

// NewDatabase creates a fresh, empty database for one test and returns its
// URL. Databases are left for the server's removal at the end.
func (s *Server) NewDatabase(tb testing.TB) string {
	tb.Helper()
	u, err := s.CreateDatabase(context.Background())
	if err != nil {
		tb.Fatalf("create database: %v", err)
	}
	return u
}

// CreateDatabase creates a fresh, empty database and returns its URL.
func (s *Server) CreateDatabase(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		return "", err
	}
	defer func() { _ = conn.Close(context.Background()) }()
	name := fmt.Sprintf("t%d_%s", s.dbs.Add(1), strings.ToLower(rand.Text()[:8]))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", err
	}
	return s.URL(name), nil
}

func (s *Server) run(tool string, args ...string) (string, error) {
	cmd := exec.Command(filepath.Join(s.bin, tool), args...)
	cmd.Dir = s.Dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
		cmd.Env = append(cmd.Env, "HOME="+s.Dir)
	}
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func postgresUser() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("%w: running as root and there is no postgres user to run the server as (%v): %s", ErrNotInstalled, err, InstallFix)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
