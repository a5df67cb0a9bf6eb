// Command lienthong-ferretdb runs FerretDB with its SQLite backend as a
// MongoDB-wire store for the local stack.
//
// It embeds the github.com/FerretDB/FerretDB/ferretdb package instead of
// installing FerretDB's own command: that command reads version files that
// only FerretDB's build generates, and panics at start without them.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to listen on")
	dataDir := flag.String("data-dir", "data", "directory that holds one SQLite file per database")
	logLevel := flag.String("log-level", "warn", "debug, info, warn or error")
	flag.Parse()

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(os.Stderr, "invalid --log-level %q: %v\n", *logLevel, err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	if err := os.MkdirAll(*dataDir, 0o755); err != nil {
		logger.Error("cannot create data directory", "dir", *dataDir, "err", err)
		os.Exit(1)
	}

	// FerretDB's SQLite URL names a directory and must end with a slash.
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: "file:" + *dataDir + "/",
	})
	if err != nil {
		logger.Error("cannot start FerretDB", "err", err)
		os.Exit(1)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	go keepIDIndexes(ctx, *dataDir, time.Second, logger)

	logger.Warn("listening", "addr", *listen, "data", *dataDir)
	if err := f.Run(ctx); err != nil {
		logger.Error("FerretDB stopped with an error", "err", err)
		os.Exit(1)
	}
}
