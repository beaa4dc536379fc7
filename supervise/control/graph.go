package control

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/taikit/taikit/errtext"
	"github.com/taikit/taikit/supervise"
)

// The services a service needs are named in its needs/ directory (see
// supervise.NeedsDir); each name is a sibling in the same scan directory.
// A log service's needs/ is not read: it is its service's companion, not
// a service of the scan directory.

// neededDirs returns the directories of the services that the service in
// dir names in its needs/, and the names among them that are no service
// directory. A needs/ that cannot be read is an error.
func neededDirs(dir string) (dirs, missing []string, err error) {
	if IsLogger(dir) {
		return nil, nil, nil
	}
	names, err := supervise.Needs(dir)
	if err != nil {
		return nil, nil, err
	}
	// The directory above, as supervise finds it: for "." that is "..",
	// where filepath.Dir would say ".".
	scan := filepath.Join(dir, "..")
	for _, n := range names {
		d := filepath.Join(scan, n)
		if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
			missing = append(missing, n)
			continue
		}
		dirs = append(dirs, d)
	}
	return dirs, missing, nil
}

// WithNeeds returns dirs with what verb must also act on for the graph of
// needs to hold: for Start, every service they need, directly or not; for
// Stop, every service of their scan directories that needs one of them,
// directly or not, since it would lose what it needs. The added services
// follow those given, each once. Other verbs act on dirs alone (DoAll
// still orders them).
func WithNeeds(dirs []string, verb Verb) []string {
	if verb != Start && verb != Stop {
		return dirs
	}
	out := slices.Clone(dirs)
	seen := map[string]bool{}
	for _, d := range dirs {
		seen[filepath.Clean(d)] = true
	}
	var next func(string) []string
	if verb == Start {
		next = func(d string) []string { n, _, _ := neededDirs(d); return n }
	} else {
		dependents := map[string]map[string][]string{} // scan directory → service → its dependents
		next = func(d string) []string {
			scan := filepath.Join(d, "..")
			m, ok := dependents[scan]
			if !ok {
				m = map[string][]string{}
				services, _ := Services(scan)
				for _, s := range services {
					needed, _, _ := neededDirs(s)
					for _, n := range needed {
						m[n] = append(m[n], s)
					}
				}
				dependents[scan] = m
			}
			return m[filepath.Join(scan, serviceName(d))]
		}
	}
	for i := 0; i < len(out); i++ {
		for _, d := range next(out[i]) {
			if !seen[filepath.Clean(d)] {
				seen[filepath.Clean(d)] = true
				out = append(out, d)
			}
		}
	}
	return out
}

// plan is the order in which DoAll acts on its services.
type plan struct {
	needs   [][]int  // per service: the services of the set it needs
	missing []string // per service: why it cannot start, for a need that is no service
	cycle   []string // per service: the cycle of needs it is in, worded
	level   []int    // 0: needs nothing in the set; else 1 + the highest level it needs
}

// newPlan reads the needs of dirs and orders them.
func newPlan(dirs []string) *plan {
	p := &plan{
		needs:   make([][]int, len(dirs)),
		missing: make([]string, len(dirs)),
		cycle:   make([]string, len(dirs)),
		level:   make([]int, len(dirs)),
	}
	index := map[string]int{}
	for i, d := range dirs {
		if _, dup := index[filepath.Clean(d)]; !dup {
			index[filepath.Clean(d)] = i
		}
	}
	for i, d := range dirs {
		needed, missing, err := neededDirs(d)
		switch {
		case err != nil:
			p.missing[i] = "unable to read " + supervise.NeedsDir + ": " + errtext.Of(err)
		case len(missing) > 0:
			p.missing[i] = fmt.Sprintf("needs %s, which is no service in %s (no such directory; make it, or remove %s/%s)",
				missing[0], filepath.Dir(filepath.Clean(d)), supervise.NeedsDir, missing[0])
		}
		for _, n := range needed {
			if j, ok := index[filepath.Clean(n)]; ok {
				p.needs[i] = append(p.needs[i], j)
			}
		}
	}
	// Depth first, remembering the path, to find the levels and, through
	// an edge back into the path, the cycles.
	const unseen, onPath, done = 0, 1, 2
	state := make([]int, len(dirs))
	var path []int
	var visit func(i int) int
	visit = func(i int) int {
		if state[i] == done {
			return p.level[i]
		}
		state[i] = onPath
		path = append(path, i)
		level := 0
		for _, j := range p.needs[i] {
			if state[j] == onPath {
				p.markCycle(dirs, path[slices.Index(path, j):])
				continue
			}
			level = max(level, visit(j)+1)
		}
		path = path[:len(path)-1]
		state[i], p.level[i] = done, level
		return level
	}
	for i := range dirs {
		if state[i] == unseen {
			visit(i)
		}
	}
	return p
}

