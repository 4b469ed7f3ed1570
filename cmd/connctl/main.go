// Command connctl manages connections to external systems.
package main

import (
	"os"

	"github.com/connctl/connctl/internal/app"
)

func main() {
	os.Exit(app.Main())
}
