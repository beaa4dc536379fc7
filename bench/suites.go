package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/taikit/taikit/filter"
)

// This file holds the suite table. Adding a benchmark means adding one Suite value to suites;
// nothing else in the harness needs to change.

// installHint is printed next to a reference program that is not installed.
const installHint = "install with ../shared/tools/install-reference.sh"

// StdoutMode says where a contender's standard output goes during a run.
type StdoutMode int

const (
	// StdoutDevNull connects stdout straight to /dev/null: the cheapest sink, so the numbers
	// are about the program rather than about whoever reads its output.
	StdoutDevNull StdoutMode = iota
	// StdoutPipe connects stdout to a pipe that the harness drains (and counts). Use it when a
	// program behaves differently on a pipe than on a file or device, as it does in real use
	// behind `|`.
	StdoutPipe
)

func (m StdoutMode) String() string {
	if m == StdoutPipe {
		return "pipe"
	}
	return "/dev/null"
}

// StdinMode says how a contender's standard input is given the corpus.
type StdinMode int

const (
	// StdinFile opens the corpus file as standard input.
	StdinFile StdinMode = iota
	// StdinPipe gives a pipe the harness fills from the corpus file.
	StdinPipe
)

// Ratio is a figure a suite reports besides its table: the median over rounds of Of's wall time
// divided by To's, in the same round, beside the most it should be.
type Ratio struct {
	Name   string  // what the ratio says, e.g. "pipe / limit"
	Of, To string  // contender names
	Target float64 // the most the ratio should be; 0: none
}

// Suite is one side-by-side benchmark: every contender gets the same corpus on stdin.
type Suite struct {
	Name string // selects the suite on the command line
	Doc  string // one line shown in usage and above the suite's table

	// Corpus is the input. Suites naming the same Corpus share one cached file.
	Corpus Corpus

	// Stdout selects the sink for every contender; the zero value is /dev/null.
	Stdout StdoutMode

	// Env changes the environment of every contender, after TZ from -tz: "KEY=value" sets
	// a variable, a bare "KEY" removes it.
	Env []string

	// Contenders run in this order within every round. Exactly one of them is ours (has
	// Build set) unless Ratios is set; the report compares it against each of the others.
	Contenders []Contender

	// Ratios, when set, replace the comparison of ours against each reference: a suite of
	// several of our commands reports these instead.
	Ratios []Ratio
}

// Contender is one program in a suite. Each run starts it with stdin opened fresh on the
// corpus file and with its working directory set to a fresh, empty scratch directory, so
// programs that write files (multilog's log directory, say) can use a relative path.
type Contender struct {
	Name string // label in the table, e.g. "taikit", "daemontools", "s6"

	// Exactly one of Build and Path is set.
	Build string // ours: the package to build, e.g. "./cmd/tai64n", relative to the module root
	Path  string // a reference: absolute path of the installed program

	Args []string // arguments after the program name

	// Stdin is how the corpus reaches it: a file opened fresh (the zero value), or a pipe the
	// harness copies the file into, as `cat corpus | program` would, the way svscan feeds a
	// logger.
	Stdin StdinMode
	// Corpus, when set, replaces the suite's corpus for this contender alone: the physical
	// limit of a logger is its output cut into files, not its input.
	Corpus *Corpus

	// Setup and Cleanup, when set, run before and after every run (warm-ups included),
	// outside the timed region. An error from either counts as a failure of the contender.
	// Cleanup is the place to check the output a program left in r.Dir; the harness removes
	// r.Dir afterwards (unless -keep).
	Setup   func(r *Run) error
	Cleanup func(r *Run) error

	// Until, when set, is for a program that does not exit by itself (a daemon that forwards
	// what it reads): the harness asks it every 10 ms while the program runs, and once it
	// reports done, the wall time ends and the program is stopped with SIGTERM (its CPU is
	// counted until it is reaped; what it writes on stderr from then on is no failure). A
	// program that exits before is a failure; Until bounds the wait itself.
	Until func(r *Run) (done bool, err error)
}

// Ours reports whether c is taikit's own command.
func (c *Contender) Ours() bool { return c.Build != "" }

