// Package rclone runs `rclone serve s3` (rclone v1.76.0), a real S3 protocol
// server, on the loopback for tests: it serves the folders of a directory
// as buckets, with SigV4 authentication by one access key.
//
// The rclone binary is built once by scripts/build-test-tools.sh into a cache
// folder outside the repo; Binary finds it. A test that needs it and does not
// find it is skipped, or fails when CONNCTL_TEST_DISALLOW_SKIP=1
// (testpeer.Missing). rclone's own log goes to a file whose tail is shown
// when a test fails.
package rclone

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/testpeer"
)

// Version is the rclone release the tests are written against. Bump it
// together with scripts/build-test-tools.sh.
const Version = "v1.76.0"

// BinaryEnv names the environment variable that points at an rclone binary
// to use instead of the one in the cache folder.
const BinaryEnv = "CONNCTL_RCLONE"

// BuildFix says how to get the rclone binary; it ends the error of Binary.
const BuildFix = "run scripts/build-test-tools.sh (builds rclone " + Version + " once, 2-4 minutes)"

// Region is the region rclone serve s3 signs with (its default).
const Region = "us-east-1"

// ErrNotBuilt is what Binary's error wraps when the rclone binary is missing.
var ErrNotBuilt = errors.New("rclone not built")

// Binary returns the path of the rclone binary: $CONNCTL_RCLONE when set,
// else <cache>/rclone-v1.76.0/rclone, where <cache> is $CONNCTL_TEST_TOOLS or
// connctl-test-tools in the user's cache folder (as
// scripts/build-test-tools.sh has it). The error says how to build it.
func Binary() (string, error) {
	return testpeer.ToolBinary("rclone", Version, BinaryEnv, ErrNotBuilt, BuildFix)
}

// Server is a running `rclone serve s3`.
type Server struct {
	// Endpoint is the S3 endpoint, e.g. http://127.0.0.1:41234, without a
	// trailing slash. Address it path style: Endpoint/{bucket}/{key}.
	Endpoint string
	// AccessKey and SecretKey are the one access key the server accepts
	// (random for each server).
	AccessKey string
	SecretKey string
	// Dir is the served directory: each folder in it is a bucket.
	Dir string
	// LogPath is the file rclone logs to.
	LogPath string

	proc *testpeer.Process
}

// Start serves dir over S3 for the test and stops the server in
// tb.Cleanup. Each folder of dir is a bucket, each file under it an object
// whose key is its path below the bucket folder and whose LastModified is
// its modification time. Files changed in dir are seen at the next request
// (the directory cache is off). When the binary is missing the test is
// skipped, or fails when CONNCTL_TEST_DISALLOW_SKIP=1. When the test fails,
// the tail of rclone's log is logged.
func Start(tb testing.TB, dir string) *Server {
	tb.Helper()
	bin, err := Binary()
	if err != nil {
		testpeer.Missing(tb, err, BuildFix)
	}
	s, err := start(bin, dir, tb.TempDir())
	if err != nil {
		tb.Fatalf("starting rclone serve s3: %v", err)
	}
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("rclone log (%s), last lines:\n%s", s.LogPath, s.LogTail(40))
		}
		s.stop()
	})
	return s
}

// StartProcess serves dir as Start does, outside of a test: for a TestMain or
// a testscript command (which has no testing.TB; register stop with
// ts.Defer). stop ends rclone and removes the log folder it made; call it
// before os.Exit. A missing binary is Binary's error, which wraps
// ErrNotBuilt; tell it apart with errors.Is and testpeer.SkipAllowed.
func StartProcess(dir string) (s *Server, stop func(), err error) {
	bin, err := Binary()
	if err != nil {
		return nil, nil, err
	}
	stop, err = testpeer.WithLogDir("", "connctl-rclone-", func(logDir string) (func(), error) {
		var err error
		if s, err = start(bin, dir, logDir); err != nil {
			return nil, err
		}
		return s.stop, nil
	})
	if err != nil {
		return nil, nil, err
	}
	return s, stop, nil
}

// start picks a port, starts rclone and waits until it answers. A port that
// another process took between picking and binding makes rclone exit at
// once; then it tries again with a new port.
func start(bin, dir, logDir string) (*Server, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	var lastErr error
	for attempt := 1; attempt <= 3; attempt++ {
		s, err := startRclone(bin, abs, logDir, attempt)
		if err == nil {
			return s, nil
		}
		lastErr = err
		if !errors.Is(err, errPortTaken) {
			break
		}
	}
	return nil, lastErr
}

var errPortTaken = errors.New("port taken")

func startRclone(bin, dir, logDir string, attempt int) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	key := make([]byte, 10)
	secret := make([]byte, 20)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	s := &Server{
		Endpoint:  "http://" + addr,
		AccessKey: "RCLONE" + strings.ToUpper(hex.EncodeToString(key)),
		// The secret carries CANARY so that the suites' leak scans find it.
		SecretKey: "CANARY" + hex.EncodeToString(secret),
		Dir:       dir,
		LogPath:   filepath.Join(logDir, fmt.Sprintf("rclone.%d.log", attempt)),
	}
	logFile, err := os.OpenFile(s.LogPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve", "s3",
		"--addr", addr,
		"--auth-key", s.AccessKey+","+s.SecretKey,
		// Read the folder afresh for every request, so that files a test
		// writes or touches while the server runs show up at once.
		"--dir-cache-time", "0s",
		"--log-level", "INFO",
		dir)
	// A clean environment: rclone reads RCLONE_* settings and a config file;
	// neither may leak in from the developer's shell.
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + logDir,
		"TMPDIR=" + os.TempDir(),
		"RCLONE_CONFIG=" + filepath.Join(logDir, "rclone.conf"),
	}
	cmd.Dir = logDir
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	if s.proc, err = testpeer.Spawn(cmd, func() { logFile.Close() }); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	if err := s.waitReady(30 * time.Second); err != nil {
		s.stop()
		tail := s.LogTail(20)
		if strings.Contains(tail, "address already in use") {
			return nil, fmt.Errorf("%w: %v", errPortTaken, s.proc.Err())
		}
		return nil, fmt.Errorf("%w; log %s:\n%s", err, s.LogPath, tail)
	}
	return s, nil
}

// waitReady polls the endpoint until rclone answers HTTP (any status: an
// unsigned request is refused, which is enough to know it listens).
func (s *Server) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	c := &http.Client{Timeout: time.Second}
	for {
		select {
		case <-s.proc.Exited():
			return errors.New("rclone exited before it was ready")
		default:
		}
		resp, err := c.Get(s.Endpoint + "/")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("rclone not ready after %v (last: %v)", timeout, err)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// stop ends rclone (its process group, SIGTERM then SIGKILL).
func (s *Server) stop() { s.proc.Stop() }

// LogTail returns about the last n lines of rclone's log.
func (s *Server) LogTail(n int) string { return testpeer.LogTail(s.LogPath, n) }

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
