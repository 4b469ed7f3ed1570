// Package connection is the lifecycle of connections: create, edit, delete,
// revoke and reauthorize, keeping the config file and the secret store in
// step so that nothing is lost or orphaned. It never prints and never
// prompts; commands gather input and present results.
package connection

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/connctl/connctl/internal/textsafe"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/secretstore"
)

// Manager changes connections. Secrets is called only by operations that
// need the secret store, so listing and showing never touch the keyring.
type Manager struct {
	Config  configstore.Config
	Secrets func() (secretstore.Store, error)
	Catalog *connector.Catalogue
	Now     func() time.Time
	// OnUpdate, when set, is told of every change (update activities).
	OnUpdate func(context.Context, Update)
	// LockDir holds the per-connection locks and pending notes that keep
	// concurrent changes and crashes from losing or orphaning a secret
	// (serial.go). Empty: no cross-process locking (unit tests only).
	LockDir string
	// Warnf, when set, is told of problems that did not stop a change.
	Warnf func(format string, args ...any)

	keepNotes sync.Map // connection id -> true: a pending note that a sweep could not finish
}

// NewID returns a stable, opaque connection id; secrets are keyed by it, so
// renaming a connection keeps them.
func NewID() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return "conn_" + hex.EncodeToString(b[:])
}

// NotFound is the error for an unknown connection name.
func NotFound(name string) error {
	return exitcode.WithHint(exitcode.NotFound("connection", name),
		"list connections with `connctl list`")
}

// Lookup returns the connector of a connection and its auth method.
func (mg *Manager) Lookup(c *configstore.Connection) (*connector.Connector, *connector.AuthMethod, error) {
	ctr, ok := mg.Catalog.Lookup(c.Connector)
	if !ok {
		return nil, nil, fmt.Errorf("connection %q uses connector %q, which this connctl does not know: upgrade connctl", c.Name, c.Connector)
	}
	m, err := ctr.Auth(c.Auth)
	if err != nil {
		return nil, nil, err
	}
	return ctr, m, nil
}

// CreateRequest is a new connection, fully specified and validated by ApplyFields.
type CreateRequest struct {
	Connector *connector.Connector
	Auth      *connector.AuthMethod
	Name      string // empty: the connector id, then -2, -3 ...
	Fields    map[string]string
	Secrets   map[string]string // by secret field name
}

// DefaultName returns the first free name among id, id-2, id-3 ...
func DefaultName(d *configstore.Document, id string) string {
	if _, c := d.Find(id); c == nil {
		return id
	}
	for n := 2; ; n++ {
		name := fmt.Sprintf("%s-%d", id, n)
		if _, c := d.Find(name); c == nil {
			return name
		}
	}
}

// CheckRules enforces the product's rules for adding a connection of ctr:
// single-connection connectors, and the CRM / Support system limits.
func (mg *Manager) CheckRules(d *configstore.Document, ctr *connector.Connector) error {
	if !ctr.Multiple {
		for _, c := range d.Connections {
			if c.Connector == ctr.ID {
				return exitcode.WithHint(exitcode.UsageError("connector %s allows one connection, and %q already exists", ctr.ID, c.Name),
					fmt.Sprintf("change it with `connctl edit %s` or `connctl reauthorize %s`, or delete it first", quoteArg(c.Name), quoteArg(c.Name)))
			}
		}
	}
	key, label, limited := categoryLimit(ctr.Category)
	if !limited {
		return nil
	}
	limit := mg.Config.Int(key)
	systems := map[string]string{} // connector id -> first connection name
	var order []string
	for _, c := range d.Connections {
		other, ok := mg.Catalog.Lookup(c.Connector)
		if !ok || other.Category != ctr.Category {
			continue
		}
		if other.ID == ctr.ID {
			return nil // this system already counts; more connections of it are fine
		}
		if _, seen := systems[other.ID]; !seen {
			systems[other.ID] = c.Name
			order = append(order, other.ID)
		}
	}
	if len(systems) < limit {
		return nil
	}
	blocker := order[0]
	return exitcode.WithHint(
		exitcode.UsageError("%s limit reached: %d %s system(s) allowed, and connection %q (%s) already uses it", label, limit, label, systems[blocker], blocker),
		fmt.Sprintf("allow more with `connctl config set %s %d`", key, limit+1))
}

