package statusweb

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"sync"
	"time"

	"github.com/taikit/taikit/observe"
)

// hub turns changes of the tree's status files into events for the pages
// that are open: the whole list when a page subscribes, then each service
// whose state changed, and each that went away. It snapshots the tree only
// while a page is subscribed.
type hub struct {
	tree    *observe.Tree
	control bool // the page may offer start, stop and restart

	mu   sync.Mutex
	subs map[chan []byte]bool
	prev map[string][]byte // service → its JSON at the last snapshot sent
	// paths are what to watch, from the last snapshot (nil: list the
	// tree for them), so that an event costs one reading of the tree.
	paths []string
}

// subBuffer is how many events a page may fall behind by; a page slower
// than that is dropped, and its browser reconnects and gets the whole list.
const subBuffer = 256

// listEvent is the first event of a stream: every service, and which log
// directory each logger writes.
type listEvent struct {
	Services []observe.Service `json:"services"`
	LogDirs  []logDirRef       `json:"logdirs"`
	Errors   []string          `json:"errors,omitempty"`
	Control  bool              `json:"control"`
}

type logDirRef struct {
	Name    string `json:"logdir"`
	Service string `json:"service"`
}

func newHub(tree *observe.Tree) *hub {
	return &hub{tree: tree, subs: map[chan []byte]bool{}}
}

// frame is one server-sent event.
func frame(event string, data []byte) []byte {
	b := make([]byte, 0, len(event)+len(data)+20)
	b = append(b, "event: "...)
	b = append(b, event...)
	b = append(b, "\ndata: "...)
	b = append(b, data...) // JSON: no newline inside
	return append(b, "\n\n"...)
}

// refresh snapshots the tree and sends what changed since the last
// snapshot to every subscriber; it returns the whole list, for a new one.
// Called with h.mu held.
func (h *hub) refresh() []byte {
	snap := h.tree.Snapshot()
	dirs := make([]string, len(snap.Services))
	for i, s := range snap.Services {
		dirs[i] = s.Dir
	}
	h.paths = pathsOf(h.tree.ScanDirs, dirs)
	cur := make(map[string][]byte, len(snap.Services))
	var events [][]byte
	for _, s := range snap.Services {
		j, _ := json.Marshal(s)
		cur[s.Name] = j
		if old, ok := h.prev[s.Name]; !ok || !bytes.Equal(old, j) {
			events = append(events, frame("service", j))
		}
	}
	for name := range h.prev {
		if _, ok := cur[name]; !ok {
			j, _ := json.Marshal(name)
			events = append(events, frame("gone", j))
		}
	}
	h.prev = cur
	for ch := range h.subs {
		for _, ev := range events {
			select {
			case ch <- ev:
			default:
				delete(h.subs, ch) // too slow: its stream ends
				close(ch)
			}
			if !h.subs[ch] {
				break
			}
		}
	}
	list := listEvent{Services: snap.Services, Errors: snap.Errors, LogDirs: []logDirRef{}, Control: h.control}
	for _, d := range snap.LogDirs {
		list.LogDirs = append(list.LogDirs, logDirRef{d.Name, d.Service})
	}
	j, _ := json.Marshal(list)
	return frame("services", j)
}

// subscribe returns a channel of events that begins with the whole list.
func (h *hub) subscribe() chan []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	ch := make(chan []byte, subBuffer)
	ch <- h.refresh()
	h.subs[ch] = true
	return ch
}

// unsubscribe ends ch's subscription, if the hub has not already.
func (h *hub) unsubscribe(ch chan []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.subs[ch] {
		delete(h.subs, ch)
		close(ch)
	}
}

// watchPaths are the directories whose changes change the tree's state:
// those of the last snapshot, or of a listing when there is none. Called
// with h.mu held.
func (h *hub) watchPaths() []string {
	if h.paths == nil {
		services, _, _ := h.tree.List()
		dirs := make([]string, len(services))
		for i, s := range services {
			dirs[i] = s.Dir
		}
		h.paths = pathsOf(h.tree.ScanDirs, dirs)
	}
	return h.paths
}

// pathsOf returns the scan directories and each service directory with
// its supervise directory.
func pathsOf(scanDirs, serviceDirs []string) []string {
	paths := append(make([]string, 0, len(scanDirs)+2*len(serviceDirs)), scanDirs...)
	for _, d := range serviceDirs {
		paths = append(paths, d, filepath.Join(d, "supervise"))
	}
	return paths
}

// settle is how long after a change the hub waits for the rest of it (the
// extra file renamed in after the status) before it reads the tree.
const settle = 20 * time.Millisecond

// pollInterval is how often the tree is read where inotify is not
// available.
const pollInterval = 5 * time.Second

// run watches the tree until ctx is done, sending changes to subscribers.
// Without a watcher (no inotify) it reads the tree every pollInterval.
func (h *hub) run(ctx context.Context, w *watcher) {
	if w == nil {
		tick := time.NewTicker(pollInterval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			h.mu.Lock()
			if len(h.subs) > 0 {
				h.refresh()
			}
			h.mu.Unlock()
		}
	}
	stop := context.AfterFunc(ctx, w.interrupt)
	defer stop()
	defer w.close()
	for ctx.Err() == nil {
		h.mu.Lock()
		paths := h.watchPaths()
		h.mu.Unlock()
		w.set(paths)
		if err := w.wait(ctx, settle); err != nil {
			return
		}
		h.mu.Lock()
		if len(h.subs) > 0 {
			h.refresh() // and the paths to watch with it
		} else {
			h.paths = nil // listed again before the next wait
		}
		h.mu.Unlock()
	}
}
