package configstoretest_test

import (
	"testing"

	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/configstore/configstoretest"
)

func TestMemoryConformance(t *testing.T) {
	t.Parallel()
	configstoretest.RunConformance(t, func(*testing.T) func() (configstore.Definitions, error) {
		m := configstoretest.NewMemory()
		return func() (configstore.Definitions, error) { return m.Open(), nil }
	})
}
