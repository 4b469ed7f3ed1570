package configstore

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/viper"

	"github.com/connctl/connctl/internal/notify"
)

// Setting describes one key connctl understands in `connctl config`.
type Setting struct {
	Key     string
	Default string
	Help    string
	// Validate checks and normalises a value given to `config set`.
	Validate func(string) (any, error) `json:"-"`
	// Credential marks a value that grants access by itself (a Slack
	// webhook URL): `config list` and `config set` never print it whole,
	// and `config set KEY -` reads it from stdin instead of argv.
	Credential bool `json:"-"`
	// ArgvProblem, when set, says why a value given on the command line
	// (rather than "-" for stdin) is refused, e.g. a store URL that holds
	// a password; empty means the value may be given there.
	ArgvProblem func(string) string `json:"-"`
	// ToolEnv is another tool's environment variable that sets this
	// setting too, over CONNCTL_* (VAULT_ADDR for vault.addr): one value
	// for connctl and the tool's own CLI.
	ToolEnv string `json:"-"`
}

// Redact is what `config list` and `config set` print for a credential
// setting's value: a URL's scheme and host only (the path is the secret),
// anything else as a fixed mark; an empty value stays empty.
func Redact(v string) string {
	if v == "" {
		return ""
	}
	if u, err := url.Parse(v); err == nil && u.Scheme != "" && u.Host != "" {
		return u.Scheme + "://" + u.Host + "/…"
	}
	return "…"
}

// EnvName is the environment variable that overrides the setting.
func (s Setting) EnvName() string {
	return "CONNCTL_" + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(s.Key))
}

// FromEnv is the setting's value in the environment and the variable it
// came from: ToolEnv first, then EnvName; "" when neither is set.
func (s Setting) FromEnv(getenv func(string) string) (value, name string) {
	if s.ToolEnv != "" {
		if v := getenv(s.ToolEnv); v != "" {
			return v, s.ToolEnv
		}
	}
	if v := getenv(s.EnvName()); v != "" {
		return v, s.EnvName()
	}
	return "", ""
}

func positiveInt(v string) (any, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 1 {
		return nil, fmt.Errorf("%q is not a whole number of at least 1", v)
	}
	return n, nil
}

func duration(v string) (any, error) {
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil || d <= 0 {
		return nil, fmt.Errorf("%q is not a positive duration such as 10s or 1m", v)
	}
	return d.String(), nil
}

// durationOrZero accepts a duration of 0 or more; 0 means no limit.
func durationOrZero(v string) (any, error) {
	v = strings.TrimSpace(v)
	if v == "0" {
		return "0", nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return nil, fmt.Errorf("%q is not a duration such as 30m or 6h (0: no limit)", v)
	}
	return d.String(), nil
}

func oneOf(values ...string) func(string) (any, error) {
	return func(v string) (any, error) {
		for _, ok := range values {
			if v == ok {
				return v, nil
			}
		}
		return nil, fmt.Errorf("%q is not one of: %s", v, strings.Join(values, ", "))
	}
}

func anyText(v string) (any, error) { return v, nil }

// wholeNumber accepts 0 or more.
func wholeNumber(v string) (any, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 {
		return nil, fmt.Errorf("%q is not a whole number (0 or more)", v)
	}
	return n, nil
}

// webhookURL accepts an https URL, or http to this machine; empty turns
// the webhook off.
func webhookURL(v string) (any, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", nil
	}
	if err := notify.CheckWebhook(v); err != nil {
		return nil, err
	}
	return v, nil
}

// notifyCommand accepts a command line that splits into words (or a path);
// empty turns the command off.
func notifyCommand(v string) (any, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", nil
	}
	if _, err := notify.ParseCommand(v); err != nil {
		return nil, fmt.Errorf("%q: %v (quote arguments with ' or \")", v, err)
	}
	return v, nil
}

