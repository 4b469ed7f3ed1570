// Command pgserver starts a throwaway PostgreSQL on loopback for the
// scripts/bench-*.sh that measure the team store (the server the tests
// start: internal/testpeer/postgres, from Debian's postgresql package),
// creates an empty database, prints its URL and runs until it is sent
// SIGTERM or SIGINT; then it stops the server and removes its folder.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/connctl/connctl/internal/testpeer/postgres"
)

func main() {
	srv, stop, err := postgres.StartProcess()
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgserver:", err)
		os.Exit(1)
	}
	defer stop()
	url, err := srv.CreateDatabase(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgserver:", err)
		stop()
		os.Exit(1)
	}
	fmt.Println(url)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
}
