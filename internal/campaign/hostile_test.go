package campaign

// The hostile-directory family (issue 13): each kind of object a user or
// another account can leave in a log or service directory, planted at each
// name a command touches, with the command run on it under a bound.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/taikit/taikit/internal/testref"
)

// hostileBound is how long taikit's command may take on a hostile
// directory before it counts as hung: only a bound on failure, long
// enough for a loaded machine. daemontools' programs, whose hangs are
// recorded and not failed, get referenceBound.
const (
	hostileBound   = 20 * time.Second
	referenceBound = 5 * time.Second
)

// hostileUID is the account that plants the objects: nobody.
const hostileUID = 65534

// victimContent is what the file outside the directory holds; a command
// that prints it or changes it went where it must not.
const victimContent = "VICTIM: a file outside the directory, mode 0640\n"

// hostileObject is a kind of object planted at a name.
type hostileObject struct {
	name  string
	plant func(path, victim string) error
}

var hostileObjects = []hostileObject{
	{"symlink in", func(path, _ string) error {
		bait := filepath.Join(filepath.Dir(path), "bait")
		if err := os.WriteFile(bait, []byte("bait\n"), 0o644); err != nil {
			return err
		}
		return os.Symlink("bait", path)
	}},
	{"symlink out", func(path, victim string) error { return os.Symlink(victim, path) }},
	{"dangling link", func(path, _ string) error { return os.Symlink("nowhere", path) }},
	{"FIFO", func(path, _ string) error { return syscall.Mkfifo(path, 0o644) }},
	{"directory", func(path, _ string) error { return os.Mkdir(path, 0o755) }},
	// /dev/zero's numbers: endless input to a reader, a sink to a writer.
	{"device", func(path, _ string) error {
		return syscall.Mknod(path, syscall.S_IFCHR|0o644, int(unix.Mkdev(1, 5)))
	}},
	{"hard link", func(path, victim string) error { return os.Link(victim, path) }},
}

// hostileOutcome is what one run did.
type hostileOutcome struct {
	code     int // exit code; -1 when killed by a signal
	signal   syscall.Signal
	hung     bool // still running at the bound (then stopped with TERM, KILL)
	stdout   string
	stderr   string
	wroteOut bool // the victim changed (content or mode)
	leaked   bool // the victim's content reached standard output
}

func (o hostileOutcome) String() string {
	var s string
	switch {
	case o.hung:
		s = "hung"
	case o.code == -1:
		s = "killed by " + o.signal.String()
	case o.code == 0:
		s = "exit 0"
	default:
		s = fmt.Sprintf("exit %d", o.code)
	}
	if o.wroteOut {
		s += ", wrote outside"
	}
	if o.leaked {
		s += ", printed the file outside"
	}
	return s
}

// crashed reports a Go runtime crash or a death by a signal nobody sent.
func (o hostileOutcome) crashed() bool {
	return strings.Contains(o.stderr, "panic:") || strings.Contains(o.stderr, "fatal error:") ||
		strings.Contains(o.stderr, "goroutine ") || (o.code == -1 && !o.hung)
}

// hostileCommand is one command run on a directory with one name taken
// by a planted object.
type hostileCommand struct {
	name  string   // as it appears in figures
	names []string // the names it touches, relative to the work directory
	// ref is daemontools' program, or "" when daemontools has none.
	ref string
	// reader is set for a command that prints what it reads: it must
	// never print a file outside the directory. (envdir reads through
	// links by design: its files are often links to secrets kept
	// elsewhere, and it gives them to the program, not to a reader.)
	reader bool
	// setup makes the directory the command runs on, without the object.
	setup func(t *testing.T, work string)
	// run starts prog in work and returns the running command, its input
	// written and closed; settled, if not nil, says when a program that
	// never exits by itself has reached its steady state (then it is sent
	// TERM).
	run func(t *testing.T, prog, work string) (*hostileRun, func() bool)
}

// hostileBins holds taikit's commands for the family, built once.
var hostileBins struct {
	once sync.Once
	dir  string
	err  error
}

func hostileBin(t *testing.T, name string) string {
	t.Helper()
	hostileBins.once.Do(func() {
		hostileBins.dir, hostileBins.err = testref.TempDirForBinary("taikit-hostile-")
		if hostileBins.err == nil {
			hostileBins.err = testref.BuildCommands(hostileBins.dir, "multilog", "logcat", "supervise", "svstat", "envdir")
		}
	})
	if hostileBins.err != nil {
		t.Fatalf("building taikit's commands: %v", hostileBins.err)
	}
	return filepath.Join(hostileBins.dir, name)
}