// Settings is every setting connctl reads, in display order.
var Settings = []Setting{
	{Key: "limits.crm", Default: "1", Help: "how many CRM systems (distinct connectors) may have connections", Validate: positiveInt},
	{Key: "limits.support", Default: "1", Help: "how many Support systems (distinct connectors) may have connections", Validate: positiveInt},
	{Key: "keyring.timeout", Default: "10s", Help: "how long a keyring call may take before connctl gives up", Validate: duration},
	{Key: "jobs.timeout", Default: "6h", Help: "how long one job run may take before it is stopped and fails (0: no limit); jobs run --timeout overrides it", Validate: durationOrZero},
	{Key: "status.key_max_age", Default: "8760h", Help: "age of an API key or secret after which connctl status reports it expiring (rotate it); 8760h is a year", Validate: duration},
	{Key: "jobs.pause_after", Default: "3", Help: "pause a scheduled job after this many consecutive failed runs (0: never); `connctl jobs resume` resumes it", Validate: wholeNumber},
	{Key: "notify.webhook", Default: "", Help: "URL to POST a Slack-compatible JSON message to when a connection or job starts failing or recovers (https, or http to 127.0.0.1/localhost)", Validate: webhookURL, Credential: true},
	{Key: "notify.command", Default: "", Help: "program (and arguments, split without a shell) run with the same JSON message on stdin", Validate: notifyCommand},
	{Key: "notify.remind_after", Default: "24h", Help: "while a connection or job stays broken, remind at most this often (0: never)", Validate: durationOrZero},
	{Key: "secrets.backend", Default: "keyring", Help: "where secrets live: keyring (the OS keyring), file (age-encrypted, with a passphrase from CONNCTL_PASSPHRASE or the key in secrets.key_file) or vault (a Vault KV v2 mount, from VAULT_ADDR and VAULT_TOKEN)", Validate: oneOf("keyring", "file", "vault")},
	{Key: "secrets.file", Default: "", Help: "path of the encrypted secrets file (default $XDG_DATA_HOME/connctl/secrets.age)", Validate: anyText},
	{Key: "secrets.key_file", Default: "", Help: "an age key file the secrets file is encrypted to instead of a passphrase: no CONNCTL_PASSPHRASE and no key derivation at each command (for cron and servers); `config set secrets.key_file PATH --migrate` creates the key and re-encrypts the file", Validate: anyText},
	{Key: "store.url", Default: "", Help: "PostgreSQL URL (postgres://USER@HOST:PORT/DATABASE) of a team store for connections, jobs and activities (empty: this config file and the local activity log)", Validate: storeURL, Credential: true, ArgvProblem: storeURLInArgv},
	{Key: "vault.addr", Default: "", Help: "the Vault server (https://vault.example.com:8200) when secrets.backend is vault; VAULT_ADDR, when set, overrides it", Validate: vaultAddr, ToolEnv: "VAULT_ADDR"},
	{Key: "vault.mount", Default: "secret", Help: "the Vault KV v2 mount that holds secrets when secrets.backend is vault", Validate: vaultPath},
	{Key: "vault.path", Default: "connctl", Help: "the path under vault.mount where connctl keeps one secret per connection and kind", Validate: vaultPath},
}

// storeURL accepts a postgres:// URL with a host; empty means the local
// file.
func storeURL(v string) (any, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
		return nil, fmt.Errorf("store.url must be a PostgreSQL URL such as postgres://connctl@db.example.com:5432/connctl")
	}
	return v, nil
}

// storeURLInArgv refuses a store URL with a password on the command line,
// where shell history and other users' ps would see it.
func storeURLInArgv(v string) string {
	if !StoreURLHasPassword(v) {
		return ""
	}
	return "the URL holds a password, which the command line would leak to shell history and ps: give the URL as \"-\" and pipe it in (printf %s \"$URL\" | connctl config set store.url -), or leave the password out and set PGPASSWORD or ~/.pgpass"
}

// vaultAddr is an http(s) URL with a host; empty: VAULT_ADDR only.
func vaultAddr(v string) (any, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return nil, fmt.Errorf("%q is not a Vault address such as https://vault.example.com:8200", v)
	}
	return v, nil
}

