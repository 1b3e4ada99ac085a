// Command ferretdb runs FerretDB v1.24.2 embedded, with the SQLite handler,
// as the MongoDB-wire server for local runs and tests. It is built from the
// embeddable package because `go install .../cmd/ferretdb` panics on a missing
// version file (FerretDB issue 2982).
package main

import (
	"context"
	"flag"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on")
	dir := flag.String("dir", "./data", "directory for the SQLite files (created if missing)")
	flag.Parse()

	if err := os.MkdirAll(*dir, 0o755); err != nil {
		log.Fatalf("ferretdb: cannot create data dir %s: %v", *dir, err)
	}

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Handler:   "sqlite",
		SQLiteURL: "file:" + *dir + "/",
	})
	if err != nil {
		log.Fatalf("ferretdb: %v", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	log.Printf("ferretdb listening on %s, data in %s", *listen, *dir)
	if err := f.Run(ctx); err != nil {
		log.Fatalf("ferretdb: %v", err)
	}
}
