package secretstoretest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"

	"github.com/connctl/connctl/internal/atomicfile"
	"github.com/connctl/connctl/internal/secretstore"
)

// FileFake is a Store that keeps secrets as plain-text JSON in one file, so
// that they persist across the connctl processes of one end-to-end test
// script. Writers lock "<path>.lock" and replace the file atomically, so
// concurrent processes do not lose each other's writes. It is for test
// harnesses only: the secrets are not encrypted.
type FileFake struct {
	path string

	// ReportedName is what Name returns; "file-fake" when empty. A harness
	// that runs the same scripts against the real keyring can set it to
	// "keyring" so that both runs print the same backend.
	ReportedName string
}

var _ secretstore.Store = (*FileFake)(nil)

// NewFileFake returns a FileFake backed by the file at path. A missing file
// is an empty store.
func NewFileFake(path string) *FileFake {
	return &FileFake{path: path}
}

// Name returns ReportedName, or "file-fake".
func (f *FileFake) Name() string {
	if f.ReportedName != "" {
		return f.ReportedName
	}
	return "file-fake"
}

// Get returns the secret for connID and kind or an error wrapping
// secretstore.ErrNotFound.
func (f *FileFake) Get(ctx context.Context, connID, kind string) (string, error) {
	key, err := secretstore.ItemKey(connID, kind)
	if err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	items, err := f.Items()
	if err != nil {
		return "", err
	}
	v, ok := items[key]
	if !ok {
		return "", notFound(key)
	}
	return v, nil
}

// Set stores value for connID and kind.
func (f *FileFake) Set(ctx context.Context, connID, kind, value string) error {
	key, err := secretstore.ItemKey(connID, kind)
	if err != nil {
		return err
	}
	if err := secretstore.CheckSize(key, value); err != nil {
		return err
	}
	return f.update(ctx, func(items map[string]string) error {
		items[key] = value
		return nil
	})
}

// Delete removes the secret for connID and kind, or returns an error wrapping
// secretstore.ErrNotFound.
func (f *FileFake) Delete(ctx context.Context, connID, kind string) error {
	key, err := secretstore.ItemKey(connID, kind)
	if err != nil {
		return err
	}
	return f.update(ctx, func(items map[string]string) error {
		if _, ok := items[key]; !ok {
			return notFound(key)
		}
		delete(items, key)
		return nil
	})
}

// Items returns everything stored, keyed "<connID>/<kind>".
func (f *FileFake) Items() (map[string]string, error) {
	data, err := os.ReadFile(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", secretstore.ErrUnavailable, err)
	}
	return f.parse(data)
}

func (f *FileFake) parse(data []byte) (map[string]string, error) {
	items := map[string]string{}
	if err := json.Unmarshal(data, &items); err != nil {
		return nil, fmt.Errorf("%w: %s is not a JSON object of strings: %w", secretstore.ErrUnavailable, f.path, err)
	}
	return items, nil
}

func (f *FileFake) update(ctx context.Context, change func(map[string]string) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return atomicfile.Update(ctx, f.path, func(old []byte, exists bool) ([]byte, error) {
		items := map[string]string{}
		if exists {
			var err error
			if items, err = f.parse(old); err != nil {
				return nil, err
			}
		}
		before := maps.Clone(items)
		if err := change(items); err != nil {
			return nil, err
		}
		if exists && maps.Equal(before, items) {
			return nil, nil // nothing changed; keep the file as it is
		}
		return json.MarshalIndent(items, "", "  ")
	})
}
