package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/connctl/connctl/internal/testpeer/postgres"

	"github.com/connctl/connctl/internal/app"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/jobrunner"
	"github.com/connctl/connctl/internal/secretstore"
	"github.com/connctl/connctl/internal/secretstore/secretstoretest"
	"github.com/connctl/connctl/internal/testpeer"
	"github.com/connctl/connctl/internal/testpeer/browsersim"
	"github.com/connctl/connctl/internal/testpeer/hydra"
	"github.com/connctl/connctl/internal/testpeer/rclone"
)

// leakMarks are parts of every secret the scripts handle: the canary in the
// secrets they give, and the prefixes of Hydra's access, refresh and
// authorization codes. After each script, no file its connctl runs left
// behind may contain one (the fake keyring excepted).
var leakMarks = [][]byte{[]byte("CANARY"), []byte("ory_at_"), []byte("ory_rt_"), []byte("ory_ac_")}

// realKeyring reports whether the scripts run against the real Secret
// Service (scripts/test.sh sets CONNCTL_TEST_KEYRING=real inside a private
// dbus-run-session with gnome-keyring-daemon).
func realKeyring() bool { return os.Getenv("CONNCTL_TEST_KEYRING") == "real" }

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"connctl":         func() { os.Exit(app.Run(os.Args[1:], testDeps())) },
		"browser-standin": browsersim.Main,
	})
}

// testDeps is deps.System with the secret store swapped for the fake that
// persists across processes, unless the real keyring was asked for (by the
// suite, or by a script testing an unreachable keyring). Only this test
// binary can make the swap: the shipped binary has no such switch.
func testDeps() *deps.Deps {
	d := deps.System()
	// Most scripts create key-based connections to no server: they run
	// without the provider check on save (as before it existed) unless
	// they set CONNCTL_TEST_VERIFY=1 (product_*.txtar, the conformance
	// suite). Only this test binary can turn the check off.
	d.SkipVerify = os.Getenv("CONNCTL_TEST_VERIFY") != "1"
	if os.Getenv("CONNCTL_TEST_SHORT_WAITS") == "1" {
		// The conformance suite checks that retries happen, not how long
		// they wait: a job's backoff and Retry-After waits last 10 ms.
		d.Sleep = func(ctx context.Context, _ time.Duration) error { return jobrunner.Sleep(ctx, 10*time.Millisecond) }
	}
	if realKeyring() || os.Getenv("CONNCTL_TEST_SCRIPT_KEYRING") == "real" {
		if off := os.Getenv("CONNCTL_TEST_CLOCK_OFFSET"); off != "" {
			if dur, err := time.ParseDuration(off); err == nil {
				d.Now = func() time.Time { return time.Now().Add(dur) }
			}
		}
		return d
	}
	if off := os.Getenv("CONNCTL_TEST_CLOCK_OFFSET"); off != "" {
		// Scripts move the clock forward instead of sleeping (token expiry).
		if dur, err := time.ParseDuration(off); err == nil {
			d.Now = func() time.Time { return time.Now().Add(dur) }
		}
	}
	fake := secretstoretest.NewFileFake(os.Getenv("CONNCTL_TEST_FAKE_KEYRING"))
	fake.ReportedName = "keyring"
	// Only the keyring is faked: the encrypted file backend is the real one,
	// so scripts can switch backends and move secrets between them.
	system := d.SecretBackend
	d.SecretBackend = func(name string) (secretstore.Store, error) {
		if name == "keyring" || name == "" {
			return fake, nil
		}
		return system(name)
	}
	return d
}

// hydraServer is the real OAuth server the scripts share (nil when it is
// not built and skipping is allowed).
var hydraServer *hydra.Server

// hydraTurn is held by the script using Hydra (hydra-lock).
var hydraTurn sync.Mutex