// StoreURLHasPassword reports whether a postgres:// URL holds a password,
// in its user part or as a password= parameter (a URL that does not parse
// counts when it mentions one).
func StoreURLHasPassword(v string) bool {
	v = strings.TrimSpace(v)
	u, err := url.Parse(v)
	if err != nil {
		return strings.Contains(strings.ToLower(v), "password")
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			return true
		}
	}
	return u.Query().Has("password")
}

// vaultPath is a Vault path: not empty, no spaces or control characters.
func vaultPath(v string) (any, error) {
	v = strings.Trim(v, "/")
	if v == "" || strings.ContainsFunc(v, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return nil, fmt.Errorf("%q is not a Vault path (non-empty, no spaces)", v)
	}
	return v, nil
}

var clientIDKey = regexp.MustCompile(`^oauth\.([a-z0-9-]+)\.client_id$`)

func noSpaces(v string) (any, error) {
	if v == "" || strings.ContainsAny(v, " \t\r\n") {
		return nil, fmt.Errorf("%q is not a client ID (no spaces)", v)
	}
	return v, nil
}

// LookupSetting finds a setting by key. Besides the fixed settings,
// oauth.<connector>.client_id holds a default OAuth client ID for that
// connector's connections.
func LookupSetting(key string) (Setting, error) {
	for _, s := range Settings {
		if s.Key == key {
			return s, nil
		}
	}
	if m := clientIDKey.FindStringSubmatch(key); m != nil {
		return Setting{Key: key, Help: "default OAuth client ID for " + m[1] + " connections", Validate: noSpaces}, nil
	}
	keys := make([]string, len(Settings))
	for i, s := range Settings {
		keys[i] = s.Key
	}
	return Setting{}, fmt.Errorf("unknown setting %q (known: %s, oauth.<connector>.client_id)", key, strings.Join(keys, ", "))
}

// Source says where an effective setting came from.
type Source string

// Sources, highest precedence first.
const (
	SourceEnv     Source = "env"
	SourceFile    Source = "file"
	SourceDefault Source = "default"
)

// SettingValue is a setting's effective value.
type SettingValue struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Source Source `json:"source"`
	// EnvVar names the variable the value came from when Source is env.
	EnvVar string `json:"-"`
}

// SettingsView is connctl's settings: CONNCTL_* environment variables over
// the config file's settings section over defaults, resolved by viper (the
// only place viper is used). Settings always live in the local config file,
// whichever Definitions backend holds connections and jobs: they say which
// backend to use. A *Store embeds the view of its own file; Join pairs it
// with another backend. It is safe for concurrent use.
type SettingsView struct {
	file   *Store
	getenv func(string) string

	mu   sync.Mutex
	from *settingsDoc // the settings v was built from
	v    *viper.Viper
}

// view returns the viper instance for the file's current settings and the
// settings map it was built from, building it again after the file changed
// (flags, when a command binds one, over all). Only settings go through
// viper; connections are typed and read directly.
func (s *SettingsView) view() (*viper.Viper, map[string]any) {
	doc := s.file.settingsDoc()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.v != nil && s.from == doc {
		return s.v, doc.Settings
	}
	v := viper.New()
	if doc.Settings != nil {
		_ = v.MergeConfigMap(doc.Settings)
	}
	for _, st := range knownSettings(doc.Settings) {
		v.SetDefault(st.Key, st.Default)
		// The environment is read through the injected getenv (not viper's
		// AutomaticEnv, which reads the process) and set as an override,
		// viper's highest layer.
		if e, _ := st.FromEnv(s.getenv); e != "" {
			v.Set(st.Key, e)
		}
	}
	s.v, s.from = v, doc
	return v, doc.Settings
}

