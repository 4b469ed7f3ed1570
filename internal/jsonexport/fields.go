package jsonexport

import (
	"reflect"
	"slices"
	"strings"
	"sync"
)

// fieldSet maps a struct's JSON field names to field index paths.
type fieldSet struct {
	names []string // in encoding/json's order
	index map[string][]int
}

var fieldCache sync.Map // reflect.Type -> *fieldSet

// structFields lists the JSON names of t's fields as encoding/json names and
// orders them: the json tag name or the Go name, "-" and unexported fields
// skipped, fields of untagged embedded structs promoted unless a shallower
// field has the same name, all in declaration order.
func structFields(t reflect.Type) *fieldSet {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.(*fieldSet)
	}
	var found []field
	collectFields(&found, t, nil, map[reflect.Type]bool{})
	// Shallowest wins; the stable sort keeps declaration order among equals.
	slices.SortStableFunc(found, func(a, b field) int { return len(a.index) - len(b.index) })
	fs := &fieldSet{index: map[string][]int{}}
	var kept []field
	for _, f := range found {
		if _, dup := fs.index[f.name]; !dup {
			fs.index[f.name] = f.index
			kept = append(kept, f)
		}
	}
	slices.SortFunc(kept, func(a, b field) int { return slices.Compare(a.index, b.index) })
	for _, f := range kept {
		fs.names = append(fs.names, f.name)
	}
	fieldCache.Store(t, fs)
	return fs
}

type field struct {
	name  string
	index []int
}

func collectFields(found *[]field, t reflect.Type, prefix []int, seen map[reflect.Type]bool) {
	if seen[t] {
		return
	}
	seen[t] = true
	defer delete(seen, t)
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		index := append(slices.Clone(prefix), i)
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				collectFields(found, ft, index, seen)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		*found = append(*found, field{name: name, index: index})
	}
}