// Run describes one run of one contender, as seen by its Setup and Cleanup hooks.
type Run struct {
	Suite     *Suite
	Contender *Contender
	Corpus    string // path of the corpus file on stdin
	Dir       string // fresh, empty scratch directory; the process's working directory
	Round     int    // counted rounds are 0..runs-1; warm-up rounds are negative

	// Args, set by Setup, follow the contender's Args on this run's command line: what is
	// known only at run time, such as the address of a server Setup started.
	Args []string
	// Data is Setup's to keep what Until and Cleanup need.
	Data any

	deferred []func()
}

// Defer registers f to run after the run, whether it succeeded or not, after Cleanup; the
// functions run in the reverse order of their registration. A Setup that starts a server
// stops it so.
func (r *Run) Defer(f func()) { r.deferred = append(r.deferred, f) }

// suites is the table of everything `go run ./bench` can measure, in the order "all" runs them.
var suites = []Suite{
	{
		Name:   "tai64n",
		Doc:    "prepend a TAI64N stamp to every line",
		Corpus: stampedLogCorpus,
		Contenders: []Contender{
			{Name: "taikit", Build: "./cmd/tai64n"},
			{Name: "daemontools", Path: "/usr/bin/tai64n"},
			{Name: "s6", Path: "/usr/bin/s6-tai64n"},
		},
	},
	{
		Name:   "tai64nlocal",
		Doc:    "convert leading TAI64N stamps to local time (TZ from -tz)",
		Corpus: stampedLogCorpus,
		Contenders: []Contender{
			{Name: "taikit", Build: "./cmd/tai64nlocal"},
			{Name: "daemontools", Path: "/usr/bin/tai64nlocal"},
			{Name: "s6", Path: "/usr/bin/s6-tai64nlocal"},
		},
	},
	{
		// TZ unset is how most people run it. glibc then checks /etc/localtime for changes
		// at every localtime() call, which daemontools makes once per line.
		Name:   "tai64nlocal-etc",
		Doc:    "the same with TZ unset: local time from /etc/localtime, as most users run it",
		Env:    []string{"TZ"},
		Corpus: stampedLogCorpus,
		Contenders: []Contender{
			{Name: "taikit", Build: "./cmd/tai64nlocal"},
			{Name: "daemontools", Path: "/usr/bin/tai64nlocal"},
			{Name: "s6", Path: "/usr/bin/s6-tai64nlocal"},
		},
	},
	{
		// The log directory writer alone, beside the physical limit: the same bytes
		// cut into files of the same size and made durable.
		Name:   "rotate",
		Doc:    "package rotate writing the corpus into ./d with s16777215 (fsync per file) vs split -b 16777215 + sync",
		Corpus: stampedLogCorpus,
		Contenders: []Contender{
			{Name: "taikit", Build: "./bench/rotatewrite"},
			{Name: "split+sync", Path: "/bin/sh", Args: []string{"-c", "split -b 16777215 - x && sync"}},
		},
	},
	{
		Name:   "rotate-zstd",
		Doc:    "the same with built-in zstd compression (fastest level) of every archive",
		Corpus: stampedLogCorpus,
		Contenders: []Contender{
			{Name: "taikit", Build: "./bench/rotatewrite", Args: []string{"zstd"}},
			{Name: "split+sync", Path: "/bin/sh", Args: []string{"-c", "split -b 16777215 - x && sync"}},
		},
	},
	{
		// multilog's common case: stamp every line into one log directory. s6-log runs with
		// -b, so that it too stops reading while its buffers are unwritten, as multilog does.
		// The physical limit is what the loggers write, the corpus with their stamp on every
		// line, cut into files of the same size and made durable.
		Name:   "multilog",
		Doc:    "multilog t s16777215 ./d: stamp every line into a log directory",
		Corpus: stampedLogCorpus,
		Contenders: []Contender{
			{Name: "taikit", Build: "./cmd/multilog", Args: multilogScript, Cleanup: checkLogDir("d", nil, 16777215)},
			{Name: "daemontools", Path: "/usr/bin/multilog", Args: multilogScript, Cleanup: checkLogDir("d", nil, 16777215)},
			// s6-log cuts files only between whole writes, so its files may exceed s.
			{Name: "s6", Path: "/usr/bin/s6-log", Args: []string{"-b", "t", "s16777215", "./d"}, Cleanup: checkLogDir("d", nil, 0)},
			{Name: "split+sync", Path: "/bin/sh", Args: splitSync, Corpus: &loggedCorpus},
		},
	},
	{
		// The svscan case: the logger reads a pipe a service writes into. taikit logs from
		// a pipe without consuming before every directory has the bytes (tee, then splice).
		Name:   "multilog-pipe",
		Doc:    "cat corpus | multilog t s16777215 ./d: the same through a pipe, as svscan feeds a logger",
		Corpus: stampedLogCorpus,
		Contenders: []Contender{
			{Name: "taikit", Build: "./cmd/multilog", Args: multilogScript, Stdin: StdinPipe, Cleanup: checkLogDir("d", nil, 16777215)},
			{Name: "daemontools", Path: "/usr/bin/multilog", Args: multilogScript, Stdin: StdinPipe, Cleanup: checkLogDir("d", nil, 16777215)},
			{Name: "s6", Path: "/usr/bin/s6-log", Args: []string{"-b", "t", "s16777215", "./d"}, Stdin: StdinPipe, Cleanup: checkLogDir("d", nil, 0)},
			{Name: "split+sync", Path: "/bin/sh", Args: splitSync, Corpus: &loggedCorpus},
		},
	},
	{
		// What losslessness and selection cost: each of multilog's paths beside the physical
		// limit (the stamped output cut into files of the same size and made durable) and
		// beside plain multilog, alternating in every round. The targets are issue 14's.
		Name:   "multilog-cost",
		Doc:    "multilog from a file, through a pipe, with the qmail script, beside split+sync of its output",
		Corpus: stampedLogCorpus,
		Contenders: []Contender{
			{Name: "file", Build: "./cmd/multilog", Args: multilogScript, Cleanup: checkLogDir("d", nil, 16777215)},
			{Name: "pipe", Build: "./cmd/multilog", Args: multilogScript, Stdin: StdinPipe, Cleanup: checkLogDir("d", nil, 16777215)},
			{Name: "qmail", Build: "./cmd/multilog", Args: qmailScript, Cleanup: checkLogDir("main", qmailScript, 16777215)},
			{Name: "split+sync", Path: "/bin/sh", Args: splitSync, Corpus: &loggedCorpus},
			// The same through the pipe the harness fills: what moving the bytes through
			// a pipe costs (the copy out of the file and into the pipe, the other core's
			// time) is in it, as it is in "pipe".
			{Name: "pipe|split", Path: "/bin/sh", Args: splitSync, Corpus: &loggedCorpus, Stdin: StdinPipe},
		},
		Ratios: []Ratio{
			{Name: "pipe / limit", Of: "pipe", To: "split+sync", Target: 1.5},
			{Name: "file / limit", Of: "file", To: "split+sync", Target: 1.25},
			{Name: "qmail / file", Of: "qmail", To: "file", Target: 1.2},
			{Name: "pipe / pipe|split", Of: "pipe", To: "pipe|split"},
		},
	},
	{
		// Selection by multilog's own patterns, which s6-log does not have (its regular
		// expressions see the line without the stamp), so daemontools is the only reference.
		Name:   "multilog-qmail",
		Doc:    "a qmail-style script: t, eight -patterns, one +pattern, ./main and =status",
		Corpus: stampedLogCorpus,
		Contenders: []Contender{
			{Name: "taikit", Build: "./cmd/multilog", Args: qmailScript, Cleanup: checkLogDir("main", qmailScript, 16777215)},
			{Name: "daemontools", Path: "/usr/bin/multilog", Args: qmailScript, Cleanup: checkLogDir("main", qmailScript, 16777215)},
		},
	},
}

