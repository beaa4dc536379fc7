// Command bench measures whole-process throughput of taikit's commands side by side with the
// programs they replace (daemontools, s6), on the same generated corpus.
//
// Usage:
//
//	go run ./bench [flags] suite...
//
// A suite is a name from the table in suites.go, or "all". For every suite the harness builds
// our command, skips references that are not installed, and then runs the contenders in
// alternating rounds (A B C A B C …), warm-up rounds first, each run a fresh process with
// stdin on the corpus file and stdout on /dev/null. It prints one table per suite: median,
// minimum and maximum wall time, throughput at the median, CPU time, peak RSS, and how many
// times faster ours is than each reference.
//
// Whole processes are timed, start to reap, because that is what a user of a pipeline pays,
// startup included; alternating the contenders spreads a shared machine's noise over all of
// them instead of penalising whichever happened to run during a burst.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"

	"github.com/taikit/taikit/internal/testref"
)

type options struct {
	lines    int
	runs     int
	warmup   int
	tz       string
	keep     bool
	json     bool
	cacheDir string
	// standIn replaces our commands with another program and skips building them: a way to
	// exercise the harness before (or without) our commands.
	standIn string
}

// hiddenFlags are left out of the usage text; they exist for testing the harness itself.
var hiddenFlags = map[string]bool{"ours-standin": true}

func main() {
	opts, selected, err := parseArgs(os.Args[1:])
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "bench:", err)
		}
		os.Exit(2)
	}
	// Interrupting stops the running contender and still removes the temporary directories.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	failed, err := run(ctx, opts, selected)
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "bench: interrupted")
		os.Exit(1)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	if failed {
		os.Exit(1) // a contender failed to build or run; the report says which and why
	}
}

func parseArgs(args []string) (options, []*Suite, error) {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.IntVar(&o.lines, "lines", 1000000, "corpus `lines` (about 92 bytes each)")
	fs.IntVar(&o.runs, "runs", 7, "counted `runs` per contender")
	fs.IntVar(&o.warmup, "warmup", 1, "uncounted warm-up `runs` per contender, before the counted ones")
	fs.StringVar(&o.tz, "tz", "Europe/Berlin", "TZ for every contender (\"\" keeps the environment's)")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (binaries, per-run scratch directories)")
	fs.BoolVar(&o.json, "json", false, "write results as JSON to stdout (the tables then go to stderr)")
	fs.StringVar(&o.cacheDir, "cache", filepath.Join(os.TempDir(), "taikit-bench"), "`dir`ectory for the generated corpus, kept between invocations")
	fs.StringVar(&o.standIn, "ours-standin", "", "run `program` in place of our commands, without building them")
	fs.Usage = func() { usage(fs) }
	if err := fs.Parse(args); err != nil {
		return o, nil, err
	}
	switch {
	case o.lines < 1:
		return o, nil, errors.New("-lines must be at least 1")
	case o.runs < 1:
		return o, nil, errors.New("-runs must be at least 1")
	case o.warmup < 0:
		return o, nil, errors.New("-warmup must not be negative")
	case fs.NArg() == 0:
		fs.Usage()
		return o, nil, flag.ErrHelp
	}
	selected, err := selectSuites(fs.Args())
	return o, selected, err
}

func usage(fs *flag.FlagSet) {
	w := fs.Output()
	fmt.Fprintf(w, "usage: go run ./bench [flags] suite...\n\nsuites:\n")
	for _, s := range suites {
		fmt.Fprintf(w, "  %-13s %s\n", s.Name, s.Doc)
	}
	fmt.Fprintf(w, "  %-13s every suite above, in order\n\nflags:\n", "all")
	visible := flag.NewFlagSet("", flag.ContinueOnError)
	visible.SetOutput(w)
	fs.VisitAll(func(f *flag.Flag) {
		if !hiddenFlags[f.Name] {
			visible.Var(f.Value, f.Name, f.Usage)
		}
	})
	visible.PrintDefaults()
}

