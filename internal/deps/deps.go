// Package deps is every side effect a command may use. System builds the
// real ones; tests fill in only the fields they need. Constructors are lazy:
// a command that never asks for the secret store never touches the keyring.
package deps

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/connctl/connctl/internal/activitylog"
	"github.com/connctl/connctl/internal/browser"
	"github.com/connctl/connctl/internal/build"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/connector/all"
	"github.com/connctl/connctl/internal/iostreams"
	"github.com/connctl/connctl/internal/pgstore"
	"github.com/connctl/connctl/internal/safehttp"
	"github.com/connctl/connctl/internal/secretstore"
	"github.com/connctl/connctl/internal/vaultstore"
)

// Deps is what commands reach the outside world through.
type Deps struct {
	IO     *iostreams.IOStreams
	Getenv func(string) string
	// Environ is the whole environment, for a child process (connctl exec).
	Environ func() []string
	Now     func() time.Time
	// Sleep waits between a job's retries; nil: jobrunner.Sleep. Only
	// tests set it (to shorten backoff).
	Sleep   func(context.Context, time.Duration) error
	Catalog func() *connector.Catalogue
	// Config reads the config file on first use, then returns the same store
	// (with store.url set: the team store's definitions, the file's settings).
	Config func() (configstore.Config, error)
	// LocalConfig is the local config file itself, whatever store.url says
	// (settings live there); nil in tests that set only Config.
	LocalConfig func() (*configstore.Store, error)
	// Secrets opens the secret store chosen by the settings (keyring or file).
	Secrets func() (secretstore.Store, error)
	// SecretBackend opens a named backend ("keyring" or "file") whatever the
	// settings say; moving secrets between backends needs both. System's
	// Secrets opens its backend through it.
	SecretBackend func(name string) (secretstore.Store, error)
	// HTTP is the client for provider calls: header and idle-body timeouts
	// (no whole-request limit, see safehttp.Timeouts), a User-Agent, and
	// redirects followed only within the origin (package safehttp).
	HTTP func() *http.Client
	// Browser opens authorization URLs ($BROWSER or the platform opener).
	Browser browser.Opener
	// Activities opens the activity log ($XDG_STATE_HOME/connctl/state.db)
	// on first use; commands that do not record or read activities never do.
	Activities func() (activitylog.Log, error)
	// SkipVerify turns off the provider check of key-based credentials on
	// create, authorize, reauthorize and edit (as if --no-verify were given,
	// without marking the connection unverified). Only the test binary sets
	// it, for scripts that create connections to no server; the shipped
	// binary always verifies unless --no-verify.
	SkipVerify bool

	configPath string // --config, set by the root command before any RunE

	teamStore func() (*pgstore.DB, error) // store.url's team store, opened once (store.go)
}

// SetConfigPath records the --config flag; it must be called before Config.
func (d *Deps) SetConfigPath(p string) { d.configPath = p }

// ConfigPath resolves the config file: --config, then CONNCTL_CONFIG, then
// $XDG_CONFIG_HOME/connctl/config.yaml.
func (d *Deps) ConfigPath() (string, error) {
	if d.configPath != "" {
		return filepath.Abs(d.configPath)
	}
	if p := d.Getenv("CONNCTL_CONFIG"); p != "" {
		return filepath.Abs(p)
	}
	return configstore.DefaultPath()
}

// System builds the real dependencies for this process.
func System() *Deps {
	d := &Deps{
		Getenv:  os.Getenv,
		Environ: os.Environ,
		Now:     time.Now,
	}
	d.IO = iostreams.System(d.Getenv)
	d.Catalog = sync.OnceValue(all.Catalogue)
	d.LocalConfig = sync.OnceValues(func() (*configstore.Store, error) {
		p, err := d.ConfigPath()
		if err != nil {
			return nil, err
		}
		for _, w := range configstore.PermissionWarnings(p, false) {
			d.IO.Warnf("%s", w)
		}
		return configstore.Open(p, d.Getenv)
	})
	d.teamStore = sync.OnceValues(d.openTeamStore)
	d.Config = sync.OnceValues(d.openConfig)
	d.SecretBackend = d.openBackend
	d.Secrets = sync.OnceValues(func() (secretstore.Store, error) {
		cfg, err := d.Config()
		if err != nil {
			return nil, err
		}
		return d.SecretBackend(cfg.String("secrets.backend"))
	})
	d.HTTP = sync.OnceValue(func() *http.Client {
		var rt http.RoundTripper = userAgent{base: http.DefaultTransport}
		if d.Getenv("CONNCTL_DEBUG") != "" {
			rt = trace{base: rt, w: d.IO.ErrOut}
		}
		// No whole-request limit (a big download may take long): the
		// answer must start within a minute and never stall for one,
		// and small calls (tokens, who-am-I) get a total limit from
		// safehttp; a job run is bounded by jobs.timeout.
		return safehttp.New(rt, safehttp.Timeouts{})
	})
	d.Browser = browser.System{Getenv: d.Getenv}
	d.Activities = sync.OnceValues(func() (activitylog.Log, error) {
		if l, err := d.teamActivities(); l != nil || err != nil {
			return l, err
		}
		s, err := activitylog.Open(filepath.Join(d.StateDir(), activitylog.FileName), activitylog.WithClock(d.Now))
		if err != nil {
			return nil, err // a nil Log, not a nil *Store in one
		}
		return s, nil
	})
	return d
}

