package connection

import "github.com/connctl/connctl/internal/configstore"

// configPath is the file of a Manager whose definitions are the config file.
func configPath(mg *Manager) string { return mg.Config.(*configstore.Store).Path() }
