// go-open-tx: a Go server whose shutdown is graceful but for one thing: it
// leaves a transaction open when it exits. A target for gracecheck's own
// tests of db.idle_in_transaction on a server that is not refapi (Go's
// database/sql pool and lib/pq, not refapi's own pool).
//
// The bug, a common one: after Shutdown has drained the requests, the
// server records its shutdown in a transaction and hands the commit to a
// goroutine ("commit once the audit sink has it"); main then closes the
// pool and returns without waiting for that goroutine. DB.Close closes the
// idle connections only: the transaction's connection is in use, so the
// process exits with it idle in transaction, and PostgreSQL sees the
// client vanish with the transaction open.
//
// Flags: -listen 127.0.0.1:PORT -db URL [-pool N]. Endpoints: GET /healthz,
// GET /slow?ms=N (holds a pooled connection in pg_sleep for N ms).
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	_ "github.com/lib/pq"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8080", "address to serve HTTP on")
	dbURL := flag.String("db", "", "PostgreSQL URL")
	pool := flag.Int("pool", 4, "database connections, open and idle")
	flag.Parse()

	db, err := sql.Open("postgres", *dbURL)
	if err != nil {
		log.Fatal(err)
	}
	db.SetMaxOpenConns(*pool)
	db.SetMaxIdleConns(*pool)
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS shutdowns (at timestamptz DEFAULT now())`); err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "ok")
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		ms, err := strconv.ParseInt(r.URL.Query().Get("ms"), 10, 64)
		if err != nil || ms < 0 || ms > 60000 {
			http.Error(w, "ms wants a whole number of milliseconds up to 60000", http.StatusBadRequest)
			return
		}
		if _, err := db.Exec("SELECT pg_sleep($1)", float64(ms)/1000); err != nil {
			http.Error(w, "database error", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, "slept %d ms\n", ms)
	})
	srv := &http.Server{Addr: *listen, Handler: mux}
	go func() {
		if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
			log.Fatal(err)
		}
	}()
	log.Printf("listening on %s", *listen)

	quit := make(chan os.Signal, 1)
	signal.Notify(quit, os.Interrupt, syscall.SIGTERM)
	<-quit
	log.Print("shutting down")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		log.Printf("shutdown: %v", err)
	}

	// THE BUG: the shutdown record's transaction is committed by a goroutine
	// nobody waits for.
	tx, err := db.Begin()
	if err == nil {
		if _, err := tx.Exec("INSERT INTO shutdowns DEFAULT VALUES"); err == nil {
			go func() {
				time.Sleep(time.Second) // "once the audit sink has it"
				tx.Commit()
			}()
		}
	}
	db.Close() // closes the idle connections; the transaction's stays open
	log.Print("server exited properly")
}