// markCycle words the cycle of needs ring for each service in it, from
// that service round: "web needs db, db needs web".
func (p *plan) markCycle(dirs []string, ring []int) {
	name := func(i int) string { return filepath.Base(filepath.Clean(dirs[i])) }
	for k, i := range ring {
		if p.cycle[i] != "" {
			continue
		}
		parts := make([]string, len(ring))
		for m := range ring {
			from, to := ring[(k+m)%len(ring)], ring[(k+m+1)%len(ring)]
			parts[m] = name(from) + " needs " + name(to)
		}
		p.cycle[i] = "a cycle of needs: " + strings.Join(parts, ", ") + " (remove one of these " + supervise.NeedsDir + " entries)"
	}
}

// phases groups the services of dirs into the steps DoAll takes one after
// the other: for verbs that start, log services first, then the others
// level by level, what is needed before what needs it; for Stop the
// reverse, dependents first and log services last, so that a logger is
// ready before its service writes and outlives it.
func (p *plan) phases(dirs []string, verb Verb) [][]int {
	top := 0
	for _, l := range p.level {
		top = max(top, l)
	}
	byLevel := make([][]int, top+1)
	var loggers []int
	for i, d := range dirs {
		if IsLogger(d) {
			loggers = append(loggers, i)
			continue
		}
		byLevel[p.level[i]] = append(byLevel[p.level[i]], i)
	}
	if verb == Stop {
		slices.Reverse(byLevel)
		return append(byLevel, loggers)
	}
	return append([][]int{loggers}, byLevel...)
}

// blocked says why the service i must not be acted on, given the results
// so far, or nil: a service that would start and is in a cycle, needs a
// missing service, or needs one that failed; a service to stop that a
// service still up needs.
func (p *plan) blocked(dirs []string, i int, verb Verb, results []Result) *Error {
	if verb == Stop {
		for k := range dirs {
			if slices.Contains(p.needs[k], i) && results[k].Err != nil {
				return &Error{
					Reason:    fmt.Sprintf("%s, which needs it, did not stop", dirs[k]),
					Aftermath: "left it as it was",
				}
			}
		}
		return nil
	}
	if !wouldStart(dirs[i], verb) {
		return nil
	}
	if p.cycle[i] != "" {
		return &Error{Reason: p.cycle[i], Aftermath: "left it as it was"}
	}
	if p.missing[i] != "" {
		return &Error{Reason: p.missing[i], Aftermath: "left it as it was"}
	}
	for _, j := range p.needs[i] {
		if results[j].Err != nil {
			return &Error{
				Reason:    fmt.Sprintf("needs %s, which did not %s", dirs[j], verb),
				Aftermath: "left it as it was",
			}
		}
	}
	return nil
}

// wouldStart reports whether verb may start the service in dir: start and
// restart do, reset does without a down file.
func wouldStart(dir string, verb Verb) bool {
	switch verb {
	case Start, Restart:
		return true
	case Reset:
		_, err := os.Stat(filepath.Join(dir, "down"))
		return errors.Is(err, fs.ErrNotExist)
	}
	return false
}

// serviceName is the name of the service directory d in its scan
// directory, also when d is "." or ends in "..".
func serviceName(d string) string {
	if abs, err := filepath.Abs(d); err == nil {
		return filepath.Base(abs)
	}
	return filepath.Base(filepath.Clean(d))
}
