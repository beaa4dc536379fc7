package supervise

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/taikit/taikit/errtext"
	"github.com/taikit/taikit/tai64n"
)

// NeedsDir is the directory of a service directory that names the
// services it needs: each entry (a file, a symbolic link, anything) is
// named after another service of the same scan directory. Only the name
// counts; a link's target is never read, so "touch needs/db" and
// "ln -s ../../db needs/db" say the same. Names beginning with a dot are
// ignored, as svscan ignores such directories (a .gitkeep stays harmless).
const NeedsDir = "needs"

// ReadyAfter is how long a needed service without a check (or run by a
// supervisor that does not report readiness, daemontools') must have
// been up to count as ready: the same second svctl waits for.
const ReadyAfter = time.Second

// maxNeedsWalk bounds the services visited when looking for a cycle, as
// svscan bounds the services it tracks.
const maxNeedsWalk = 1000

// maxWaitList bounds each list of names in supervise/extra, so that the
// file stays far below MaxExtraSize whatever the names; a longer list
// ends with "/..." (a name beginning with a dot is never a service).
const maxWaitList = 1000

// Needs lists the names in the needs/ directory of the service in dir,
// sorted, without those beginning with a dot. A service without needs/
// needs nothing (nil, nil); a needs/ that cannot be read is an error.
func Needs(dir string) ([]string, error) {
	f, err := os.Open(filepath.Join(dir, NeedsDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, err // ENOTDIR for a file called needs
	}
	names = slices.DeleteFunc(names, func(n string) bool { return strings.HasPrefix(n, ".") })
	slices.Sort(names)
	return names, nil
}

// ServiceReady reports whether the service in dir is up and ready, as a
// service that needs it waits for: its supervisor runs, run is up and not
// paused, and either its check has passed (taikit's supervisor says so in
// supervise/extra) or, without a check or without a report of readiness,
// run has been up ReadyAfter. When the answer is only a matter of time,
// after says how long until it may be yes.
func ServiceReady(dir string, now time.Time) (ready bool, after time.Duration) {
	if ok, err := Running(dir); err != nil || !ok {
		return false, 0
	}
	st, err := ReadStatus(dir)
	if err != nil || !st.Up() || st.Paused {
		return false, 0
	}
	if ex, err := ReadExtra(dir); err == nil && ex.Matches(st) {
		switch ex.Readiness {
		case Ready:
			return true, 0
		case Checking, CheckFailed:
			return false, 0
		}
	}
	up := now.Sub(st.When.Time(tai64n.Daemontools))
	if up >= ReadyAfter {
		return true, 0
	}
	return false, ReadyAfter - max(up, 0)
}

// needsState is what a supervisor remembers of its needs between looks.
type needsState struct {
	poll   time.Duration // the pause before the next look while waiting
	warned string        // the last warning, said once until it changes
}

// Bounds of the pause between two looks at the needed services: short at
// first, so that a dependent starts soon after what it needs is ready,
// then a second, so that a long wait costs a few reads a second.
const (
	needsPollMin = 20 * time.Millisecond
	needsPollMax = time.Second
)

// needsMet reads needs/ and the state of every service it names. When all
// are up and ready it clears what supervise/extra says of them and
// reports true. Otherwise it records in extra who run waits for, warns of
// a missing service or a cycle (once until that changes), and returns
// how long to wait before looking again.
func (st *state) needsMet() (bool, time.Duration) {
	names, err := Needs(st.s.Dir)
	if err == nil && len(names) == 0 {
		st.clearWaiting()
		return true, 0
	}
	scan := st.s.scanDir()
	var waiting, missing, cycle []string
	var msgs []string
	var soonest time.Duration
	now := st.now()
	if err != nil {
		// An unreadable needs/ is a mistake to fix, not a reason to
		// start run without what it needs.
		missing = append(missing, NeedsDir)
		msgs = append(msgs, fmt.Sprintf("unable to read %s/%s: %s; not starting run until it can be read", st.s.Name, NeedsDir, errtext.Of(causeOf(err))))
	}
	loops := st.s.cycles(scan, names)
	for _, name := range names {
		dir := filepath.Join(scan, name)
		if fi, serr := os.Stat(dir); serr != nil || !fi.IsDir() {
			missing = append(missing, name)
			msgs = append(msgs, fmt.Sprintf("%s/%s/%s: no service %s in %s; not starting run until there is one (or remove %s/%s)",
				st.s.Name, NeedsDir, name, name, scan, NeedsDir, name))
			continue
		}
		if loop, ok := loops[name]; ok {
			cycle = append(cycle, name)
			msgs = append(msgs, fmt.Sprintf("%s/%s: a cycle: %s; not starting run until it is broken (remove one of these needs entries)",
				st.s.Name, NeedsDir, loop))
			continue
		}
		ready, after := ServiceReady(dir, now)
		if !ready {
			waiting = append(waiting, name)
			if after > 0 && (soonest == 0 || after < soonest) {
				soonest = after
			}
		}
	}
	if len(waiting)+len(missing)+len(cycle) == 0 {
		st.clearWaiting()
		return true, 0
	}
	if msg := strings.Join(msgs, "\n"); msg != st.needs.warned {
		for _, m := range msgs {
			st.warnf("%s", m)
		}
		st.needs.warned = msg
	}
	if st.extra.Waiting == "" && st.extra.Missing == "" && st.extra.Cycle == "" {
		st.needs.poll = needsPollMin // a new wait: look often at first
	}
	st.extra.Waiting, st.extra.Missing, st.extra.Cycle = waitList(waiting), waitList(missing), waitList(cycle)
	wait := st.needs.poll
	st.needs.poll = min(2*st.needs.poll, needsPollMax)
	if soonest > 0 {
		wait = min(wait, soonest)
	}
	return false, wait
}

// clearWaiting forgets the needs run waited for.
func (st *state) clearWaiting() {
	st.extra.Waiting, st.extra.Missing, st.extra.Cycle = "", "", ""
	st.needs.warned = ""
}

// scanDir is where the services named in needs/ are looked for.
func (s *Supervisor) scanDir() string {
	if s.ScanDir != "" {
		return s.ScanDir
	}
	return filepath.Join(s.Dir, "..")
}

// waitList joins names for supervise/extra: "/"-separated (no name holds
// a slash), control characters shown as '?' so that each list stays one
// line, and at most about maxWaitList bytes, the rest said by "/...".
func waitList(names []string) string {
	var b strings.Builder
	for i, n := range names {
		if b.Len()+len(n) > maxWaitList {
			b.WriteString("/...")
			break
		}
		if i > 0 {
			b.WriteByte('/')
		}
		for _, c := range []byte(n) {
			if c < ' ' || c == 0x7f {
				c = '?'
			}
			b.WriteByte(c)
		}
	}
	return b.String()
}

// cycles finds, for each of the service's own needs, a chain of needs
// leading back to the service itself, worded "web needs db, db needs
// web". Services are told apart by device and inode, as svscan does, so a
// link to the service's own directory is seen as itself.
func (s *Supervisor) cycles(scan string, names []string) map[string]string {
	self, ok := dirID(s.Dir)
	if !ok {
		return nil
	}
	me := filepath.Base(filepath.Clean(s.Name))
	var found map[string]string
	// dead: services from which no chain of needs leads back, whichever
	// need the walk started from; so each service is read once a look.
	dead := map[[2]uint64]bool{}
	for _, n := range names {
		if chain, _ := wayBack(scan, self, []string{n}, map[[2]uint64]bool{}, dead); chain != nil {
			if found == nil {
				found = map[string]string{}
			}
			found[n] = wordCycle(me, chain)
		}
	}
	return found
}

// wayBack extends path, a chain of needs from the service self, until it
// leads back to self, and returns it; nil when there is no way back.
// onPath holds the services of path: meeting one again is a cycle that
// avoids self, which cuts the walk short there. dead holds the services
// known to have no way back: those whose walk was not cut short.
func wayBack(scan string, self [2]uint64, path []string, onPath, dead map[[2]uint64]bool) (way []string, cut bool) {
	dir := filepath.Join(scan, path[len(path)-1])
	id, ok := dirID(dir)
	switch {
	case !ok || dead[id]:
		return nil, false
	case id == self:
		return path, false
	case onPath[id] || len(onPath)+len(dead) >= maxNeedsWalk:
		return nil, true
	}
	onPath[id] = true
	next, _ := Needs(dir)
	for _, n := range next {
		p, c := wayBack(scan, self, append(path[:len(path):len(path)], n), onPath, dead)
		if p != nil {
			return p, false
		}
		cut = cut || c
	}
	delete(onPath, id)
	if !cut {
		dead[id] = true
	}
	return nil, cut
}

// wordCycle words a chain of needs from me back to me: "web needs db, db
// needs web".
func wordCycle(me string, chain []string) string {
	parts := make([]string, len(chain))
	from := me
	for i, n := range chain {
		parts[i] = from + " needs " + n
		from = n
	}
	return strings.Join(parts, ", ")
}

// dirID is the device and inode of the directory dir.
func dirID(dir string) ([2]uint64, bool) {
	var st syscall.Stat_t
	if err := syscall.Stat(dir, &st); err != nil || st.Mode&syscall.S_IFMT != syscall.S_IFDIR {
		return [2]uint64{}, false
	}
	return [2]uint64{uint64(st.Dev), st.Ino}, true
}
