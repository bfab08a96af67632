// go-article: the seed article's "graceful shutdown of a Go API server",
// written the way the article (and the many posts that copy it) writes it,
// serving refapi's endpoints over database/sql and github.com/lib/pq.
//
// The pattern, as the article teaches it:
//   - ListenAndServe runs in a goroutine, and any error it returns panics;
//   - main waits for SIGINT/SIGTERM on a channel;
//   - then srv.Shutdown(ctx) with a 5 s timeout drains the HTTP server first;
//   - the database is closed last, by `defer db.Close()`, because in-flight
//     requests still need it.
//
// This file is deliberately NOT fixed: it is the subject gracecheck is meant
// to judge. See ../go-fixed/main.go for the version that passes, and
// ../README.md for what gracecheck reports on each.
//
// Flags: -listen 127.0.0.1:PORT -db URL (Go's flag package also accepts
// --listen/--db).
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/lib/pq"
)

const schema = `CREATE TABLE IF NOT EXISTS items (
  id bigserial PRIMARY KEY,
  key text UNIQUE NOT NULL,
  body text,
  created_at timestamptz DEFAULT now())`

const maxSleepMs = 10 * 60 * 1000

func main() {
	listen := flag.String("listen", "127.0.0.1:8080", "address to serve HTTP on")
	dbURL := flag.String("db", "", "PostgreSQL URL")
	flag.Parse()

	db, err := sql.Open("postgres", *dbURL)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(schema); err != nil {
		log.Fatal(err)
	}

	srv := &http.Server{Addr: *listen, Handler: routes(db)}

	// The widely copied form: panic on *any* error from ListenAndServe.
	// Chosen over the gin-docs variant (`err != nil && err !=
	// http.ErrServerClosed`) because it is what the article does and what
	// most copies of it do. Note that ListenAndServe returns
	// http.ErrServerClosed immediately when Shutdown starts (it does not wait
	// for the drain), so this goroutine panics -- and the panic ends the
	// whole process with exit code 2 -- while Shutdown is still draining.
	go func() {
		if err := srv.ListenAndServe(); err != nil {
			panic(err)
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
		log.Fatalf("shutdown: %v", err) // os.Exit(1): the deferred db.Close() does not run
	}
	log.Print("server exited properly")
}

func routes(db *sql.DB) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("ok"))
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("ready"))
	})
	mux.HandleFunc("/items/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			replyError(w, http.StatusMethodNotAllowed, "method not allowed")
			return
		}
		getItem(db, w, r)
	})
	mux.HandleFunc("/items", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			replyError(w, http.StatusMethodNotAllowed, "method not allowed")
			return
		}
		postItem(db, w, r)
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			replyError(w, http.StatusMethodNotAllowed, "method not allowed")
			return
		}
		slow(db, w, r)
	})
	return mux
}

func reply(w http.ResponseWriter, status int, body interface{}) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}

func replyError(w http.ResponseWriter, status int, message string) {
	reply(w, status, map[string]string{"error": message})
}

// GET /items/{id}: 200 {"id","key"}, 404 when absent or not a number.
func getItem(db *sql.DB, w http.ResponseWriter, r *http.Request) {
	idText := strings.TrimPrefix(r.URL.Path, "/items/")
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil || idText == "" || strings.TrimLeft(idText, "0123456789") != "" {
		replyError(w, http.StatusNotFound, "no such item")
		return
	}
	var key string
	err = db.QueryRow("SELECT id, key FROM items WHERE id = $1", id).Scan(&id, &key)
	if err == sql.ErrNoRows {
		replyError(w, http.StatusNotFound, "no such item")
		return
	}
	if err != nil {
		replyError(w, http.StatusServiceUnavailable, "database error")
		return
	}
	reply(w, http.StatusOK, map[string]interface{}{"id": id, "key": key})
}

// POST /items {"key":"…"}: idempotent by key; 201 created, 200 existing,
// 400 bad body.
func postItem(db *sql.DB, w http.ResponseWriter, r *http.Request) {
	raw, key, ok := parseItemKey(w, r)
	if !ok {
		return
	}
	var id int64
	created := true
	err := db.QueryRow(`INSERT INTO items (key, body) VALUES ($1, $2)
	                    ON CONFLICT (key) DO NOTHING RETURNING id`, key, raw).Scan(&id)
	if err == sql.ErrNoRows {
		created = false
		err = db.QueryRow("SELECT id FROM items WHERE key = $1", key).Scan(&id)
	}
	if err != nil {
		replyError(w, http.StatusServiceUnavailable, "database error")
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	reply(w, status, map[string]interface{}{"id": id, "key": key})
}

func parseItemKey(w http.ResponseWriter, r *http.Request) (string, string, bool) {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	var body map[string]interface{}
	if err != nil || json.Unmarshal(raw, &body) != nil || body == nil {
		replyError(w, http.StatusBadRequest, "body is not a JSON object")
		return "", "", false
	}
	key, ok := body["key"].(string)
	if !ok || key == "" {
		replyError(w, http.StatusBadRequest, `body needs a non-empty string "key"`)
		return "", "", false
	}
	return string(raw), key, true
}

// GET /slow?ms=N: holds a pooled connection in pg_sleep for N ms.
func slow(db *sql.DB, w http.ResponseWriter, r *http.Request) {
	ms, err := strconv.ParseInt(r.URL.Query().Get("ms"), 10, 64)
	if err != nil || ms < 0 || ms > maxSleepMs {
		replyError(w, http.StatusBadRequest, "ms wants a whole number of milliseconds from 0 to 600000")
		return
	}
	if _, err := db.Exec("SELECT pg_sleep($1)", float64(ms)/1000); err != nil {
		replyError(w, http.StatusServiceUnavailable, "database error")
		return
	}
	reply(w, http.StatusOK, map[string]int64{"slept_ms": ms})
}