func TestScripts(t *testing.T) {
	srv, stop, err := hydra.StartProcess(hydra.Options{})
	switch {
	case err == nil:
		hydraServer = srv
		t.Cleanup(stop)
		t.Cleanup(func() { // before stop: what Hydra said about a failed script
			if t.Failed() {
				t.Logf("hydra log (%s), last lines:\n%s", srv.LogPath, srv.LogTail(60))
			}
		})
	case errors.Is(err, hydra.ErrNotBuilt) && testpeer.SkipAllowed():
		t.Logf("OAuth scripts skipped: %v", err)
	default:
		t.Fatalf("start ORY Hydra: %v (%s)", err, hydra.BuildFix)
	}
	startOIDCProvider(t)
	fdFake = startFreshdesk()
	t.Cleanup(fdFake.srv.Close)
	sfFake = startSalesforce(t)
	hostile = startHostileNet()
	t.Cleanup(hostile.close)
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup:               setup,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"secrets": cmdSecrets,
			// hydra-lock: the scripts that use Hydra take turns. Its
			// in-memory store (DSN=memory, SQLite) answers concurrent
			// writes of different scripts with "Unable to serialize
			// access" or server_error, which CI saw as a failed refresh.
			"hydra-lock": func(ts *testscript.TestScript, neg bool, args []string) {
				hydraTurn.Lock()
				ts.Defer(hydraTurn.Unlock)
			},
			"json-len":  cmdJSONLen,
			"make-conf": cmdMakeConf,
			"refresh-token": refreshTokenCmd("refresh-token", "Hydra", func() func(context.Context, string) (bool, error) {
				if hydraServer == nil {
					return nil
				}
				return hydraServer.Introspect
			}),
			"exits":             cmdExits,
			"freshdesk-touch":   cmdFreshdeskTouch,
			"freshdesk-arrived": cmdFreshdeskArrived,
			"freshdesk-release": cmdFreshdeskRelease,
			"freshdesk-block":   cmdFreshdeskBlock,
			"rclone-start":      cmdRcloneStart,
			"vault-start":       cmdVaultStart,
			"pg-start":          cmdPGStart,
			"pg-has-no":         cmdPGHasNo,
			"machine":           cmdMachine,
			"vault-token":       cmdVaultToken,
			"vault-seal":        cmdVaultSeal,
			"vault-unseal":      cmdVaultUnseal,
			"webhook-start":     cmdWebhookStart,
			"freshdesk-hung":    cmdFreshdeskHung,
			"webhook-got":       cmdWebhookGot,
			"salesforce-touch":  cmdSalesforceTouch,
			"salesforce-expire": cmdSalesforceExpire,
			"hostile-witness":   cmdHostileWitness,
			"hydra-subject":     func(ts *testscript.TestScript, neg bool, args []string) { hydraServer.SetSubject(args[0]) },
			"op-refresh-token": refreshTokenCmd("op-refresh-token", "oidc-provider", func() func(context.Context, string) (bool, error) {
				if opServer == nil {
					return nil
				}
				return opServer.Introspect
			}),
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "realkeyring":
				return realKeyring(), nil
			case "hydra":
				return hydraServer != nil, nil
			case "oidcprovider":
				return opServer != nil, nil
			case "vault":
				return vaultCondition()
			case "postgres":
				_, err := postgres.BinDir()
				return err == nil, nil
			case "rclone":
				_, err := rclone.Binary()
				if err != nil && !testpeer.SkipAllowed() {
					return false, fmt.Errorf("%v (%s)", err, rclone.BuildFix)
				}
				return err == nil, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
	})
}

func setup(env *testscript.Env) error {
	home := filepath.Join(env.WorkDir, "home")
	for _, dir := range []string{".config", ".local/share", ".local/state", "run"} {
		if err := os.MkdirAll(filepath.Join(home, dir), 0o700); err != nil {
			return err
		}
	}
	env.Setenv("HOME", home)
	env.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	env.Setenv("XDG_DATA_HOME", filepath.Join(home, ".local/share"))
	env.Setenv("XDG_STATE_HOME", filepath.Join(home, ".local/state"))
	env.Setenv("CONFIG", filepath.Join(home, ".config", "connctl", "config.yaml"))
	env.Setenv("FRESHDESK_URL", fdFake.srv.URL)
	env.Setenv("SALESFORCE_URL", sfFake.URL)
	env.Setenv("HOSTILE_URL", hostile.srv.URL)
	env.Setenv("SALESFORCE_CLIENT_ID", sfFake.OAuth.ClientID)
	fakeKeyring := filepath.Join(env.WorkDir, ".fake-keyring.json")
	env.Setenv("CONNCTL_TEST_FAKE_KEYRING", fakeKeyring)
	if realKeyring() {
		env.Setenv("CONNCTL_TEST_KEYRING", "real")
		env.Setenv("DBUS_SESSION_BUS_ADDRESS", os.Getenv("DBUS_SESSION_BUS_ADDRESS"))
		env.Setenv("XDG_RUNTIME_DIR", os.Getenv("XDG_RUNTIME_DIR"))
	}
	if hydraServer != nil {
		id, err := newHydraClient()
		if err != nil {
			return fmt.Errorf("create a Hydra client: %w", err)
		}
		env.Setenv("HYDRA_ISSUER", hydraServer.Issuer)
		env.Setenv("CLIENT_ID", id)
		env.Setenv("BROWSER", "browser-standin")
	}
	setupOIDCProvider(env)
	// Files from the script's archive may hold secrets on purpose; every
	// other file left in the work folder must not.
	given := map[string]bool{}
	_ = filepath.WalkDir(env.WorkDir, func(p string, de fs.DirEntry, err error) error {
		if err == nil && !de.IsDir() {
			given[p] = true
		}
		return nil
	})
	env.Defer(func() {
		_ = filepath.WalkDir(env.WorkDir, func(p string, de fs.DirEntry, err error) error {
			if err != nil || de.IsDir() || given[p] || p == fakeKeyring || strings.HasSuffix(p, ".lock") {
				return nil
			}
			b, rerr := os.ReadFile(p)
			if rerr != nil {
				return nil
			}
			for _, m := range leakMarks {
				if bytes.Contains(b, m) {
					env.T().Fatal(fmt.Sprintf("secret %q found in %s", m, p))
				}
			}
			return nil
		})
	})
	return nil
}

