package configstore

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// SchemaVersion is the config file format this build writes. A file with a
// newer version is refused, never rewritten.
const SchemaVersion = 1

// Status is a connection's authorization state.
type Status string

// Statuses.
const (
	StatusNotAuthorized        Status = "not_authorized"
	StatusAuthorized           Status = "authorized"
	StatusRevoked              Status = "revoked"
	StatusNeedsReauthorization Status = "needs_reauthorization"
)

// ReasonSecretMissing is the StatusReason of a connection whose secret was
// not found in the secret store: nothing was rejected, so finding the secret
// again (the backend switched back) makes it usable again.
const ReasonSecretMissing = "secret_missing"

// Statuses lists every status, for validation and completion.
var Statuses = []Status{StatusNotAuthorized, StatusAuthorized, StatusRevoked, StatusNeedsReauthorization}

// ParseStatus validates s.
func ParseStatus(s string) (Status, error) {
	for _, st := range Statuses {
		if string(st) == s {
			return st, nil
		}
	}
	names := make([]string, len(Statuses))
	for i, st := range Statuses {
		names[i] = string(st)
	}
	return "", fmt.Errorf("unknown status %q (choose one of: %s)", s, strings.Join(names, ", "))
}

// Connection is one named, authorized link to an external system. It holds
// no secret: Secrets names the items kept in the secret store under ID.
type Connection struct {
	ID            string            `yaml:"id" json:"id"`
	Name          string            `yaml:"name" json:"name"`
	Connector     string            `yaml:"connector" json:"connector"`
	Auth          string            `yaml:"auth,omitempty" json:"auth"`
	Fields        map[string]string `yaml:"fields,omitempty" json:"fields"`
	Secrets       []string          `yaml:"secrets,omitempty" json:"secrets"`
	SecretBackend string            `yaml:"secret_backend,omitempty" json:"secret_backend"`
	Status        Status            `yaml:"status" json:"status"`
	// StatusReason says why a connection needs reauthorization when it is
	// not the provider's rejection: ReasonSecretMissing.
	StatusReason string     `yaml:"status_reason,omitempty" json:"status_reason,omitempty"`
	Account      string     `yaml:"account,omitempty" json:"account"`
	CreatedAt    time.Time  `yaml:"created_at" json:"created_at"`
	UpdatedAt    time.Time  `yaml:"updated_at" json:"updated_at"`
	AuthorizedAt *time.Time `yaml:"authorized_at,omitempty" json:"authorized_at"`
	// Unverified is set when key-based credentials were saved without a
	// check with the provider (--no-verify); a passing `connctl test`
	// clears it.
	Unverified bool        `yaml:"unverified,omitempty" json:"unverified,omitempty"`
	OAuth      *OAuthState `yaml:"oauth,omitempty" json:"oauth,omitempty"`
}

// OAuthState is what connctl records about an OAuth grant, never the tokens
// themselves (they live in the secret store).
type OAuthState struct {
	Scopes    []string          `yaml:"scopes,omitempty" json:"scopes"`
	IssuedAt  *time.Time        `yaml:"issued_at,omitempty" json:"issued_at"`
	ExpiresAt *time.Time        `yaml:"expires_at,omitempty" json:"expires_at"`
	APIBase   string            `yaml:"api_base,omitempty" json:"api_base"` // instance_url, api_domain, access_url, site
	Subject   string            `yaml:"subject,omitempty" json:"subject"`   // the user who authorized
	Org       string            `yaml:"org,omitempty" json:"org"`           // the org/instance/site authorized; reauthorize must match it
	Extra     map[string]string `yaml:"extra,omitempty" json:"extra"`       // provider details: accounts_server, cloud_id, ...
}

// HasSecret reports whether kind is recorded as stored for c.
func (c *Connection) HasSecret(kind string) bool {
	for _, s := range c.Secrets {
		if s == kind {
			return true
		}
	}
	return false
}

// Job is a named definition of what to fetch through a connection.
type Job struct {
	ID           string            `yaml:"id" json:"id"`
	Name         string            `yaml:"name" json:"name"`
	ConnectionID string            `yaml:"connection_id" json:"connection_id"` // the id survives a rename
	Source       string            `yaml:"source" json:"source"`
	Params       map[string]string `yaml:"params,omitempty" json:"params"`
	Dest         string            `yaml:"dest" json:"dest"`     // a file path, or "-" for stdout
	Format       string            `yaml:"format" json:"format"` // ndjson or csv
	Mode         string            `yaml:"mode" json:"mode"`     // incremental or full
	Schedule     string            `yaml:"schedule,omitempty" json:"schedule"`
	// NotifyOn says which runs notify: failure (changes to and from
	// failing, the default when empty), always (successes too) or never.
	NotifyOn  string    `yaml:"notify_on,omitempty" json:"notify_on"`
	CreatedAt time.Time `yaml:"created_at" json:"created_at"`
	UpdatedAt time.Time `yaml:"updated_at" json:"updated_at"`
}

// Document is the whole config file.
type Document struct {
	SchemaVersion int            `yaml:"schema_version" json:"schema_version"`
	Settings      map[string]any `yaml:"settings,omitempty" json:"settings,omitempty"`
	Connections   []Connection   `yaml:"connections" json:"connections"`
	Jobs          []Job          `yaml:"jobs,omitempty" json:"jobs,omitempty"`
}

// FindJob returns the job named name (case-insensitive).
func (d *Document) FindJob(name string) (int, *Job) {
	key := NameKey(name)
	for i := range d.Jobs {
		if NameKey(d.Jobs[i].Name) == key {
			return i, &d.Jobs[i]
		}
	}
	return -1, nil
}

// ConnectionByID returns the connection with id.
func (d *Document) ConnectionByID(id string) *Connection {
	for i := range d.Connections {
		if d.Connections[i].ID == id {
			return &d.Connections[i]
		}
	}
	return nil
}

// Find returns the connection whose name matches name case-insensitively.
func (d *Document) Find(name string) (int, *Connection) {
	key := NameKey(name)
	for i := range d.Connections {
		if NameKey(d.Connections[i].Name) == key {
			return i, &d.Connections[i]
		}
	}
	return -1, nil
}

// MaxNameLen is the longest connection name, in characters.
const MaxNameLen = 64

// NameKey is the form names are compared in: NFC, case-folded.
func NameKey(name string) string {
	return strings.ToLower(norm.NFC.String(name))
}

// ValidateName checks a connection name: printable text up to 64
// characters, no control or format characters, no "/", no leading "-" and no
// surrounding spaces.
func ValidateName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("connection name is empty: give one with --name")
	case !utf8.ValidString(name):
		return fmt.Errorf("connection name is not valid UTF-8")
	case utf8.RuneCountInString(name) > MaxNameLen:
		return fmt.Errorf("connection name is %d characters long: the limit is %d", utf8.RuneCountInString(name), MaxNameLen)
	case strings.TrimSpace(name) != name:
		return fmt.Errorf("connection name %q starts or ends with a space: remove it", name)
	case strings.HasPrefix(name, "-"):
		return fmt.Errorf("connection name %q starts with \"-\": choose a name that starts with a letter or digit", name)
	case strings.Contains(name, "/"):
		return fmt.Errorf("connection name %q contains \"/\": use another separator such as \"-\"", name)
	}
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("connection name %q contains the non-printable character %U: remove it", name, r)
		}
	}
	return nil
}