// ActivitiesIfAny opens the activity log only if it exists (so that reading
// commands such as list create nothing); nil when there is none.
func (d *Deps) ActivitiesIfAny() (activitylog.Log, error) {
	if d.Activities == nil {
		return nil, nil
	}
	if l, err := d.teamActivities(); l != nil || err != nil {
		return l, err
	}
	if _, err := os.Stat(filepath.Join(d.StateDir(), activitylog.FileName)); err != nil {
		return nil, nil
	}
	return d.Activities()
}

// Who is the OS user, for update activities.
func (d *Deps) Who() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if u := d.Getenv("USER"); u != "" {
		return u
	}
	return "unknown"
}

// userAgent names connctl to providers.
type userAgent struct{ base http.RoundTripper }

func (u userAgent) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get("User-Agent") == "" {
		r = r.Clone(r.Context())
		r.Header.Set("User-Agent", "connctl/"+build.Info().Version)
	}
	return u.base.RoundTrip(r)
}

// trace logs each request's method, scheme, host and path and the answer's
// status (CONNCTL_DEBUG). Never headers, query strings or bodies: they carry
// codes, tokens and keys.
type trace struct {
	base http.RoundTripper
	w    io.Writer
}

func (t trace) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now()
	target := r.URL.Scheme + "://" + r.URL.Host + r.URL.EscapedPath()
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		fmt.Fprintf(t.w, "debug: %s %s: failed after %s\n", r.Method, target, time.Since(start).Round(time.Millisecond))
		return resp, err
	}
	fmt.Fprintf(t.w, "debug: %s %s: HTTP %d in %s\n", r.Method, target, resp.StatusCode, time.Since(start).Round(time.Millisecond))
	return resp, nil
}

// StateDir is $XDG_STATE_HOME/connctl (~/.local/state/connctl).
func (d *Deps) StateDir() string {
	base := d.Getenv("XDG_STATE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			home = "."
		}
		base = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(base, "connctl")
}

// CacheDir is connctl's folder of caches that can be rebuilt (the team
// store's definitions): $XDG_CACHE_HOME/connctl, else the OS's user
// cache folder (~/.cache, ~/Library/Caches, %LocalAppData%); "" when
// there is none (no cache is kept then).
func (d *Deps) CacheDir() string {
	base := d.Getenv("XDG_CACHE_HOME")
	if base == "" {
		var err error
		if base, err = os.UserCacheDir(); err != nil {
			return ""
		}
	}
	return filepath.Join(base, "connctl")
}

// openBackend opens the named backend. There is no silent fallback: the
// file backend is used only when asked for by name.
func (d *Deps) openBackend(name string) (secretstore.Store, error) {
	cfg, err := d.Config()
	if err != nil {
		return nil, err
	}
	switch name {
	case "file":
		return d.SecretsFile(cfg.String("secrets.key_file"))
	case "keyring", "":
		return secretstore.NewKeyring(cfg.Duration("keyring.timeout")), nil
	case "vault":
		return vaultstore.New(vaultstore.Config{Addr: cfg.String("vault.addr"), Mount: cfg.String("vault.mount"), Path: cfg.String("vault.path"), Getenv: d.Getenv})
	default:
		return nil, fmt.Errorf("unknown secrets backend %q (want keyring, file or vault)", name)
	}
}

// SecretsFile opens the encrypted secrets file (secrets.file) with the age
// key in keyFile, or with the passphrase when keyFile is "".
func (d *Deps) SecretsFile(keyFile string) (*secretstore.File, error) {
	cfg, err := d.Config()
	if err != nil {
		return nil, err
	}
	path := cfg.String("secrets.file")
	if path == "" {
		path = DefaultSecretsFile(d.Getenv)
	}
	for _, w := range configstore.PermissionWarnings(path, true) {
		d.IO.Warnf("%s", w)
	}
	if keyFile != "" {
		// A key readable by others is refused when it is read; a folder
		// others can write to lets them replace the key: warn.
		for _, w := range configstore.PermissionWarnings(keyFile, true) {
			if strings.HasPrefix(w, "folder ") {
				d.IO.Warnf("%s", w)
			}
		}
		return secretstore.NewKeyFile(path, keyFile), nil
	}
	return secretstore.NewFile(path, d.passphrase(path)), nil
}

// DefaultSecretsFile is $XDG_DATA_HOME/connctl/secrets.age.
func DefaultSecretsFile(getenv func(string) string) string {
	base := getenv("XDG_DATA_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			home = "."
		}
		base = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(base, "connctl", "secrets.age")
}

// passphrase reads CONNCTL_PASSPHRASE, or asks on a terminal.
func (d *Deps) passphrase(path string) func() (string, error) {
	return func() (string, error) {
		if p := d.Getenv("CONNCTL_PASSPHRASE"); p != "" {
			return p, nil
		}
		if !d.IO.CanPrompt() {
			return "", fmt.Errorf("%w: the encrypted secrets file %s needs a passphrase: set CONNCTL_PASSPHRASE", secretstore.ErrUnavailable, path)
		}
		p, err := d.IO.PromptSecret(fmt.Sprintf("Passphrase for %s: ", path))
		if err != nil {
			return "", err
		}
		if p == "" {
			return "", errors.New("empty passphrase")
		}
		return p, nil
	}
}