// secrets N: the secret store holds exactly N connctl items.
func cmdSecrets(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: secrets N")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("secrets: %v", err)
	}
	seen := seenIDs(ts)
	keys, err := storeKeys(ts.Getenv("CONNCTL_TEST_FAKE_KEYRING"))
	if err != nil {
		ts.Fatalf("%v", err)
	}
	got := 0
	for _, k := range keys {
		id, _, _ := strings.Cut(k, "/")
		if seen[id] {
			got++
		}
	}
	if (got == want) == neg {
		ts.Fatalf("secret store holds %d connctl items, want %s%d", got, map[bool]string{true: "not ", false: ""}[neg], want)
	}
}

// storeKeys lists the keys of connctl's items in the secret store: the real
// Secret Service when the suite runs against it, else the fake keyring file.
func storeKeys(fakeKeyring string) ([]string, error) {
	var keys []string
	if realKeyring() {
		var out []byte
		var err error
		for range 10 {
			// Other tests delete items at the same time: secret-tool fails
			// when one it listed is gone before it reads it. Try again.
			out, err = exec.Command("secret-tool", "search", "--all", "service", secretstore.Service).CombinedOutput()
			if err == nil || !bytes.Contains(out, []byte("No such secret item")) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err != nil && len(out) > 0 && !bytes.Contains(out, []byte("No matching")) {
			return nil, fmt.Errorf("secret-tool: %v: %s", err, out)
		}
		for _, line := range strings.Split(string(out), "\n") {
			if k, ok := strings.CutPrefix(line, "attribute.username = "); ok {
				keys = append(keys, k)
			}
		}
		return keys, nil
	}
	items, err := secretstoretest.NewFileFake(fakeKeyring).Items()
	if err != nil {
		return nil, fmt.Errorf("read fake keyring: %v", err)
	}
	for k := range items {
		keys = append(keys, k)
	}
	return keys, nil
}

// seenIDs returns the ids of every connection this script's config has held
// at any `secrets` call, so that counts ignore other scripts' items in a
// shared real keyring.
func seenIDs(ts *testscript.TestScript) map[string]bool {
	record := filepath.Join(ts.Getenv("WORK"), ".seen-ids")
	seen := map[string]bool{}
	if b, err := os.ReadFile(record); err == nil {
		for _, id := range strings.Fields(string(b)) {
			seen[id] = true
		}
	}
	if b, err := os.ReadFile(ts.Getenv("CONFIG")); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if id, ok := strings.CutPrefix(strings.TrimSpace(line), "- id: "); ok {
				seen[id] = true
			}
		}
	}
	var ids []string
	for id := range seen {
		ids = append(ids, id)
	}
	_ = os.WriteFile(record, []byte(strings.Join(ids, "\n")), 0o600)
	return seen
}

// exits N CMD ARGS...: run CMD and require exit status N exactly.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 || neg {
		ts.Fatalf("usage: exits N command [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: %v", err)
	}
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		got = ee.ExitCode()
	} else if err != nil {
		ts.Fatalf("exits: %v", err)
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", args[1], got, want)
	}
}

var hydraClientMu sync.Mutex

// newHydraClient registers a public PKCE client. Hydra's in-memory store
// refuses concurrent writes ("unable to serialize access"), so scripts
// register one at a time, retrying briefly.
func newHydraClient() (string, error) {
	hydraClientMu.Lock()
	defer hydraClientMu.Unlock()
	var err error
	for attempt := range 5 {
		var id string
		id, _, err = hydraServer.CreateClient(context.Background(), hydra.ClientOptions{Public: true,
			RedirectURIs: []string{"http://127.0.0.1/callback"}, Scopes: []string{"openid", "offline_access", "offline", "email"}})
		if err == nil {
			return id, nil
		}
		time.Sleep(time.Duration(attempt+1) * 50 * time.Millisecond)
	}
	return "", err
}

