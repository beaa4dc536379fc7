package main

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
	// Build set); the report compares it against each of the others.
	Contenders []Contender
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

	// Setup and Cleanup, when set, run before and after every run (warm-ups included),
	// outside the timed region. An error from either counts as a failure of the contender.
	// Cleanup is the place to check the output a program left in r.Dir; the harness removes
	// r.Dir afterwards (unless -keep).
	Setup   func(r *Run) error
	Cleanup func(r *Run) error
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
}

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
}