// The multilog suites' scripts. Both write one log directory with the largest file size
// daemontools allows, so that the few rotations (seven files for the million-line corpus)
// cost what they cost in real use without dominating.
var (
	multilogScript = []string{"t", "s16777215", "./d"}

	// splitSync is the physical limit's command: its input cut into files of the largest size
	// multilog allows, then made durable.
	splitSync = []string{"-c", "split -b 16777215 - x && sync"}

	// qmailScript is the shape of the daemontools FAQ's qmail-send logger
	// (multilog t ./main '-*' '+* status: *' =status), scaled up to a busy service: the
	// main log drops seven kinds of noise, and a status file keeps the latest failed job.
	// Every pattern starts with "* *": with t the first star eats multilog's own stamp and
	// the second the corpus's stamp (multilog's "*" stops at the first following byte, so
	// each pattern is written for that non-backtracking star). That makes eight deselecting
	// patterns and one selecting pattern per line.
	qmailScript = []string{"t",
		"-* * -- MARK --",
		"-* * tick",
		"-* * kernel: *",
		"-* * systemd[1]: Started *",
		"-* * cron[*]: (*) CMD *",
		"-* * sshd[*]: Accepted publickey for *",
		"-* * api[*]: level=debug *",
		"s16777215", "./main",
		"-*",
		"+* * worker-*: job=* queue=* state=failed *",
		"=status",
	}
)