// hostileInput is enough lines for several rotations with s4096, so that
// multilog runs its processor and deletes old archives.
func hostileInput() []byte {
	var b bytes.Buffer
	for i := range 400 {
		fmt.Fprintf(&b, "line %04d of the hostile-directory input, long enough\n", i)
	}
	return b.Bytes()
}

func startWithInput(t *testing.T, prog, work string, in []byte, args ...string) *hostileRun {
	t.Helper()
	// A 4 GiB bound on the heap: a command whose memory the input
	// chooses fails ("out of memory", a crash here) instead of taking the
	// machine. prlimit sets it and execs prog in the same process.
	cmd := exec.Command("/usr/bin/prlimit", append([]string{"--data=" + strconv.FormatInt(4<<30, 10), "--", prog}, args...)...)
	cmd.Dir = work
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// Our own pipes, drained into bounded buffers: a command reading a
	// device may print without end, and exec's own copying would make
	// Wait wait for every process that inherited them (run's sleep).
	run := &hostileRun{cmd, drain(t), drain(t)}
	cmd.Stdout, cmd.Stderr = run.stdout.w, run.stderr.w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	run.stdout.w.Close()
	run.stderr.w.Close()
	go func() { stdin.Write(in); stdin.Close() }()
	return run
}

// hostileRun is a command started on a hostile directory.
type hostileRun struct {
	cmd            *exec.Cmd
	stdout, stderr *drained
}

// drained is a pipe whose read end a goroutine empties, keeping the first
// 64 KiB and noting whether the victim's text ever went through.
type drained struct {
	w      *os.File // the write end, given to the command
	done   chan struct{}
	head   []byte
	victim bool
}

func drain(t *testing.T) *drained {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	d := &drained{w: w, done: make(chan struct{})}
	go func() {
		defer close(d.done)
		defer r.Close()
		buf := make([]byte, 64<<10)
		var tail []byte // the end of the last read, for a match across reads
		for {
			n, err := r.Read(buf)
			chunk := append(tail, buf[:n]...)
			if bytes.Contains(chunk, []byte("VICTIM")) {
				d.victim = true
			}
			tail = append(tail[:0], chunk[max(0, len(chunk)-8):]...)
			if room := 64<<10 - len(d.head); room > 0 {
				d.head = append(d.head, buf[:min(n, room)]...)
			}
			if err != nil {
				return
			}
		}
	}()
	return d
}

// result waits for the pipe to be closed by every process that holds it,
// or for bound, and returns what it kept.
func (d *drained) result(bound time.Duration) (head string, victim bool) {
	select {
	case <-d.done:
		return string(d.head), d.victim
	case <-time.After(bound):
		return "(still open)", false
	}
}