// selectSuites resolves suite names ("all" meaning every suite) in the order given, once each.
func selectSuites(names []string) ([]*Suite, error) {
	var out []*Suite
	add := func(s *Suite) {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for _, name := range names {
		if name == "all" {
			for i := range suites {
				add(&suites[i])
			}
			continue
		}
		i := slices.IndexFunc(suites, func(s Suite) bool { return s.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("unknown suite %q (have: %s, all)", name, suiteNames())
		}
		add(&suites[i])
	}
	return out, nil
}

func suiteNames() string {
	names := make([]string, len(suites))
	for i, s := range suites {
		names[i] = s.Name
	}
	return strings.Join(names, ", ")
}

// run measures the selected suites and prints their tables as each finishes. It reports
// whether any contender failed; err is for failures of the harness itself.
func run(ctx context.Context, o options, selected []*Suite) (failed bool, err error) {
	work, err := os.MkdirTemp("", "taikit-bench-run-")
	if err != nil {
		return false, err
	}
	if o.keep {
		defer fmt.Fprintf(os.Stderr, "kept %s\n", work)
	} else {
		defer os.RemoveAll(work)
	}
	h := &harness{opts: o, work: work, progress: os.Stderr}
	tables := io.Writer(os.Stdout)
	if o.json {
		tables = os.Stderr // keep stdout pure JSON
	}
	report := Report{Machine: describeMachine(), Lines: o.lines, Runs: o.runs, Warmup: o.warmup, TZ: o.tz}
	printMachine(tables, report.Machine)
	for _, s := range selected {
		res, err := h.runSuite(ctx, s)
		if err != nil {
			return false, err
		}
		printSuite(tables, res)
		report.Suites = append(report.Suites, res)
		for _, c := range res.Contenders {
			failed = failed || c.Status == statusFailed
		}
	}
	if o.json {
		if err := writeJSON(os.Stdout, &report); err != nil {
			return false, err
		}
	}
	return failed, nil
}

// harness holds what outlives a single suite: built binaries and corpora are shared.
type harness struct {
	opts     options
	work     string // temporary directory for binaries, scratch directories, captured stderr
	progress io.Writer
	modRoot  string
	builds   map[string]built
	corpora  map[string]corpusFile
	drainBuf []byte
}

type built struct {
	path string
	err  error
}

type corpusFile struct {
	path string
	size int64
}

func (h *harness) progressf(format string, args ...any) { fmt.Fprintf(h.progress, format, args...) }

// runSuite resolves every contender of s, then measures the runnable ones round by round.
func (h *harness) runSuite(ctx context.Context, s *Suite) (*SuiteResult, error) {
	corpus, err := h.corpus(s.Corpus)
	if err != nil {
		return nil, err
	}
	res := &SuiteResult{Name: s.Name, Doc: s.Doc, Corpus: corpus.path, CorpusBytes: corpus.size,
		Lines: h.opts.lines, Runs: h.opts.runs, Warmup: h.opts.warmup, Stdout: s.Stdout.String()}
	env := h.env(s)
	inputs := make([]string, len(s.Contenders)) // each contender's corpus file
	for i := range s.Contenders {
		c := &s.Contenders[i]
		inputs[i] = corpus.path
		if c.Corpus != nil {
			own, err := h.corpus(*c.Corpus)
			if err != nil {
				return nil, err
			}
			inputs[i] = own.path
		}
		res.Contenders = append(res.Contenders, h.resolve(ctx, s, c, inputs[i]))
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	for round := -h.opts.warmup; round < h.opts.runs; round++ {
		h.progressf("%s %s:", s.Name, roundLabel(round, h.opts.warmup))
		for i := range s.Contenders {
			cr := &res.Contenders[i]
			if cr.Status != statusOK {
				continue
			}
			sample, err := h.runOnce(ctx, s, &s.Contenders[i], cr.Argv, env, inputs[i], round)
			if ctx.Err() != nil {
				h.progressf(" interrupted\n")
				return nil, ctx.Err()
			}
			if err != nil {
				// One failure makes the contender's numbers meaningless; stop spending time on it.
				cr.Status, cr.Note, cr.Samples = statusFailed, err.Error(), nil
				h.progressf("  %s FAILED", cr.Name)
				continue
			}
			if round >= 0 {
				cr.Samples = append(cr.Samples, sample)
			}
			h.progressf("  %s %.2fs", cr.Name, sample.Wall.Seconds())
		}
		h.progressf("\n")
	}
	res.finish(s.Ratios)
	return res, nil
}

func roundLabel(round, warmups int) string {
	if round < 0 {
		return fmt.Sprintf("warm-up %d/%d", round+warmups+1, warmups)
	}
	return fmt.Sprintf("round %d", round+1)
}

// resolve works out the command line of c, building it if it is ours, or says why it cannot run.
func (h *harness) resolve(ctx context.Context, s *Suite, c *Contender, corpus string) ContenderResult {
	cr := ContenderResult{Name: c.Name, Ours: c.Ours(), Status: statusOK}
	var prog string
	switch {
	case c.Ours() && h.opts.standIn != "":
		p, err := exec.LookPath(h.opts.standIn)
		if err != nil {
			cr.Status, cr.Note = statusFailed, fmt.Sprintf("stand-in: %v", err)
			return cr
		}
		prog, cr.Name = p, c.Name+" (stand-in)"
	case c.Ours():
		b := h.build(ctx, c.Build)
		if b.err != nil {
			cr.Status, cr.Note = statusFailed, b.err.Error()
			return cr
		}
		prog = b.path
	default:
		if fi, err := os.Stat(c.Path); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			cr.Status, cr.Note = statusSkipped, fmt.Sprintf("not installed: %s — %s", c.Path, installHint)
			return cr
		}
		prog = c.Path
	}
	cr.Argv = append([]string{prog}, c.Args...)
	cr.Command = commandLine(h.opts.tz, s, cr.Argv, corpus, c.Stdin)
	return cr
}

// build compiles our package pkg once per invocation of the harness.
func (h *harness) build(ctx context.Context, pkg string) built {
	if b, ok := h.builds[pkg]; ok {
		return b
	}
	b := built{path: filepath.Join(h.work, "bin", path.Base(pkg))}
	if h.modRoot == "" {
		h.modRoot, b.err = moduleRoot(ctx)
	}
	if b.err == nil {
		h.progressf("building %s\n", pkg)
		cmd := exec.CommandContext(ctx, "go", "build", "-o", b.path, pkg)
		cmd.Dir = h.modRoot
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("build failed: (cd %s && go build -o %s %s): %v\n%s",
				h.modRoot, b.path, pkg, err, strings.TrimSpace(string(out)))
		}
	}
	if h.builds == nil {
		h.builds = map[string]built{}
	}
	h.builds[pkg] = b
	return b
}

// moduleRoot finds the directory of the main module's go.mod, so our packages build the same
// whichever directory the harness was started from.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside the taikit module: run from its directory")
	}
	return filepath.Dir(gomod), nil
}