// refreshTokenCmd builds a script command "CMD NAME save|active|inactive"
// for one OAuth test peer: save the connection's refresh token from the
// secret store (in memory, never a file), or check the saved one at the
// peer's introspection endpoint. introspect returns nil when the peer is
// not running.
func refreshTokenCmd(cmd, peer string, introspect func() func(context.Context, string) (bool, error)) func(*testscript.TestScript, bool, []string) {
	var saved sync.Map // *testscript.TestScript -> refresh token
	return func(ts *testscript.TestScript, neg bool, args []string) {
		check := introspect()
		if len(args) != 2 || check == nil {
			ts.Fatalf("usage: %s NAME save|active|inactive (needs %s)", cmd, peer)
		}
		switch args[1] {
		case "save":
			cfg, err := configstore.Open(ts.Getenv("CONFIG"), func(string) string { return "" })
			if err != nil {
				ts.Fatalf("%v", err)
			}
			c, ok := cfg.Find(args[0])
			if !ok {
				ts.Fatalf("no connection %s", args[0])
			}
			var st secretstore.Store = secretstoretest.NewFileFake(ts.Getenv("CONNCTL_TEST_FAKE_KEYRING"))
			if realKeyring() {
				st = secretstore.NewKeyring(10 * time.Second)
			}
			v, err := st.Get(context.Background(), c.ID, connection.KindRefreshToken)
			if err != nil {
				ts.Fatalf("read refresh token: %v", err)
			}
			saved.Store(ts, v)
		case "active", "inactive":
			v, ok := saved.Load(ts)
			if !ok {
				ts.Fatalf("no saved refresh token")
			}
			active, err := check(context.Background(), v.(string))
			if err != nil {
				ts.Fatalf("introspect: %v", err)
			}
			if active != (args[1] == "active") {
				ts.Fatalf("refresh token active=%v, want %s", active, args[1])
			}
		default:
			ts.Fatalf("%s: unknown action %q", cmd, args[1])
		}
	}
}

// rclone-start DIR: serve DIR's subfolders as S3 buckets (rclone serve s3)
// and export S3_ENDPOINT, S3_KEY and S3_SECRET, and RCLONE, the binary
// (an S3 client for exec.txtar).
func cmdRcloneStart(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: rclone-start DIR")
	}
	srv, stop, err := rclone.StartProcess(ts.MkAbs(args[0]))
	if err != nil {
		ts.Fatalf("start rclone: %v", err)
	}
	ts.Defer(stop)
	ts.Setenv("S3_ENDPOINT", srv.Endpoint)
	ts.Setenv("S3_KEY", srv.AccessKey)
	ts.Setenv("S3_SECRET", srv.SecretKey)
	if bin, err := rclone.Binary(); err == nil {
		ts.Setenv("RCLONE", bin)
	}
}

// json-len N: stdout is a JSON array of N items.
func cmdJSONLen(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: json-len N")
	}
	var arr []json.RawMessage
	if err := json.Unmarshal([]byte(ts.ReadFile("stdout")), &arr); err != nil {
		ts.Fatalf("stdout is not a JSON array: %v", err)
	}
	want, _ := strconv.Atoi(args[0])
	if (len(arr) == want) == neg {
		ts.Fatalf("stdout has %d items, want %d", len(arr), want)
	}
}

// make-conf FILE N: writes a config with N freshdesk connections (no secrets).
func cmdMakeConf(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: make-conf FILE N")
	}
	n, _ := strconv.Atoi(args[1])
	var b strings.Builder
	b.WriteString("schema_version: 1\nconnections:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - id: conn_%016x\n    name: conn-%05d\n    connector: s3\n    fields: {bucket: b%d, access_key_id: AK%d}\n    status: authorized\n    created_at: 2026-01-02T03:04:05Z\n    updated_at: 2026-01-02T03:04:05Z\n", i, i, i, i)
	}
	p := ts.MkAbs(args[0])
	_ = os.MkdirAll(filepath.Dir(p), 0o700)
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		ts.Fatalf("%v", err)
	}
}

// TestHydraScriptsTakeTurns: every script that talks to the shared Hydra
// takes its turn (hydra-lock) right after checking that Hydra is built.
func TestHydraScriptsTakeTurns(t *testing.T) {
	files, err := filepath.Glob("testdata/script/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("scripts: %v %v", files, err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		if !strings.Contains(s, "[!hydra]") && !strings.Contains(s, "HYDRA_") && !strings.Contains(s, "hydra-subject") {
			continue
		}
		if !regexp.MustCompile(`(?m)^\[!hydra\] .*\nhydra-lock$`).MatchString(s) {
			t.Errorf("%s uses Hydra: put hydra-lock on the line after its [!hydra] check", f)
		}
	}
}
