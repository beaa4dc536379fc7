package statusweb

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/taikit/taikit/errtext"
	"github.com/taikit/taikit/supervise/control"
)

// MinTokenLength is the shortest control token accepted: long enough that
// guessing one over the network is hopeless.
const MinTokenLength = 16

// ErrTokenFile is wrapped by LoadToken's refusals of a token file.
var ErrTokenFile = errors.New("control token file refused")

// LoadToken reads the control token from path: the file's contents, without
// the final newline. The file must be a regular file of this process's
// user with no permission for anyone else (mode 0600 or stricter), and the
// token at least MinTokenLength bytes.
func LoadToken(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, &errtext.Error{Op: "unable to open control token file", Path: path, Err: err}
	}
	defer f.Close()
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		return nil, &errtext.Error{Op: "unable to stat control token file", Path: path, Err: err}
	}
	switch {
	case st.Mode&syscall.S_IFMT != syscall.S_IFREG:
		return nil, fmt.Errorf("%s is not a regular file: %w", path, ErrTokenFile)
	case st.Mode&0o077 != 0:
		return nil, fmt.Errorf("%s has mode %04o: others may read it; chmod 600 %s: %w", path, st.Mode&0o7777, path, ErrTokenFile)
	case int(st.Uid) != os.Geteuid():
		return nil, fmt.Errorf("%s belongs to uid %d, not to this user (uid %d): %w", path, st.Uid, os.Geteuid(), ErrTokenFile)
	}
	b, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return nil, &errtext.Error{Op: "unable to read control token file", Path: path, Err: err}
	}
	tok := []byte(strings.TrimRight(string(b), "\r\n"))
	if len(tok) < MinTokenLength {
		return nil, fmt.Errorf("%s holds a token of %d bytes, fewer than %d; make one with: head -c 24 /dev/urandom | base64 > %s: %w",
			path, len(tok), MinTokenLength, path, ErrTokenFile)
	}
	return tok, nil
}

// ErrControlNeedsTLS is Serve's refusal to accept a control token over a
// listener that is not on the loopback interface without TLS: the token
// would cross the network in the clear.
var ErrControlNeedsTLS = errors.New("control over a non-loopback address needs TLS: give a certificate and key, or listen on 127.0.0.1")

// isLoopback reports whether addr is on the loopback interface.
func isLoopback(addr net.Addr) bool {
	switch a := addr.(type) {
	case *net.TCPAddr:
		return a.IP.IsLoopback()
	case *net.UnixAddr:
		return true // a socket file: the file system decides who connects
	}
	return false
}

// controlVerbs are the verbs served: those of svctl that act on one
// service and wait for the outcome.
var controlVerbs = map[string]control.Verb{"start": control.Start, "stop": control.Stop, "restart": control.Restart}

// controlResult is the answer to a control request.
type controlResult struct {
	Service string  `json:"service"`
	Verb    string  `json:"verb"`
	OK      bool    `json:"ok"`
	Done    string  `json:"done,omitempty"` // "started", "already up", "stopped", "restarted"...
	PID     int     `json:"pid,omitempty"`
	Took    float64 `json:"took_seconds"`
	Error   string  `json:"error,omitempty"`
}

// controlTimeout bounds a control request's response: each of a verb's
// waits is bounded by the control options' Timeout, and a verb has at
// most a few.
func (s *Server) controlTimeout() time.Duration {
	return 4*orDefault(s.Control.Timeout, control.DefaultTimeout) + orDefault(s.Control.KillWait, control.DefaultKillWait)
}

// authorized reports whether r carries the control token, compared in
// constant time.
func (s *Server) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(tok), s.ControlToken) == 1
}

// control carries out POST /api/v1/control/{verb}/{name...}: a verb of
// svctl on one service, waited for, its outcome answered and logged.
func (s *Server) control(w http.ResponseWriter, r *http.Request) {
	if s.ControlToken == nil {
		writeJSON(w, http.StatusForbidden, apiError{"control is off: start svstatd with --control-token"})
		return
	}
	if !s.authorized(r) {
		s.logf("control: refused %s %s from %s: no valid token", r.PathValue("verb"), r.PathValue("name"), r.RemoteAddr)
		w.Header().Set("WWW-Authenticate", `Bearer realm="svstatd"`)
		writeJSON(w, http.StatusUnauthorized, apiError{"a valid token is needed: Authorization: Bearer TOKEN"})
		return
	}
	verb, ok := controlVerbs[r.PathValue("verb")]
	if !ok {
		writeJSON(w, http.StatusNotFound, apiError{"unknown verb " + r.PathValue("verb") + ": want start, stop or restart"})
		return
	}
	name := r.PathValue("name")
	svc, ok := s.Tree.Service(name)
	if !ok {
		writeJSON(w, http.StatusNotFound, apiError{"no service " + name})
		return
	}
	if !s.busy.claim(svc.Dir) {
		writeJSON(w, http.StatusConflict, apiError{"another control of " + name + " is under way"})
		return
	}
	defer s.busy.release(svc.Dir)
	http.NewResponseController(w).SetWriteDeadline(time.Now().Add(s.controlTimeout()))
	// The server's context, not the request's: a client that goes away
	// does not leave a service half stopped.
	res := control.Do(s.ctx, svc.Dir, verb, s.Control)
	out := controlResult{Service: name, Verb: verb.String(), OK: res.OK(), Done: res.Done, PID: res.PID, Took: res.Took.Seconds()}
	code := http.StatusOK
	if res.Err != nil {
		out.Error = res.Err.Error()
		code = http.StatusUnprocessableEntity
		if res.Temporary() {
			code = http.StatusServiceUnavailable
		}
		s.logf("control: %s %s from %s: failed: %v", verb, name, r.RemoteAddr, res.Err)
	} else {
		pid := ""
		if res.PID != 0 {
			pid = fmt.Sprintf(" (pid %d)", res.PID)
		}
		s.logf("control: %s %s from %s: %s%s in %.3g s", verb, name, r.RemoteAddr, res.Done, pid, res.Took.Seconds())
	}
	writeJSON(w, code, out)
}

// busySet holds the service directories a control is under way for.
type busySet struct {
	ch chan map[string]bool
}

func newBusySet() *busySet {
	b := &busySet{ch: make(chan map[string]bool, 1)}
	b.ch <- map[string]bool{}
	return b
}

func (b *busySet) claim(dir string) bool {
	m := <-b.ch
	defer func() { b.ch <- m }()
	if m[dir] {
		return false
	}
	m[dir] = true
	return true
}

func (b *busySet) release(dir string) {
	m := <-b.ch
	delete(m, dir)
	b.ch <- m
}
