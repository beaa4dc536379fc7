package observe

import (
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/taikit/taikit/errtext"
	"github.com/taikit/taikit/supervise/control"
)

// DefaultLogNames are the log directories looked for in each log service:
// the ./main of daemontools' examples.
var DefaultLogNames = []string{"main"}

// Tree is what to observe: scan directories, as svscan runs them, and log
// directories. Its methods are safe for concurrent use.
type Tree struct {
	// ScanDirs are the scan directories: each subdirectory whose name does
	// not begin with a dot is a service, and its log subdirectory one too
	// (see control.Services).
	ScanDirs []string
	// LogNames are the log directories looked for in each log service
	// (SERVICE/log/NAME); nil means DefaultLogNames.
	LogNames []string
	// LogDirs are further log directories, named on their own.
	LogDirs []string
	// Cursors name, for a log directory (by its path, or its name in a
	// Snapshot: "qmail/log/main"), the cursor file of a reader of it
	// (logcat --cursor, a shipper), whose lag is then reported.
	Cursors map[string]string
	// Now is the clock of Snapshot.Time; nil means time.Now.
	Now func() time.Time

	cache oldestCache
}

// Snapshot is the state of a Tree at one time.
type Snapshot struct {
	Time     time.Time `json:"time"`
	Services []Service `json:"services"`
	LogDirs  []LogDir  `json:"logdirs"`
	// Errors are what could not be listed: a scan directory that cannot
	// be read, a service name found in two of them.
	Errors []string `json:"errors,omitempty"`
}

// Service returns the service called name, if the snapshot has it.
func (s *Snapshot) Service(name string) (*Service, bool) {
	for i := range s.Services {
		if s.Services[i].Name == name {
			return &s.Services[i], true
		}
	}
	return nil, false
}

// LogDir returns the log directory called name, if the snapshot has it.
func (s *Snapshot) LogDir(name string) (*LogDir, bool) {
	for i := range s.LogDirs {
		if s.LogDirs[i].Name == name {
			return &s.LogDirs[i], true
		}
	}
	return nil, false
}

// Entry is a service or log directory found, before its state is read.
type Entry struct {
	Name, Dir string
	Service   string // a log directory's logger
}

// List finds the services and log directories of the tree, without
// reading their state: what Snapshot reads.
func (t *Tree) List() (services, logdirs []Entry, errs []string) {
	logNames := t.LogNames
	if logNames == nil {
		logNames = DefaultLogNames
	}
	seen := map[string]string{}
	for _, scan := range t.ScanDirs {
		dirs, err := control.Services(scan)
		if err != nil {
			errs = append(errs, "unable to read scan directory "+scan+": "+errtext.Of(err))
			continue
		}
		for _, dir := range dirs {
			name, _ := relName(filepath.Clean(scan), dir)
			if other, dup := seen[name]; dup {
				errs = append(errs, "service "+name+" of "+scan+" is also in "+other+": left out")
				continue
			}
			seen[name] = scan
			services = append(services, Entry{Name: name, Dir: dir})
			if !control.IsLogger(dir) {
				continue
			}
			for _, ln := range logNames {
				p := filepath.Join(dir, ln)
				if fi, err := os.Stat(p); err == nil && fi.IsDir() {
					logdirs = append(logdirs, Entry{Name: name + "/" + ln, Dir: p, Service: name})
				}
			}
		}
	}
	for _, dir := range t.LogDirs {
		name := filepath.Clean(dir)
		for _, scan := range t.ScanDirs {
			if n, err := relName(filepath.Clean(scan), name); err == nil {
				name = n
				break
			}
		}
		logdirs = append(logdirs, Entry{Name: name, Dir: dir})
	}
	// A log directory named on its own that is also SERVICE/log/main is
	// listed once.
	out := logdirs[:0]
	names := map[string]bool{}
	for _, e := range logdirs {
		if !names[e.Name] {
			names[e.Name] = true
			out = append(out, e)
		}
	}
	return services, out, errs
}

// Snapshot reads the state of every service and log directory of the
// tree.
func (t *Tree) Snapshot() Snapshot {
	now := time.Now
	if t.Now != nil {
		now = t.Now
	}
	services, logdirs, errs := t.List()
	s := Snapshot{Time: now(), Errors: errs, Services: make([]Service, len(services)), LogDirs: make([]LogDir, len(logdirs))}
	// A few readers at once: the work is system calls, mostly waiting on
	// the file system's locks and, on a cold cache, the disk.
	parallel(len(services)+len(logdirs), func(i int) {
		if i < len(services) {
			s.Services[i] = ReadService(services[i].Dir, services[i].Name)
			return
		}
		e := logdirs[i-len(services)]
		d := readLogDir(e.Dir, &t.cache)
		d.Name, d.Service = e.Name, e.Service
		if c, ok := t.cursorOf(e); ok && d.Error == "" {
			readBehind(e.Dir, c, &d)
		}
		s.LogDirs[i-len(services)] = d
	})
	used := make(map[string]bool, len(logdirs))
	for _, e := range logdirs {
		used[e.Dir] = true
	}
	t.cache.keep(used) // a directory gone: forgotten
	return s
}

// cursorOf returns the cursor file named for the log directory e.
func (t *Tree) cursorOf(e Entry) (string, bool) {
	if c, ok := t.Cursors[e.Name]; ok {
		return c, true
	}
	for dir, c := range t.Cursors {
		if filepath.Clean(dir) == filepath.Clean(e.Dir) {
			return c, true
		}
	}
	return "", false
}

// readers is how many goroutines read a snapshot at most.
const readers = 4

// parallel calls f(0) … f(n-1) from up to readers goroutines, which it
// waits for.
func parallel(n int, f func(int)) {
	w := min(readers, runtime.GOMAXPROCS(0), n)
	if w <= 1 {
		for i := range n {
			f(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range w {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				f(i)
			}
		})
	}
	wg.Wait()
}

// Service reads the state of the service called name, if the tree has
// one: it is looked up among the services listed, never joined to a path.
func (t *Tree) Service(name string) (Service, bool) {
	services, _, _ := t.List()
	for _, e := range services {
		if e.Name == name {
			return ReadService(e.Dir, e.Name), true
		}
	}
	return Service{}, false
}
