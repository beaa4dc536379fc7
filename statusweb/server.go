package statusweb

import (
	"context"
	"crypto/tls"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"

	"github.com/taikit/taikit/observe"
	"github.com/taikit/taikit/supervise/control"
	"github.com/taikit/taikit/tai64n"
)

// DefaultAddr is where svstatd listens by default: loopback only, on the
// port 9118.
const DefaultAddr = "127.0.0.1:9118"

// Defaults of Server.
const (
	DefaultMaxStreams   = 32
	DefaultReadTimeout  = 10 * time.Second
	DefaultWriteTimeout = 30 * time.Second
	DefaultIdleTimeout  = 60 * time.Second
	// maxScrapes bounds concurrent /metrics requests: each reads every
	// status file, and more at once would only compete for the disk.
	maxScrapes = 4
)

// Server serves a Tree over HTTP. Set its fields, then call Serve; do not
// change them afterwards.
type Server struct {
	Tree *observe.Tree
	// MaxStreams bounds the event-stream clients (the page keeps one
	// open); more are refused with 503. 0 means DefaultMaxStreams.
	MaxStreams int
	// ReadTimeout, WriteTimeout and IdleTimeout bound every connection:
	// reading a request, writing a response (an event stream's deadline
	// is moved forward at each event), waiting for the next request.
	// 0 means the defaults.
	ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// Log receives one line per control action and per failure to serve;
	// nil discards them.
	Log io.Writer
	// Zone is the time zone of the stamps of log lines on the page
	// (tzlocal.Local(): tai64nlocal's); nil means UTC.
	Zone tai64n.Zone
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	// ControlToken, when not nil, turns control on: POST
	// /api/v1/control/{start,stop,restart}/NAME with the header
	// "Authorization: Bearer TOKEN" (see LoadToken). Serve refuses it on a
	// listener outside the loopback interface unless TLS is set.
	ControlToken []byte
	// Control tunes the verbs (their waits); the zero value means
	// package control's defaults.
	Control control.Options
	// TLS, when not nil, makes Serve speak HTTPS.
	TLS *tls.Config

	handler http.Handler
	streams chan struct{}
	hub     *hub
	busy    *busySet
	ctx     context.Context // Serve's, for controls that outlive their request
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) logf(format string, args ...any) {
	if s.Log != nil {
		fmt.Fprintf(s.Log, "svstatd: "+format+"\n", args...)
	}
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// registry returns a registry with c.
func registry(c *Collector) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	return reg
}

// WriteMetrics writes the tree's metrics once, in the Prometheus text
// format: what svstatd --once prints for node_exporter's textfile
// collector. It returns the problems the metrics count in
// taikit_svstatd_errors that concern the tree as a whole (a scan
// directory that cannot be read), for the caller to report.
func WriteMetrics(w io.Writer, tree *observe.Tree) (problems []string, err error) {
	c := &Collector{Tree: tree, seen: func(s *observe.Snapshot) { problems = s.Errors }}
	mfs, err := registry(c).Gather()
	if err != nil {
		return problems, err
	}
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return problems, err
		}
	}
	return problems, nil
}

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler {
	if s.handler != nil {
		return s.handler
	}
	s.streams = make(chan struct{}, orDefault(s.MaxStreams, DefaultMaxStreams))
	s.hub = newHub(s.Tree)
	s.hub.control = s.ControlToken != nil
	s.busy = newBusySet()
	if s.ctx == nil {
		s.ctx = context.Background()
	}
	reg := registry(&Collector{Tree: s.Tree})
	// svstatd's own process and runtime, as every exporter shows them.
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		EnableOpenMetrics:   true,
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: maxScrapes,
		Timeout:             orDefault(s.WriteTimeout, DefaultWriteTimeout) - time.Second,
	}))
	mux.HandleFunc("GET /api/v1/services", s.services)
	mux.HandleFunc("GET /api/v1/services/{name...}", s.service)
	mux.HandleFunc("GET /api/v1/events", s.events)
	mux.HandleFunc("GET /api/v1/logs/{name...}", s.logTail)
	mux.HandleFunc("POST /api/v1/control/{verb}/{name...}", s.control)
	mux.HandleFunc("GET /{$}", s.index)
	mux.HandleFunc("GET /static/{file}", s.static)
	s.handler = noSniff(mux)
	return s.handler
}

// Serve serves HTTP on ln until ctx is cancelled, then shuts down,
// waiting at most a few seconds for requests under way (event streams end
// at once).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if s.ControlToken != nil && s.TLS == nil && !isLoopback(ln.Addr()) {
		return ErrControlNeedsTLS
	}
	if s.TLS != nil {
		ln = tls.NewListener(ln, s.TLS)
	}
	s.ctx = ctx
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: orDefault(s.ReadTimeout, DefaultReadTimeout),
		ReadTimeout:       orDefault(s.ReadTimeout, DefaultReadTimeout),
		WriteTimeout:      orDefault(s.WriteTimeout, DefaultWriteTimeout),
		IdleTimeout:       orDefault(s.IdleTimeout, DefaultIdleTimeout),
		MaxHeaderBytes:    16 << 10,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ErrorLog:          nil,
	}
	// The hub's watch, owned here: it ends with ctx, before Serve returns.
	hubCtx, stopHub := context.WithCancel(ctx)
	hubDone := make(chan struct{})
	w, err := newWatcher()
	if err != nil {
		s.logf("warning: %v: pages are updated every 5 seconds instead of at each change", err)
	}
	go func() { defer close(hubDone); s.hub.run(hubCtx, w) }()
	defer func() { stopHub(); <-hubDone }()

	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = hs.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = hs.Close()
	}
	<-done
	return err
}

// noSniff makes browsers take every response for the type it says it is.
func noSniff(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		h.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	enc.Encode(v)
}

type apiError struct {
	Error string `json:"error"`
}

// services serves the snapshot of the whole tree.
func (s *Server) services(w http.ResponseWriter, r *http.Request) {
	snap := s.Tree.Snapshot()
	writeJSON(w, http.StatusOK, snap)
}

// service serves one service, looked up by its name in a snapshot: a name
// is never joined to a path, so no request reaches outside the tree.
func (s *Server) service(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if svc, ok := s.Tree.Service(name); ok {
		writeJSON(w, http.StatusOK, svc)
		return
	}
	writeJSON(w, http.StatusNotFound, apiError{"no service " + name})
}

// page holds the web page: HTML, script and style, nothing fetched from
// elsewhere (it works on a host without Internet access).
//
//go:embed page
var page embed.FS

// pageCSP lets the page load only its own script, style and streams.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	b, _ := page.ReadFile("page/index.html")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", pageCSP)
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(b)
}

// static serves the page's script and style.
func (s *Server) static(w http.ResponseWriter, r *http.Request) {
	var typ string
	switch name := r.PathValue("file"); name {
	case "app.js":
		typ = "text/javascript; charset=utf-8"
	case "app.css":
		typ = "text/css; charset=utf-8"
	case "icon.svg":
		typ = "image/svg+xml"
	default:
		http.NotFound(w, r)
		return
	}
	b, _ := page.ReadFile("page/" + r.PathValue("file"))
	w.Header().Set("Content-Type", typ)
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(b)
}
