// Command ferretdb runs FerretDB v1.24.2 embedded, as the MongoDB-wire server
// for local runs and tests. It is built from the embeddable package because
// `go install .../cmd/ferretdb` panics on a missing version file (FerretDB
// issue 2982).
//
// Two storage handlers:
//
//	-handler postgresql -postgresql-url postgres://…   (the local default: pushes filters down to SQL)
//	-handler sqlite -dir ./data                         (no other server needed; every query reads every document)
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
	handler := flag.String("handler", "sqlite", "storage handler: postgresql or sqlite")
	postgresURL := flag.String("postgresql-url", "", "PostgreSQL connection string (handler postgresql), e.g. postgres://127.0.0.1:5432/ferretdb")
	dir := flag.String("dir", "./data", "directory for the SQLite files (handler sqlite; created if missing)")
	flag.Parse()

	config := &ferretdb.Config{Listener: ferretdb.ListenerConfig{TCP: *listen}, Handler: *handler}
	switch *handler {
	case "postgresql":
		if *postgresURL == "" {
			log.Fatalf("ferretdb: -handler postgresql needs -postgresql-url")
		}
		config.PostgreSQLURL = *postgresURL
	case "sqlite":
		if err := os.MkdirAll(*dir, 0o755); err != nil {
			log.Fatalf("ferretdb: cannot create data dir %s: %v", *dir, err)
		}
		config.SQLiteURL = "file:" + *dir + "/"
	default:
		log.Fatalf("ferretdb: unknown -handler %q (want postgresql or sqlite)", *handler)
	}

	f, err := ferretdb.New(config)
	if err != nil {
		log.Fatalf("ferretdb: %v", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	log.Printf("ferretdb listening on %s, handler %s", *listen, *handler)
	if err := f.Run(ctx); err != nil {
		log.Fatalf("ferretdb: %v", err)
	}
}