func (h *harness) corpus(c Corpus) (corpusFile, error) {
	if f, ok := h.corpora[c.Name]; ok {
		return f, nil
	}
	p, size, generated, err := cachedCorpus(h.opts.cacheDir, c, h.opts.lines)
	if err != nil {
		return corpusFile{}, err
	}
	if generated {
		h.progressf("generated %s\n", p)
	}
	if h.corpora == nil {
		h.corpora = map[string]corpusFile{}
	}
	h.corpora[c.Name] = corpusFile{p, size}
	return h.corpora[c.Name], nil
}

// env is the harness's environment with TZ from -tz and the suite's entries applied in
// that order: "KEY=value" sets a variable, a bare "KEY" removes it.
func (h *harness) env(s *Suite) []string {
	var changes []string
	if h.opts.tz != "" {
		changes = append(changes, "TZ="+h.opts.tz)
	}
	return testref.Environ(append(changes, s.Env...)...)
}

// runOnce runs contender c once in a fresh scratch directory, with its hooks around it.
func (h *harness) runOnce(ctx context.Context, s *Suite, c *Contender, argv, env []string, corpus string, round int) (Sample, error) {
	label := fmt.Sprintf("run%d", round+1)
	if round < 0 {
		label = fmt.Sprintf("warmup%d", round+h.opts.warmup+1)
	}
	dir := filepath.Join(h.work, "runs", s.Name, c.Name+"-"+label)
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return Sample{}, err
	}
	if err := os.Mkdir(dir, 0o755); err != nil { // Mkdir, not MkdirAll: it must be new and empty
		return Sample{}, err
	}
	if !h.opts.keep {
		defer os.RemoveAll(dir)
	}
	r := &Run{Suite: s, Contender: c, Corpus: corpus, Dir: dir, Round: round}
	defer func() {
		for i := len(r.deferred) - 1; i >= 0; i-- {
			r.deferred[i]()
		}
	}()
	if c.Setup != nil {
		if err := c.Setup(r); err != nil {
			return Sample{}, fmt.Errorf("setup: %w", err)
		}
	}
	var until func() (bool, error)
	if c.Until != nil {
		until = func() (bool, error) { return c.Until(r) }
	}
	if s.Stdout == StdoutPipe && h.drainBuf == nil {
		h.drainBuf = make([]byte, 1<<20) // large reads keep the harness's side of the pipe cheap
	}
	sample, err := measure(ctx, invocation{
		Argv: append(slices.Clip(argv), r.Args...), Env: env, Dir: dir, Stdin: corpus,
		StdinPipe: c.Stdin == StdinPipe, Stdout: s.Stdout, StderrFile: filepath.Join(h.work, "stderr"),
		Until: until,
	}, h.drainBuf)
	if err != nil {
		return Sample{}, err
	}
	if c.Cleanup != nil {
		if err := c.Cleanup(r); err != nil {
			return Sample{}, fmt.Errorf("cleanup: %w", err)
		}
	}
	return sample, nil
}

// Machine identifies where the numbers came from.
type Machine struct {
	CPUs      int    `json:"cpus"`
	CPUModel  string `json:"cpu_model,omitempty"`
	GoVersion string `json:"go_version"`
	OS        string `json:"os"`
	Arch      string `json:"arch"`
	Kernel    string `json:"kernel"`
}

func describeMachine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH, Kernel: "unknown"}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	return m
}