// Get returns the effective value of key and where it came from.
func (s *SettingsView) Get(key string) (SettingValue, error) {
	st, err := LookupSetting(key)
	if err != nil {
		return SettingValue{}, err
	}
	v, fileSettings := s.view()
	s.mu.Lock()
	val := v.GetString(key)
	s.mu.Unlock()
	src, envVar := SourceDefault, ""
	if e, name := st.FromEnv(s.getenv); e != "" {
		src, val, envVar = SourceEnv, e, name
	} else if _, ok := lookupNested(fileSettings, key); ok {
		src = SourceFile
	}
	return SettingValue{Key: key, Value: val, Source: src, EnvVar: envVar}, nil
}

// Int returns an integer setting, falling back to its default when the
// environment or file holds something unusable.
func (s *SettingsView) Int(key string) int {
	sv, err := s.Get(key)
	if err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(sv.Value)); err == nil && n > 0 {
			return n
		}
	}
	st, _ := LookupSetting(key)
	n, _ := strconv.Atoi(st.Default)
	return n
}

// Duration returns a duration setting (default on a bad value).
func (s *SettingsView) Duration(key string) time.Duration {
	sv, err := s.Get(key)
	if err == nil {
		if d, err := time.ParseDuration(strings.TrimSpace(sv.Value)); err == nil && d > 0 {
			return d
		}
	}
	st, _ := LookupSetting(key)
	d, _ := time.ParseDuration(st.Default)
	return d
}

// String returns a text setting.
func (s *SettingsView) String(key string) string {
	sv, _ := s.Get(key)
	return sv.Value
}

// knownSettings is the fixed settings plus the per-connector client IDs the
// file's settings hold.
func knownSettings(fileSettings map[string]any) []Setting {
	out := append([]Setting(nil), Settings...)
	if oauth, ok := fileSettings["oauth"].(map[string]any); ok {
		ids := make([]string, 0, len(oauth))
		for id := range oauth {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			if st, err := LookupSetting("oauth." + id + ".client_id"); err == nil {
				out = append(out, st)
			}
		}
	}
	return out
}

// All returns every setting's effective value.
func (s *SettingsView) All() []SettingValue {
	known := knownSettings(s.file.settingsDoc().Settings)
	out := make([]SettingValue, 0, len(known))
	for _, st := range known {
		sv, _ := s.Get(st.Key)
		out = append(out, sv)
	}
	return out
}

// Set validates value and writes it into the file's settings.
func (s *SettingsView) Set(ctx context.Context, key, value string) error {
	st, err := LookupSetting(key)
	if err != nil {
		return err
	}
	v, err := st.Validate(value)
	if err != nil {
		return fmt.Errorf("invalid value for %s: %w", key, err)
	}
	return s.file.Update(ctx, func(d *Document) error {
		if d.Settings == nil {
			d.Settings = map[string]any{}
		}
		setNested(d.Settings, key, v)
		return nil
	})
}

// Unset removes key from the file's settings, so the default applies.
func (s *SettingsView) Unset(ctx context.Context, key string) error {
	if _, err := LookupSetting(key); err != nil {
		return err
	}
	return s.file.Update(ctx, func(d *Document) error {
		deleteNested(d.Settings, key)
		return nil
	})
}

func lookupNested(m map[string]any, key string) (any, bool) {
	parts := strings.Split(key, ".")
	var cur any = m
	for _, p := range parts {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		cur, ok = mm[p]
		if !ok {
			return nil, false
		}
	}
	return cur, true
}

func setNested(m map[string]any, key string, v any) {
	parts := strings.Split(key, ".")
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[parts[len(parts)-1]] = v
}

func deleteNested(m map[string]any, key string) {
	if m == nil {
		return
	}
	parts := strings.Split(key, ".")
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			return
		}
		m = next
	}
	delete(m, parts[len(parts)-1])
}

// SettingKeys returns every setting key, sorted (for completion).
func SettingKeys() []string {
	keys := make([]string, len(Settings))
	for i, s := range Settings {
		keys[i] = s.Key
	}
	sort.Strings(keys)
	return keys
}