// categoryLimit returns the setting that limits how many systems of a
// category may have connections, and the category's name in messages; ok
// is false for a category without a limit.
func categoryLimit(c connector.Category) (key, label string, ok bool) {
	switch c {
	case connector.CategoryCRM:
		return "limits.crm", "CRM", true
	case connector.CategorySupport:
		return "limits.support", "Support", true
	}
	return "", "", false
}

func quoteArg(s string) string {
	if strings.ContainsAny(s, " \t'\"$`\\!*?[]{}()<>|&;#~") {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	return s
}

// QuoteArg quotes a connection name for a shell hint.
func QuoteArg(s string) string { return quoteArg(s) }

// Create stores the secrets, then adds the connection. If the secrets cannot
// be stored, nothing is added; if the config cannot be written, the stored
// secrets are removed again.
func (mg *Manager) Create(ctx context.Context, req CreateRequest) (*configstore.Connection, error) {
	ctr, m := req.Connector, req.Auth
	if req.Name != "" {
		if err := configstore.ValidateName(req.Name); err != nil {
			return nil, exitcode.UsageError("%s", err.Error())
		}
	}
	if err := checkSecretKinds(ctr, m, req.Secrets); err != nil {
		return nil, err
	}
	// Cheap checks first, so a refusal never waits on the keyring.
	pre := mg.Config.Document()
	if req.Name != "" {
		if _, c := pre.Find(req.Name); c != nil {
			return nil, NameTaken(req.Name, c.Name)
		}
	}
	if err := mg.CheckRules(pre, ctr); err != nil {
		return nil, err
	}
	now := mg.Now().UTC()
	conn := configstore.Connection{
		ID:        NewID(),
		Name:      req.Name,
		Connector: ctr.ID,
		Auth:      m.ID,
		Fields:    req.Fields,
		Status:    configstore.StatusNotAuthorized,
		CreatedAt: now,
		UpdatedAt: now,
	}
	// Nobody else knows the new id, but the lock tells a sweep in another
	// process that this change is still running.
	unlock, err := mg.lockConn(ctx, conn.ID)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if len(req.Secrets) > 0 {
		mg.Sweep(ctx, conn.ID)
	}
	if err := mg.notePending(conn.ID, sortedKeys(req.Secrets)); err != nil {
		return nil, err
	}
	stored, backend, err := mg.storeSecrets(ctx, conn.ID, req.Secrets)
	if err != nil {
		if mg.forget(conn.ID, sortedKeys(req.Secrets)) {
			mg.clearPending(conn.ID)
		}
		return nil, err
	}
	conn.Secrets = stored
	conn.SecretBackend = backend
	if !m.Kind.Interactive() && len(stored) > 0 {
		conn.Status = configstore.StatusAuthorized
		conn.AuthorizedAt = &now
	}
	err = mg.Config.Update(ctx, func(d *configstore.Document) error {
		if conn.Name == "" {
			conn.Name = DefaultName(d, ctr.ID)
		} else if _, c := d.Find(conn.Name); c != nil {
			return NameTaken(conn.Name, c.Name)
		}
		if err := mg.CheckRules(d, ctr); err != nil {
			return err
		}
		d.Connections = append(d.Connections, conn)
		return nil
	})
	if err != nil {
		if mg.forget(conn.ID, stored) {
			mg.clearPending(conn.ID)
		}
		return nil, err
	}
	mg.clearPending(conn.ID)
	mg.notify(ctx, "create", &conn, createChanges(&conn))
	return &conn, nil
}

// NameTaken is the error for a name already used (case-insensitively) by existing.
func NameTaken(name, existing string) error { return nameTaken(name, existing, "--name") }

// nameTaken names flag, the flag that gave the name, in the hint.
func nameTaken(name, existing, flag string) error {
	if name == existing {
		hint := "choose another " + flag + ", or change it with `connctl edit " + quoteArg(existing) + "`"
		if flag == "--rename" {
			hint = "choose another name for --rename, or rename " + quoteArg(existing) + " first with `connctl edit " + quoteArg(existing) + " --rename <new>`"
		}
		return exitcode.WithHint(exitcode.UsageError("a connection named %q already exists", existing), hint)
	}
	return exitcode.WithHint(exitcode.UsageError("connection name %q is taken by %q (names are compared ignoring case)", name, existing), "choose another "+flag)
}

// storeSecrets writes every secret; on any failure it removes those it wrote.
func (mg *Manager) storeSecrets(ctx context.Context, id string, secrets map[string]string) ([]string, string, error) {
	if len(secrets) == 0 {
		return nil, "", nil
	}
	st, err := mg.Secrets()
	if err != nil {
		return nil, "", SecretStoreError(err)
	}
	var stored []string
	for _, kind := range sortedKeys(secrets) {
		if err := st.Set(ctx, id, kind, secrets[kind]); err != nil {
			for _, k := range stored {
				_ = st.Delete(context.WithoutCancel(ctx), id, k)
			}
			return nil, "", SecretStoreError(fmt.Errorf("store %s: %w", kind, err))
		}
		stored = append(stored, kind)
	}
	return stored, st.Name(), nil
}

// forget removes secrets after a failed change (the config was not
// written, so nothing refers to them). It reports whether all are gone; if
// not, the pending note stays for a later sweep.
func (mg *Manager) forget(id string, kinds []string) bool {
	if len(kinds) == 0 {
		return true
	}
	st, err := mg.Secrets()
	if err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ok := true
	for _, k := range kinds {
		if err := st.Delete(ctx, id, k); err != nil && !errors.Is(err, secretstore.ErrNotFound) {
			ok = false
		}
	}
	return ok
}

// SecretStoreError turns a secret store failure into an authorization-needed
// error (exit 4) with the fix.
func SecretStoreError(err error) error {
	// A backend that knows the fix says it (Vault: VAULT_ADDR, the policy).
	var h interface{ Hint() string }
	if errors.As(err, &h) && h.Hint() != "" {
		code := exitcode.AuthNeeded
		if !errors.Is(err, secretstore.ErrUnavailable) && !errors.Is(err, secretstore.ErrDenied) && !errors.Is(err, secretstore.ErrTimeout) {
			code = exitcode.Failure
		}
		return exitcode.WithHint(exitcode.WithCode(code, err), h.Hint())
	}
	switch {
	case errors.Is(err, secretstore.ErrPassphrase):
		return exitcode.WithHint(exitcode.WithCode(exitcode.AuthNeeded, err),
			"check CONNCTL_PASSPHRASE (or the passphrase you typed): it must be the one the secrets file was created with")
	case errors.Is(err, secretstore.ErrNoPassphrase):
		// The file backend is the one in use: suggesting it would be no help.
		return exitcode.WithHint(exitcode.WithCode(exitcode.AuthNeeded, err),
			"set CONNCTL_PASSPHRASE to the passphrase of the encrypted secrets file (or run connctl at a terminal to be asked for it); for cron, encrypt it to a key file that needs no passphrase: `connctl config set secrets.key_file PATH --migrate`")
	case errors.Is(err, secretstore.ErrUnavailable):
		return exitcode.WithHint(exitcode.WithCode(exitcode.AuthNeeded, err),
			"start a Secret Service (e.g. gnome-keyring) or use the encrypted file: `connctl config set secrets.backend file` with CONNCTL_PASSPHRASE set (see `connctl help environment`)")
	case errors.Is(err, secretstore.ErrTimeout):
		return exitcode.WithHint(exitcode.WithCode(exitcode.AuthNeeded, err),
			"unlock the keyring, or raise the limit with `connctl config set keyring.timeout 30s`")
	case errors.Is(err, secretstore.ErrTooBig):
		return exitcode.WithCode(exitcode.Usage, err)
	}
	return err
}

// EditRequest changes an existing connection.
type EditRequest struct {
	Set     []Assignment
	Unset   []string
	Rename  string
	Secrets map[string]string
}

// Edit applies req to the connection named name. New secrets are stored
// first; if the config cannot be written the old values are put back.
func (mg *Manager) Edit(ctx context.Context, name string, req EditRequest) (*configstore.Connection, []Change, error) {
	cur, unlock, err := mg.lockByName(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	defer unlock()
	ctr, _, err := mg.Lookup(cur)
	if err != nil {
		return nil, nil, err
	}
	m, err := ResolveAuth(ctr, cur.Auth, req.Set)
	if err != nil {
		return nil, nil, err
	}
	fields, err := ApplyFields(ctr, m, cur.Fields, req.Set, req.Unset)
	if err != nil {
		return nil, nil, err
	}
	if miss := MissingRequired(ctr, m, fields); len(miss) > 0 {
		return nil, nil, exitcode.UsageError("field %s is required for %s: give it with --set %s=...", miss[0].Name, ctr.ID, miss[0].Name)
	}
	if req.Rename != "" {
		if err := configstore.ValidateName(req.Rename); err != nil {
			return nil, nil, exitcode.UsageError("%s", err.Error())
		}
	}
	if err := checkSecretKinds(ctr, m, req.Secrets); err != nil {
		return nil, nil, err
	}
	// A switch of auth method needs the new method's main secret.
	if m.ID != cur.Auth && !m.Kind.Interactive() {
		if p, ok := PrimarySecret(ctr, m); ok && p.Required && req.Secrets[p.Name] == "" && !cur.HasSecret(p.Name) {
			return nil, nil, exitcode.UsageError("auth method %s needs the secret %s: pass it with --secret-stdin", m.ID, p.Name)
		}
	}
	if len(req.Secrets) > 0 {
		// Storing one secret in the backend in force while the others stay
		// in another would split the connection across two backends.
		if st, err := mg.Secrets(); err == nil && Stranded(cur, st.Name()) {
			return nil, nil, MissingSecretError(cur, "", st.Name(), true)
		}
	}
	var added []string
	for _, k := range sortedKeys(req.Secrets) {
		if !cur.HasSecret(k) {
			added = append(added, k)
		}
	}
	if err := mg.notePending(cur.ID, added); err != nil {
		return nil, nil, err
	}
	restore, err := mg.replaceSecrets(ctx, cur.ID, req.Secrets)
	if err != nil {
		return nil, nil, err // the note stays if the undo left something
	}
	var changes []Change
	var updated configstore.Connection
	err = mg.Config.Update(ctx, func(d *configstore.Document) error {
		i, c := d.Find(cur.Name)
		if c == nil || c.ID != cur.ID {
			return NotFound(name)
		}
		next := *c
		if req.Rename != "" && req.Rename != c.Name {
			if _, o := d.Find(req.Rename); o != nil && o.ID != c.ID {
				return nameTaken(req.Rename, o.Name, "--rename")
			}
			changes = append(changes, Change{Field: "name", Old: c.Name, New: req.Rename})
			next.Name = req.Rename
		}
		changes = append(changes, diffFields(c.Fields, fields)...)
		if c.Auth != m.ID {
			changes = append(changes, Change{Field: "auth", Old: c.Auth, New: m.ID})
		}
		next.Fields, next.Auth = fields, m.ID
		for kind := range req.Secrets {
			changes = append(changes, Change{Field: kind, Secret: true})
			if !next.HasSecret(kind) {
				next.Secrets = append(append([]string{}, next.Secrets...), kind)
			}
		}
		if len(changes) == 0 {
			return nil
		}
		next.UpdatedAt = mg.Now().UTC()
		if len(req.Secrets) > 0 && !m.Kind.Interactive() && next.Status != configstore.StatusAuthorized &&
			(next.Status != configstore.StatusRevoked || hasRequiredSecrets(ctr, m, &next)) {
			// A new key is a new authorization, also of a revoked connection
			// once every secret its method needs is stored again.
			changes = append(changes, Change{Field: "status", Old: string(next.Status), New: string(configstore.StatusAuthorized)})
			next.Status, next.StatusReason = configstore.StatusAuthorized, ""
			now := next.UpdatedAt
			next.AuthorizedAt = &now
		}
		d.Connections[i] = next
		updated = next
		return nil
	})
	if err != nil {
		if restore() {
			mg.clearPending(cur.ID)
		}
		return nil, nil, err
	}
	mg.clearPending(cur.ID)
	if updated.ID == "" {
		updated = *cur
	}
	// Secrets of an auth method the connection no longer uses are removed.
	mg.pruneSecrets(ctx, ctr, m, &updated)
	if len(changes) > 0 {
		mg.notify(ctx, "edit", &updated, changes)
	}
	return &updated, changes, nil
}

func (mg *Manager) pruneSecrets(ctx context.Context, ctr *connector.Connector, m *connector.AuthMethod, c *configstore.Connection) {
	keep := map[string]bool{}
	for _, f := range SecretFields(ctr, m) {
		keep[f.Name] = true
	}
	var drop []string
	for _, k := range c.Secrets {
		if !keep[k] && !strings.HasPrefix(k, "oauth_") {
			drop = append(drop, k)
		}
	}
	if len(drop) == 0 {
		return
	}
	st, err := mg.Secrets()
	if err != nil {
		return
	}
	var gone []string
	for _, k := range drop {
		if err := st.Delete(ctx, c.ID, k); err == nil || errors.Is(err, secretstore.ErrNotFound) {
			gone = append(gone, k)
		}
	}
	_ = mg.Config.Update(ctx, func(d *configstore.Document) error {
		i, cc := d.Find(c.Name)
		if cc == nil || cc.ID != c.ID {
			return nil
		}
		d.Connections[i].Secrets = without(cc.Secrets, gone)
		*c = d.Connections[i]
		return nil
	})
}

func without(list, drop []string) []string {
	var out []string
	for _, s := range list {
		keep := true
		for _, d := range drop {
			if s == d {
				keep = false
			}
		}
		if keep {
			out = append(out, s)
		}
	}
	return out
}

func checkSecretKinds(ctr *connector.Connector, m *connector.AuthMethod, secrets map[string]string) error {
	allowed := map[string]*connector.Field{}
	sec := SecretFields(ctr, m)
	for i := range sec {
		allowed[sec[i].Name] = &sec[i]
	}
	for k, v := range secrets {
		f, ok := allowed[k]
		if !ok {
			return exitcode.UsageError("auth method %s of %s has no secret %q (secrets: %s)", m.ID, ctr.ID, k, fieldNames(sec, true))
		}
		if v == "" {
			return exitcode.UsageError("the secret %s is empty", k)
		}
		if f.Validate != nil {
			if err := f.Validate(v); err != nil {
				return exitcode.UsageError("secret %s: %s", k, err.Error())
			}
		}
		if f.Normalize != nil {
			secrets[k] = f.Normalize(v)
		}
		// Refuse an oversized secret here, before the provider is asked
		// or anything is saved, naming the field and its limit.
		limit := secretstore.MaxItemBytes
		if f.MaxBytes > 0 && f.MaxBytes < limit {
			limit = f.MaxBytes
		}
		if n := len(secrets[k]); n > limit {
			return exitcode.UsageError("secret %s is %d bytes, more than the %d connctl stores (Windows Credential Manager's limit for an item): give a smaller one", k, n, limit)
		}
	}
	return nil
}

// replaceSecrets stores new values and returns a function that puts the old
// ones back (or removes new ones that had no predecessor).
func (mg *Manager) replaceSecrets(ctx context.Context, id string, secrets map[string]string) (func() bool, error) {
	if len(secrets) == 0 {
		return func() bool { return true }, nil
	}
	st, err := mg.Secrets()
	if err != nil {
		return nil, SecretStoreError(err)
	}
	type prev struct {
		kind, value string
		existed     bool
	}
	var done []prev
	undo := func() bool {
		bg, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ok := true
		// A connection deleted meanwhile (by a connctl without the
		// connection lock) gets nothing back: its new secrets are removed.
		gone := mg.Config.Reload() == nil && mg.Config.Document().ConnectionByID(id) == nil
		for _, p := range done {
			var err error
			if p.existed && !gone {
				err = st.Set(bg, id, p.kind, p.value)
			} else if err = st.Delete(bg, id, p.kind); errors.Is(err, secretstore.ErrNotFound) {
				err = nil
			}
			if err != nil {
				ok = false
			}
		}
		return ok
	}
	for _, kind := range sortedKeys(secrets) {
		old, gerr := st.Get(ctx, id, kind)
		existed := gerr == nil
		if gerr != nil && !errors.Is(gerr, secretstore.ErrNotFound) {
			if undo() {
				mg.clearPending(id)
			}
			return nil, SecretStoreError(fmt.Errorf("read %s: %w", kind, gerr))
		}
		// Recorded before the Set: a Set that failed may still have
		// written (a keyring that timed out after storing), so it is undone too.
		done = append(done, prev{kind: kind, value: old, existed: existed})
		if err := st.Set(ctx, id, kind, secrets[kind]); err != nil {
			if undo() {
				mg.clearPending(id)
			}
			return nil, SecretStoreError(fmt.Errorf("store %s: %w", kind, err))
		}
	}
	return undo, nil
}

// Change is one field changed by an edit; secrets carry no values.
type Change struct {
	Field  string `json:"field"`
	Old    string `json:"old,omitempty"`
	New    string `json:"new,omitempty"`
	Secret bool   `json:"secret,omitempty"`
}

func diffFields(old, cur map[string]string) []Change {
	var out []Change
	keys := map[string]bool{}
	for k := range old {
		keys[k] = true
	}
	for k := range cur {
		keys[k] = true
	}
	for _, k := range sortedKeysBool(keys) {
		if k == "auth" {
			continue
		}
		if old[k] != cur[k] {
			out = append(out, Change{Field: k, Old: old[k], New: cur[k]})
		}
	}
	return out
}

// Delete removes the connection's definition, then its secrets, under the
// connection's lock. The secrets are read first: when the secret store
// cannot be reached nothing is deleted (nothing is orphaned) unless
// keepSecrets is set. If the config cannot be written nothing has changed.
// If a secret cannot be removed after the definition is gone, a pending
// note makes the next create or delete remove it, and Warnf says so.
func (mg *Manager) Delete(ctx context.Context, name string, keepSecrets bool) (*configstore.Connection, error) {
	cur, unlock, err := mg.lockByName(ctx, name)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := usedByJobs(mg.Config.Document(), cur); err != nil {
		return nil, err
	}
	withSecrets := !keepSecrets && len(cur.Secrets) > 0
	if withSecrets {
		if err := mg.probeSecrets(ctx, cur, cur.Secrets); err != nil {
			return nil, exitcode.WithHint(err, "to remove only the definition and leave its secrets in the keyring, pass --keep-secrets")
		}
		if err := mg.notePending(cur.ID, cur.Secrets); err != nil {
			return nil, err
		}
	}
	err = mg.Config.Update(ctx, func(d *configstore.Document) error {
		i, c := d.Find(cur.Name)
		if c == nil || c.ID != cur.ID {
			return NotFound(name)
		}
		if err := usedByJobs(d, c); err != nil {
			return err
		}
		d.Connections = append(d.Connections[:i], d.Connections[i+1:]...)
		return nil
	})
	if err != nil {
		mg.clearPending(cur.ID)
		return nil, err
	}
	if withSecrets {
		mg.removeSecrets(ctx, cur, cur.Secrets)
	}
	mg.Sweep(ctx, cur.ID)
	mg.notify(ctx, "delete", cur, nil)
	return cur, nil
}

// removeSecrets removes kinds of c after its definition stopped naming
// them; on success it clears the pending note, otherwise the note stays
// for a later sweep and Warnf says so.
func (mg *Manager) removeSecrets(ctx context.Context, c *configstore.Connection, kinds []string) {
	err := mg.deleteSecrets(ctx, c, kinds)
	if err == nil {
		mg.clearPending(c.ID)
		return
	}
	if mg.LockDir == "" {
		mg.warnf("%v; they stay in the secret store under service %q, user %s/<kind>", err, secretstore.Service, c.ID)
		return
	}
	mg.warnf("%v; connctl removes them on its next create or delete", err)
}

// ProbeStore checks that the secret store answers (a read of connID's
// access token, which need not exist), so that a browser flow is not begun,
// and a grant made at the provider, when its tokens could not be stored.
func (mg *Manager) ProbeStore(ctx context.Context, connID string) error {
	st, err := mg.Secrets()
	if err != nil {
		return SecretStoreError(err)
	}
	if _, err := st.Get(ctx, connID, KindAccessToken); err != nil && !errors.Is(err, secretstore.ErrNotFound) {
		return SecretStoreError(err)
	}
	return nil
}

// ProbeSecrets reads every secret of c, so that a command that changes
// more than the connection (delete --cascade deletes its jobs first) is
// refused before anything changes when the secret store cannot be reached
// (a sealed Vault, a locked keyring).
func (mg *Manager) ProbeSecrets(ctx context.Context, c *configstore.Connection) error {
	if len(c.Secrets) == 0 {
		return nil
	}
	return mg.probeSecrets(ctx, c, c.Secrets)
}

// probeSecrets reads each of kinds, so that a change that removes secrets
// is refused before anything changes when the store cannot be reached.
func (mg *Manager) probeSecrets(ctx context.Context, c *configstore.Connection, kinds []string) error {
	st, err := mg.Secrets()
	if err != nil {
		return SecretStoreError(err)
	}
	for _, k := range kinds {
		if _, err := st.Get(ctx, c.ID, k); err != nil && !errors.Is(err, secretstore.ErrNotFound) {
			return SecretStoreError(fmt.Errorf("read %s of %q: %w", k, c.Name, err))
		}
	}
	return nil
}

// usedByJobs refuses to delete a connection that jobs still use.
func usedByJobs(d *configstore.Document, c *configstore.Connection) error {
	var names []string
	for _, j := range d.Jobs {
		if j.ConnectionID == c.ID {
			names = append(names, j.Name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	return exitcode.WithHint(exitcode.UsageError("connection %q is used by job(s) %s", c.Name, textsafe.List(names, ", ")),
		"delete them first with `connctl jobs delete <job> --yes`")
}

func (mg *Manager) deleteSecrets(ctx context.Context, c *configstore.Connection, kinds []string) error {
	if len(kinds) == 0 {
		return nil
	}
	st, err := mg.Secrets()
	if err != nil {
		return SecretStoreError(err)
	}
	for _, k := range kinds {
		if err := st.Delete(ctx, c.ID, k); err != nil && !errors.Is(err, secretstore.ErrNotFound) {
			return SecretStoreError(fmt.Errorf("remove %s of %q: %w", k, c.Name, err))
		}
	}
	return nil
}

// Revoke removes the connection's secrets and marks it revoked; the
// definition stays so it can be reauthorized.
func (mg *Manager) Revoke(ctx context.Context, name string) (*configstore.Connection, error) {
	return mg.RevokeLocal(ctx, name, false)
}

// Authorize stores new credentials for a key-based connection and marks it
// authorized. It serves both authorize and reauthorize.
func (mg *Manager) Authorize(ctx context.Context, name string, secrets map[string]string) (*configstore.Connection, error) {
	cur, unlock, err := mg.lockByName(ctx, name)
	if err != nil {
		return nil, err
	}
	defer unlock()
	ctr, m, err := mg.Lookup(cur)
	if err != nil {
		return nil, err
	}
	if err := checkSecretKinds(ctr, m, secrets); err != nil {
		return nil, err
	}
	for _, f := range SecretFields(ctr, m) {
		if f.Required && secrets[f.Name] == "" {
			return nil, exitcode.UsageError("the secret %s is required to authorize %q: pass it with --secret-stdin, --secret-file or --secret-env", f.Name, cur.Name)
		}
	}
	if err := mg.notePending(cur.ID, unlisted(cur, sortedKeys(secrets))); err != nil {
		return nil, err
	}
	restore, err := mg.replaceSecrets(ctx, cur.ID, secrets)
	if err != nil {
		return nil, err // the note stays if the undo left something
	}
	st, _ := mg.Secrets()
	now := mg.Now().UTC()
	updated, err := mg.setStatus(ctx, cur, configstore.StatusAuthorized, func(c *configstore.Connection) {
		for k := range secrets {
			if !c.HasSecret(k) {
				c.Secrets = append(append([]string{}, c.Secrets...), k)
			}
		}
		c.SecretBackend = st.Name()
		c.AuthorizedAt = &now
	})
	if err != nil {
		if restore() {
			mg.clearPending(cur.ID)
		}
		return nil, err
	}
	mg.clearPending(cur.ID)
	changes := []Change{{Field: "status", Old: string(cur.Status), New: string(updated.Status)}}
	for _, k := range sortedKeys(secrets) {
		changes = append(changes, Change{Field: k, Secret: true})
	}
	mg.notify(ctx, authorizeAction(cur.Status), updated, changes)
	return updated, nil
}

func (mg *Manager) setStatus(ctx context.Context, cur *configstore.Connection, s configstore.Status, edit func(*configstore.Connection)) (*configstore.Connection, error) {
	var out configstore.Connection
	err := mg.Config.Update(ctx, func(d *configstore.Document) error {
		i, c := d.Find(cur.Name)
		if c == nil || c.ID != cur.ID {
			return NotFound(cur.Name)
		}
		next := *c
		if s != c.Status {
			next.StatusReason = ""
		}
		next.Status = s
		next.UpdatedAt = mg.Now().UTC()
		if edit != nil {
			edit(&next)
		}
		d.Connections[i] = next
		out = next
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make(map[string]bool, len(m))
	for k := range m {
		keys[k] = true
	}
	return sortedKeysBool(keys)
}

func sortedKeysBool(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// hasRequiredSecrets reports whether c lists every secret its auth method
// requires.
func hasRequiredSecrets(ctr *connector.Connector, m *connector.AuthMethod, c *configstore.Connection) bool {
	for _, f := range SecretFields(ctr, m) {
		if f.Required && !c.HasSecret(f.Name) {
			return false
		}
	}
	return true
}

// unlisted returns the kinds c does not list yet.
func unlisted(c *configstore.Connection, kinds []string) []string {
	var out []string
	for _, k := range kinds {
		if !c.HasSecret(k) {
			out = append(out, k)
		}
	}
	return out
}

// CheckDocumentRules checks a whole set of definitions against the
// product's rules that CheckRules enforces one connection at a time: at
// most one connection of a single-connection connector, and no more CRM or
// Support systems (distinct connectors) than limits.crm and limits.support
// allow. It is for changes that add many connections at once (team init
// merging a machine's connections into the team's). limits is the setting
// reader (Config.Int).
func CheckDocumentRules(cat *connector.Catalogue, limits func(key string) int, d *configstore.Document) error {
	first := map[string]string{} // connector -> its first connection's name
	systems := map[connector.Category][]string{}
	for _, c := range d.Connections {
		ctr, ok := cat.Lookup(c.Connector)
		if !ok {
			continue
		}
		other, dup := first[ctr.ID]
		if dup && !ctr.Multiple {
			return exitcode.WithHint(exitcode.UsageError("connector %s allows one connection, and there would be two: %q and %q", ctr.ID, other, c.Name),
				fmt.Sprintf("keep one: delete the other (`connctl delete %s`) first", quoteArg(c.Name)))
		}
		if !dup {
			first[ctr.ID] = c.Name
			systems[ctr.Category] = append(systems[ctr.Category], ctr.ID)
		}
	}
	for _, category := range []connector.Category{connector.CategoryCRM, connector.CategorySupport} {
		key, label, _ := categoryLimit(category)
		ids := systems[category]
		if limit := limits(key); len(ids) > limit {
			named := make([]string, len(ids))
			for i, id := range ids {
				named[i] = fmt.Sprintf("%s (%q)", id, first[id])
			}
			return exitcode.WithHint(exitcode.UsageError("%s limit: there would be %d %s systems (%s), and %s allows %d", label, len(ids), label, strings.Join(named, ", "), key, limit),
				fmt.Sprintf("allow them with `connctl config set %s %d`, or delete the connections of a system first", key, len(ids)))
		}
	}
	return nil
}