var hostileCommands = []hostileCommand{
	{
		name: "multilog",
		names: []string{"d/lock", "d/current", "d/state", "d/newstate", "d/processed", "d/previous",
			"d/@400000000000000000000000.s", "st", ".st.new"},
		ref: "/usr/bin/multilog",
		setup: func(t *testing.T, work string) {
			os.Mkdir(filepath.Join(work, "d"), 0o755)
		},
		run: func(t *testing.T, prog, work string) (*hostileRun, func() bool) {
			// n2 deletes the oldest archive, the planted one first;
			// the processor makes previous, processed and newstate.
			return startWithInput(t, prog, work, hostileInput(), "t", "s4096", "n2", "!cat", "./d", "=st"), nil
		},
	},
	{
		name:   "logcat",
		reader: true,
		names:  []string{"d/current", "d/@400000000000000000000000.s", "d/lock", "d/state"},
		setup: func(t *testing.T, work string) {
			d := filepath.Join(work, "d")
			os.Mkdir(d, 0o755)
			os.WriteFile(filepath.Join(d, "@400000005f5e10000000000a.s"), []byte("@400000005f5e10000000000a archived\n"), 0o744)
			os.WriteFile(filepath.Join(d, "current"), []byte("@400000005f5e10010000000a current\n"), 0o644)
		},
		run: func(t *testing.T, prog, work string) (*hostileRun, func() bool) {
			return startWithInput(t, prog, work, nil, "./d"), nil
		},
	},
	{
		name: "supervise",
		names: []string{"s/supervise", "s/supervise/lock", "s/supervise/control", "s/supervise/ok",
			"s/supervise/status", "s/supervise/status.new", "s/supervise/extra", "s/supervise/extra.new", "s/down"},
		ref: "/usr/bin/supervise",
		setup: func(t *testing.T, work string) {
			s := filepath.Join(work, "s")
			os.MkdirAll(filepath.Join(s, "supervise"), 0o700)
			os.WriteFile(filepath.Join(s, "run"), []byte("#!/bin/sh\ntouch ran\nexec sleep 1000\n"), 0o755)
		},
		run: func(t *testing.T, prog, work string) (*hostileRun, func() bool) {
			s := filepath.Join(work, "s")
			r := startWithInput(t, prog, work, nil, "s")
			// Steady: run ran, or supervise listens on supervise/ok (a
			// service that stays down).
			return r, func() bool {
				if _, err := os.Stat(filepath.Join(s, "ran")); err == nil {
					return true
				}
				fd, err := syscall.Open(filepath.Join(s, "supervise/ok"), syscall.O_WRONLY|syscall.O_NONBLOCK|syscall.O_NOFOLLOW, 0)
				if err == nil {
					var st syscall.Stat_t
					syscall.Fstat(fd, &st)
					syscall.Close(fd)
					return st.Mode&syscall.S_IFMT == syscall.S_IFIFO
				}
				return false
			}
		},
	},
	{
		name:  "svstat",
		names: []string{"s/supervise/status", "s/supervise/extra", "s/supervise/ok"},
		ref:   "/usr/bin/svstat",
		setup: func(t *testing.T, work string) {
			sv := filepath.Join(work, "s", "supervise")
			os.MkdirAll(sv, 0o700)
			// daemontools' 18-byte record: up since 2020, pid 1, wanted up.
			rec := make([]byte, 18)
			binary.BigEndian.PutUint64(rec, 1<<62+1600000000)
			binary.LittleEndian.PutUint32(rec[12:], 1)
			rec[17] = 'u'
			os.WriteFile(filepath.Join(sv, "status"), rec, 0o644)
			syscall.Mkfifo(filepath.Join(sv, "ok"), 0o600)
			syscall.Mkfifo(filepath.Join(sv, "control"), 0o600)
		},
		run: func(t *testing.T, prog, work string) (*hostileRun, func() bool) {
			// A reader on ok, as a running supervise holds it, unless ok
			// is the planted object.
			if fd, err := syscall.Open(filepath.Join(work, "s/supervise/ok"), syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOFOLLOW, 0); err == nil {
				t.Cleanup(func() { syscall.Close(fd) })
			}
			return startWithInput(t, prog, work, nil, "s"), nil
		},
	},
	{
		name:  "envdir",
		names: []string{"e/X"},
		ref:   "/usr/bin/envdir",
		setup: func(t *testing.T, work string) {
			os.Mkdir(filepath.Join(work, "e"), 0o755)
			os.WriteFile(filepath.Join(work, "e", "Y"), []byte("plain\n"), 0o644)
		},
		run: func(t *testing.T, prog, work string) (*hostileRun, func() bool) {
			return startWithInput(t, prog, work, nil, "e", "/bin/sh", "-c", `printf '%s' "${X-unset}" | head -c 100`), nil
		},
	},
}

// runHostile runs one command once on a fresh directory with obj planted
// at name, and says what happened.
func runHostile(t *testing.T, c hostileCommand, prog, name string, obj hostileObject, bound time.Duration) hostileOutcome {
	t.Helper()
	root := t.TempDir()
	// run, sleep and processors left behind by a program that was killed.
	t.Cleanup(func() { testref.KillUnder(root) })
	victim := filepath.Join(root, "victim")
	if err := os.WriteFile(victim, []byte(victimContent), 0o640); err != nil {
		t.Fatal(err)
	}
	os.Chmod(victim, 0o640)
	work := filepath.Join(root, "work")
	os.Mkdir(work, 0o755)
	c.setup(t, work)
	// The directories belong to the service's account (nobody here), as
	// a log directory belongs to the log account; the file outside is
	// root's.
	if top, _, ok := strings.Cut(name, "/"); ok {
		filepath.WalkDir(filepath.Join(work, top), func(p string, _ os.DirEntry, err error) error {
			if err == nil {
				err = os.Lchown(p, hostileUID, hostileUID)
			}
			return err
		})
	}
	path := filepath.Join(work, name)
	os.RemoveAll(path)
	if err := obj.plant(path, victim); err != nil {
		t.Fatalf("planting a %s at %s: %v", obj.name, name, err)
	}
	// Planted by another account, as the threat is: a directory someone
	// else can write. (A hard link is the victim itself, root's.)
	if obj.name != "hard link" {
		if err := os.Lchown(path, hostileUID, hostileUID); err != nil {
			t.Fatal(err)
		}
	}
	run, settled := c.run(t, prog, work)
	cmd := run.cmd
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	var out hostileOutcome
	deadline := time.After(bound)
	if settled != nil {
		// A program that runs until stopped: once steady (or at the
		// bound), TERM, which it must honour in every state.
		tick := time.NewTicker(10 * time.Millisecond)
	wait:
		for {
			select {
			case <-done:
				break wait
			case <-tick.C:
				if settled() {
					cmd.Process.Signal(syscall.SIGTERM)
					break wait
				}
			case <-deadline:
				out.hung = true
				break wait
			}
		}
		tick.Stop()
	}
	if !out.hung {
		select {
		case <-done:
		case <-deadline:
			out.hung = true
		}
	}
	if out.hung {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	}
	// Whatever it started (run, a processor) goes with it.
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	st := cmd.ProcessState.Sys().(syscall.WaitStatus)
	out.code = st.ExitStatus()
	if st.Signaled() {
		out.code, out.signal = -1, st.Signal()
		if settled != nil && st.Signal() == syscall.SIGTERM && !out.hung {
			out.code = 0 // stopped as asked
		}
	}
	// Everything it started was killed above: the pipes close.
	var leaked bool
	out.stdout, leaked = run.stdout.result(hostileBound)
	out.stderr, _ = run.stderr.result(hostileBound)
	b, err := os.ReadFile(victim)
	fi, serr := os.Stat(victim)
	out.wroteOut = err != nil || serr != nil || string(b) != victimContent || fi.Mode().Perm() != 0o640
	out.leaked = c.reader && leaked
	return out
}

