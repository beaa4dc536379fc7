package control

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// DefaultJobs is how many services DoAll handles at once by default. The
// work is mostly waiting, so more than the processors; few enough that
// start scripts of a large tree do not all run at once.
const DefaultJobs = 16

// Services lists the services of the scan directory dir as svscan sees
// them: every subdirectory (or link to one) whose name does not begin with
// a dot, in name order, each followed by its log subdirectory when it has
// one, since svscan gives that a supervisor of its own.
func Services(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var dirs []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		if fi, err := os.Stat(path); err != nil || !fi.IsDir() {
			continue
		}
		dirs = append(dirs, path)
		if fi, err := os.Stat(filepath.Join(path, "log")); err == nil && fi.IsDir() {
			dirs = append(dirs, filepath.Join(path, "log"))
		}
	}
	return dirs, nil
}

// IsLogger reports whether the service in dir is a log service: a
// directory named log (inside its service's directory).
func IsLogger(dir string) bool {
	base := filepath.Base(filepath.Clean(dir))
	if base == "." || base == ".." {
		// "svctl restart ." in /service/x/log: the name is the working
		// directory's.
		if abs, err := filepath.Abs(dir); err == nil {
			base = filepath.Base(abs)
		}
	}
	return base == "log"
}

// DoAll carries out verb on each of dirs, at most jobs at once (0 means
// DefaultJobs), and returns the results in the order of dirs. Log
// services go first for start, reset and restart, and last for stop, so
// that a logger is ready before its service writes and outlives it.
//
// The services follow the graph of their needs/ directories (see
// WithNeeds for the services to add): for every verb but stop, a service
// is acted on only once every service of dirs it needs has succeeded, and
// fails without being touched when one of those failed, when it needs a
// service that does not exist, or when it is in a cycle of needs; for
// stop, a service is stopped only once every service of dirs that needs
// it is down. report, if not nil, is called with each result as soon as
// it is known, never twice at once.
func DoAll(ctx context.Context, dirs []string, verb Verb, opt Options, jobs int, report func(Result)) []Result {
	if jobs <= 0 {
		jobs = DefaultJobs
	}
	p := newPlan(dirs)
	results := make([]Result, len(dirs))
	var reporting sync.Mutex
	slots := make(chan struct{}, jobs)
	for _, phase := range p.phases(dirs, verb) {
		var wg sync.WaitGroup
		for _, i := range phase {
			if err := p.blocked(dirs, i, verb, results); err != nil {
				results[i] = Result{Dir: dirs[i], Verb: verb, Err: err}
				if report != nil {
					reporting.Lock()
					report(results[i])
					reporting.Unlock()
				}
				continue
			}
			slots <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-slots; wg.Done() }()
				results[i] = Do(ctx, dirs[i], verb, opt)
				if report != nil {
					reporting.Lock()
					report(results[i])
					reporting.Unlock()
				}
			}()
		}
		wg.Wait()
	}
	return results
}

// Failed returns the results of rs that failed, in order.
func Failed(rs []Result) []Result {
	return slices.DeleteFunc(slices.Clone(rs), Result.OK)
}