// checkLogDir returns a Cleanup that checks a logger's work: the log directory dir holds
// exactly the corpus lines that script selects at dir (every line when script is nil), each
// once and stamped, in files of at most maxFile bytes (0: any size); and every status file of
// the script holds the last line selected at its position, stamped and padded to 1001 bytes.
// What the script selects is computed with package filter's daemontools matcher, once per
// corpus.
func checkLogDir(dir string, script []string, maxFile int) func(r *Run) error {
	return func(r *Run) error {
		want, err := expectedLog(r.Corpus, script, "./"+dir)
		if err != nil {
			return err
		}
		entries, err := os.ReadDir(filepath.Join(r.Dir, dir))
		if err != nil {
			return err
		}
		var lines, stampless int
		for _, e := range entries {
			if n := e.Name(); n != "current" && !strings.HasPrefix(n, "@") {
				continue
			}
			b, err := os.ReadFile(filepath.Join(r.Dir, dir, e.Name()))
			if err != nil {
				return err
			}
			if maxFile > 0 && len(b) > maxFile {
				return fmt.Errorf("%s/%s has %d bytes, more than %d", dir, e.Name(), len(b), maxFile)
			}
			lines += bytes.Count(b, []byte{'\n'})
			// A logger's stamp, then the corpus's own: "@" + 24 hex + " @".
			for l := range bytes.Lines(b) {
				if len(l) < 27 || l[0] != '@' || l[25] != ' ' || l[26] != '@' {
					stampless++
				}
			}
		}
		if lines != want.lines || stampless != 0 {
			return fmt.Errorf("%s holds %d lines (%d without a stamp), want %d stamped lines", dir, lines, stampless, want.lines)
		}
		for file, last := range want.status {
			b, err := os.ReadFile(filepath.Join(r.Dir, file))
			if err != nil {
				return err
			}
			if len(b) != 1001 || !bytes.HasPrefix(b[26:], last) || len(bytes.TrimLeft(b[26+len(last):], "\n")) != 0 {
				return fmt.Errorf("status file %s: %d bytes %.80q…, want the stamped line %.60q… padded to 1001 bytes", file, len(b), b, last)
			}
		}
		return nil
	}
}

// logExpectation is what a script makes of the corpus: how many lines reach the directory
// checked, and the last line (without stamp and newline) each status file gets.
type logExpectation struct {
	lines  int
	status map[string][]byte
}

var (
	expectMu    sync.Mutex
	expectCache = map[string]logExpectation{}
)

// expectedLog runs script's selection over the corpus file as multilog does: each line,
// behind a 26-byte stamp (which holds no space, so "* " patterns skip it as they skip a real
// one), is matched in its first 1000 bytes, and each action sees the selection at its place.
func expectedLog(corpus string, script []string, dir string) (logExpectation, error) {
	key := corpus + "\x00" + dir + "\x00" + strings.Join(script, "\x00")
	expectMu.Lock()
	defer expectMu.Unlock()
	if e, ok := expectCache[key]; ok {
		return e, nil
	}
	f, err := os.Open(corpus)
	if err != nil {
		return logExpectation{}, err
	}
	defer f.Close()
	e := logExpectation{status: map[string][]byte{}}
	window := make([]byte, 0, filter.WindowSize)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		window = append(window[:0], "@400000006b0197683700997a "...)
		window = append(window, line[:min(len(line), filter.WindowSize-len(window))]...)
		if script == nil {
			e.lines++
			continue
		}
		sel := true
		for _, w := range script {
			switch {
			case w == dir && sel:
				e.lines++
			case w[0] == '=' && sel:
				e.status[w[1:]] = bytes.Clone(window[26:])
			case w[0] == '+' && !sel:
				sel = filter.Match([]byte(w[1:]), window)
			case w[0] == '-' && sel:
				sel = !filter.Match([]byte(w[1:]), window)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return logExpectation{}, err
	}
	expectCache[key] = e
	return e, nil
}