// TestHostileDirectory plants each kind of object (symbolic links in and
// out of the directory, a dangling link, a FIFO, a directory, a device, a
// hard link to a file outside), owned by another account, at each name multilog, logcat, supervise,
// svstat and envdir touch, runs taikit's command and daemontools' on it,
// and checks taikit's: no write outside the directory (the file outside
// keeps its content and mode), nothing outside printed (readers), no hang
// past the bound (SIGTERM honoured by supervise in whatever state it is),
// no crash, and a message whenever it does not succeed. daemontools'
// outcome is logged beside ours, and counted in the figure.
func TestHostileDirectory(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the hostile-directory family needs root (it makes device files): run as root, as CI does")
	}
	type row struct{ command, name, object, ours, theirs string }
	var mu sync.Mutex
	var rows []row
	var theirsWroteOut, theirsHung, cases, compared int
	for _, c := range hostileCommands {
		t.Run(c.name, func(t *testing.T) {
			if c.ref != "" {
				testref.Need(t, c.ref)
			}
			prog := hostileBin(t, c.name)
			for _, name := range c.names {
				for _, obj := range hostileObjects {
					t.Run(strings.ReplaceAll(name, "/", "_")+"/"+strings.ReplaceAll(obj.name, " ", "_"), func(t *testing.T) {
						t.Parallel()
						ours := runHostile(t, c, prog, name, obj, hostileBound)
						theirs := "-"
						var their hostileOutcome
						if c.ref != "" {
							their = runHostile(t, c, c.ref, name, obj, referenceBound)
							theirs = their.String()
						}
						t.Logf("%s with a %s at %s: taikit %s; daemontools %s\n  taikit said: %s", c.name, obj.name, name, ours, theirs, strings.TrimSpace(ours.stderr))
						switch {
						case ours.wroteOut:
							t.Errorf("%s with a %s at %s changed the file outside the directory", c.name, obj.name, name)
						case ours.leaked:
							t.Errorf("%s with a %s at %s printed the file outside the directory", c.name, obj.name, name)
						case ours.hung:
							t.Errorf("%s with a %s at %s still ran after %v", c.name, obj.name, name, hostileBound)
						case ours.crashed():
							t.Errorf("%s with a %s at %s crashed: %s\n%s", c.name, obj.name, name, ours, ours.stderr)
						case ours.code != 0 && strings.TrimSpace(ours.stderr) == "":
							t.Errorf("%s with a %s at %s: %s without a word on standard error", c.name, obj.name, name, ours)
						}
						mu.Lock()
						defer mu.Unlock()
						rows = append(rows, row{c.name, name, obj.name, ours.String(), theirs})
						cases++
						if c.ref != "" {
							compared++
						}
						if their.wroteOut {
							theirsWroteOut++
						}
						if their.hung {
							theirsHung++
						}
					})
				}
			}
		})
	}
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		return a.command+a.name+a.object < b.command+b.name+b.object
	})
	outcomes := map[string]int{}
	for _, r := range rows {
		outcomes[r.ours]++
	}
	var keys []string
	for k := range outcomes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, outcomes[k]))
	}
	figure(t, "%d cases (%d kinds of object at %d names of %d commands); taikit: %s; daemontools: %d wrote outside, %d hung (of %d compared)",
		cases, len(hostileObjects), countNames(), len(hostileCommands), strings.Join(parts, ", "), theirsWroteOut, theirsHung, compared)
	if hostileBins.dir != "" {
		os.RemoveAll(hostileBins.dir)
	}
}

func countNames() int {
	n := 0
	for _, c := range hostileCommands {
		n += len(c.names)
	}
	return n
}
