package logcat

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/taikit/taikit/errtext"
	"github.com/taikit/taikit/internal/atomicfile"
	"github.com/taikit/taikit/internal/cli"
	"github.com/taikit/taikit/logread"
	"github.com/taikit/taikit/tai64n"
	"github.com/taikit/taikit/tzlocal"
)

// ExitNoMatch is logcat's exit code when no line was selected (or, with
// nothing to select, none was read), as grep exits 1.
const ExitNoMatch = 1

// Env is what Run takes from its process.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Now            func() time.Time
	// LocalZone is called only when local time is needed.
	LocalZone func() *tzlocal.Zone
	// Interrupt, closed, stops following (SIGINT, SIGTERM); nil never does.
	Interrupt <-chan struct{}
	// Getenv reads the environment (NO_COLOR, TERM, COLUMNS); nil reads
	// an empty one.
	Getenv func(string) string
	// Terminal reports whether standard output is a terminal, and its
	// width in columns (0 when unknown); nil: it is not one.
	Terminal func() (bool, int)
	// PollInterval, when positive, is passed to logread's followers (tests
	// shorten it); 0 keeps logread's default.
	PollInterval time.Duration
}

// Run is the logcat command: it parses args, runs the query over the inputs
// and returns the exit code: 0 when lines were selected (every line is,
// when nothing selects), ExitNoMatch when none was,
// ExitGap when data was pruned before it could be read (unless
// --allow-gaps), 100 for a usage error, and 111 when an input could not be
// read (after reading all the others) or the output could not be written.
func Run(args []string, env Env) int {
	o, err := Parse(args)
	if err != nil {
		return Usage(env.Stderr, err)
	}
	if o.Help {
		Usage(env.Stdout, nil)
		return cli.ExitOK
	}
	c, err := newCommand(o, env)
	if err != nil {
		return Usage(env.Stderr, err)
	}
	c.args = args
	return c.run()
}

// command is one run of logcat.
type command struct {
	o    *Options
	args []string // as given, for the chart's title
	env  Env
	q    Query
	p    *Pipeline

	mu     sync.Mutex // guards failed, gapped and stderr: a follower warns from two goroutines
	failed bool       // an input could not be read
	gapped bool       // data was pruned before it could be read

	// cursorToSave is the cursor of a reading run (--cursor without -f),
	// saved once the output has been written.
	cursorToSave *logread.Cursor
	// stopped: a signal ended the run, which is then a success whatever
	// was selected.
	stopped bool
}

func newCommand(o *Options, env Env) (*command, error) {
	c := &command{o: o, env: env}
	q := Query{First: o.First, Last: o.Last, Count: o.Count, Format: o.Format, Before: o.Before, After: o.After, Show: o.Show}
	if o.Leap {
		q.Convention = tai64n.LeapAware
	}
	var zone *tzlocal.Zone // nil: UTC
	if !o.UTC && (o.Format != FormatRaw || o.Since != "" || o.Until != "" || o.Rate) {
		zone = env.LocalZone()
	}
	if zone != nil { // not a nil *tzlocal.Zone in the interface
		q.Zone = zone
	}
	tc := TimeContext{Now: env.Now(), Zone: zone, Convention: q.Convention}
	var err error
	if o.Since != "" {
		if q.Since, err = ParseTime(o.Since, tc); err != nil {
			return nil, fmt.Errorf("-S: %w", err)
		}
		q.HasSince = true
	}
	if o.Until != "" {
		if q.Until, err = ParseTime(o.Until, tc); err != nil {
			return nil, fmt.Errorf("-U: %w", err)
		}
		q.HasUntil = true
	}
	if len(o.Words) > 0 || len(o.Regexps) > 0 || len(o.Fields) > 0 || o.Invert {
		if q.Selector, err = NewFieldSelector(o.Words, o.Regexps, o.Fields, o.Invert); err != nil {
			return nil, err
		}
	}
	if len(o.Inputs) == 0 {
		o.Inputs = []string{"-"}
	}
	if o.Cursor != "" && (len(o.Inputs) != 1 || o.Inputs[0] == "-") {
		return nil, errors.New("--cursor needs exactly one log directory")
	}
	q.Color = c.colorOn()
	if o.Rate {
		q.Rate = &Rate{Interval: o.Interval, Width: c.width()}
	}
	c.q = q
	return c, nil
}

func (c *command) getenv(name string) string {
	if c.env.Getenv == nil {
		return ""
	}
	return c.env.Getenv(name)
}

// width returns the width of the output for --rate's table: COLUMNS, else
// the terminal's, else 80.
func (c *command) width() int {
	if n, err := strconv.Atoi(c.getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	if c.env.Terminal != nil {
		if tty, n := c.env.Terminal(); tty && n > 0 {
			return n
		}
	}
	return 80
}

// colorOn decides on colour as grep --color does, and as no-color.org
// asks: auto colours a terminal only, not a dumb one, and not when
// NO_COLOR is set to anything but ""; always and never say what they say,
// whatever the environment.
func (c *command) colorOn() bool {
	switch c.o.Color {
	case ColorAlways:
		return true
	case ColorNever:
		return false
	}
	if c.getenv("NO_COLOR") != "" || c.getenv("TERM") == "dumb" || c.env.Terminal == nil {
		return false
	}
	tty, _ := c.env.Terminal()
	return tty
}

func (c *command) warn(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var g *logread.GapError
	if errors.As(err, &g) {
		// Not a failure to read: the directory no longer had the data.
		c.gapped = true
		fmt.Fprintf(c.env.Stderr, "logcat: warning: %s\n", gapText(g))
		return
	}
	var dc *logread.DirChange
	if errors.As(err, &dc) {
		// -F follows the name: a directory gone or back is news, not a
		// failure to read.
		fmt.Fprintf(c.env.Stderr, "logcat: warning: %s\n", dc)
		return
	}
	c.failed = true
	fmt.Fprintf(c.env.Stderr, "logcat: warning: %s\n", errText(err))
}

// errText words an error as daemontools would: the libraries' errors are
// worded already; a path error becomes "unable to read <path>: <reason>".
func errText(err error) string {
	var fe *errtext.Error
	if errors.As(err, &fe) {
		return fe.Error()
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return "unable to read " + pe.Path + ": " + errtext.Of(pe.Err)
	}
	return err.Error()
}

func (c *command) run() int {
	following := c.o.Follow || c.o.FollowRotate
	kinds := make([]inputKind, len(c.o.Inputs))
	for i, name := range c.o.Inputs {
		kinds[i] = kindOf(name)
		if following && kinds[i] == inputFile {
			return Usage(c.env.Stderr, fmt.Errorf("unable to follow %s: not a log directory (-f and -F follow log directories and standard input)", name))
		}
	}
	if following && len(c.o.Inputs) > 1 {
		for _, k := range kinds {
			if k == inputStdin {
				return Usage(c.env.Stderr, errors.New("standard input can be followed only alone"))
			}
		}
	}
	dirs := 0
	for _, k := range kinds {
		if k == inputDir {
			dirs++
		}
	}
	if c.o.Label == LabelAlways || c.o.Label == LabelAuto && dirs >= 2 {
		c.q.Labels = labelsOf(c.o.Inputs, kinds)
	}
	c.p = NewPipeline(c.q, c.env.Stdout)
	if following && kinds[0] != inputStdin {
		c.follow(kinds)
	} else {
		c.readAll(kinds, following)
	}
	return c.finish()
}

// finish writes what is held back and chooses the exit code.
func (c *command) finish() int {
	err := c.p.Flush()
	var we *WriteError
	if err != nil && !errors.As(err, &we) {
		// Not the output's fault: --interval too short for the range.
		fmt.Fprintf(c.env.Stderr, "logcat: fatal: %s\n", err)
		return cli.ExitUsage
	}
	if err != nil {
		// The cursor is not saved: what it covers did not all go out.
		if !cli.IsBrokenPipe(err) {
			fmt.Fprintf(c.env.Stderr, "logcat: fatal: unable to write output: %s\n", errtext.Of(err))
		}
		return cli.ExitTemporary
	}
	if c.o.SVG != "" {
		if err := c.writeSVG(); err != nil {
			fmt.Fprintf(c.env.Stderr, "logcat: fatal: unable to write %s: %s\n", c.o.SVG, errText(err))
			return cli.ExitTemporary
		}
	}
	if c.cursorToSave != nil {
		if err := logread.SaveCursor(c.o.Cursor, *c.cursorToSave); err != nil {
			c.warn(fmt.Errorf("unable to save cursor %s: %s", c.o.Cursor, errText(err)))
		}
	}
	switch {
	case c.failed:
		return cli.ExitTemporary
	case c.gapped && !c.o.AllowGaps:
		// Before a clean stop and "nothing selected": what was skipped
		// may be what a selection was looking for.
		return ExitGap
	case c.stopped:
		return cli.ExitOK
	case !c.p.Any():
		// As grep: nothing selected is 1, even when everything would have
		// been (an empty log), so that "logcat ... && alert" alerts on a
		// line, never on silence.
		return ExitNoMatch
	}
	return cli.ExitOK
}

// writeSVG writes the chart of --rate to the --svg file, whole or not at
// all (a temporary file renamed).
func (c *command) writeSVG() error {
	rows, err := c.p.RateRows()
	if err != nil {
		return err
	}
	var b strings.Builder
	title := "logcat " + strings.Join(c.args, " ")
	if err := WriteSVG(&b, rows, c.o.Interval, title, c.p.TimeText); err != nil {
		return err
	}
	return atomicfile.WriteFile(c.o.SVG, []byte(b.String()), 0o644)
}

type inputKind uint8

const (
	inputStdin inputKind = iota
	inputFile
	inputDir
	inputMissing
)

func kindOf(name string) inputKind {
	if name == "-" {
		return inputStdin
	}
	st, err := os.Stat(name)
	switch {
	case err != nil:
		return inputMissing
	case st.IsDir():
		return inputDir
	}
	return inputFile
}

// readAll reads every input to its end, in order; directories next to each
// other are merged by their stamps.
func (c *command) readAll(kinds []inputKind, live bool) {
	c.p.q.Live = live
	c.p.q.WriteBehind = !live
	for i := 0; i < len(kinds) && !c.p.Done(); i++ {
		name := c.o.Inputs[i]
		c.p.SetSource(i)
		switch kinds[i] {
		case inputStdin:
			in := c.env.Stdin
			if c.env.Interrupt != nil {
				in = newStoppable(in, c.env.Interrupt)
			}
			c.read(logread.NewStream(in, logread.Options{Name: "standard input", OnError: c.warn}), nil)
		case inputMissing, inputFile:
			if j := dirRun(kinds, i); j > i {
				c.readDirs(c.present(kinds, i, j))
				i = j - 1
				continue
			}
			c.readFile(name)
		case inputDir:
			j := dirRun(kinds, i)
			c.readDirs(c.present(kinds, i, j))
			i = j - 1
		}
	}
}

// dirRun returns the end of the directories to merge that start at i:
// directories next to each other, with the missing names among them (a
// name that is not there is named in a warning, and the directories
// around it are still merged). It returns i when the run holds no directory: a missing
// name alone is taken for a missing file.
func dirRun(kinds []inputKind, i int) int {
	j, dirs := i, 0
	for j < len(kinds) && (kinds[j] == inputDir || kinds[j] == inputMissing) {
		if kinds[j] == inputDir {
			dirs++
		}
		j++
	}
	if dirs == 0 {
		return i
	}
	return j
}

// present returns the numbers of the directories among inputs i to j,
// warning about the missing names as a missing file is warned about.
func (c *command) present(kinds []inputKind, i, j int) []int {
	var dirs []int
	for k := i; k < j; k++ {
		if kinds[k] == inputMissing {
			c.readFile(c.o.Inputs[k])
			continue
		}
		dirs = append(dirs, k)
	}
	return dirs
}

// readFile reads a file named on the command line (decompressed when its
// content is gzip's or zstd's: an archive that "!gzip" or built-in
// compression wrote).
func (c *command) readFile(name string) {
	if st, err := os.Stat(name); err == nil && !st.Mode().IsRegular() && c.env.Interrupt != nil {
		// A FIFO (<(cmd)), a device: read as a stream, whose open and
		// reads a signal can end.
		f, ok, err := openStoppable(name, c.env.Interrupt)
		switch {
		case !ok:
			c.stopped = true
		case err != nil:
			c.warn(&errtext.Error{Op: "unable to read", Path: name, Err: unwrapErr(err)})
		default:
			defer f.Close()
			c.read(logread.NewStream(newStoppable(f, c.env.Interrupt), logread.Options{Name: name, OnError: c.warn}), nil)
		}
		return
	}
	r, err := logread.OpenFile(name, logread.Options{OnError: c.warn})
	if err != nil {
		c.warn(err)
		return
	}
	c.read(r, nil)
}

// unwrapErr drops the *fs.PathError around a system error: the message
// names the file itself.
func unwrapErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// readDirs reads log directories (inputs numbered idx) to their ends;
// several are merged.
func (c *command) readDirs(idx []int) {
	dirs := make([]string, len(idx))
	for i, k := range idx {
		dirs[i] = c.o.Inputs[k]
	}
	var cursor *logread.Cursor
	if c.o.Cursor != "" {
		cur, err := logread.LoadCursor(c.o.Cursor)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			c.warn(fmt.Errorf("unable to read cursor %s: %s", c.o.Cursor, errText(err)))
			return
		}
		cursor = &cur
	}
	readers, opened := c.openReaders(dirs, cursor, false)
	switch len(readers) {
	case 0:
	case 1:
		c.p.SetSource(idx[opened[0]])
		c.read(readers[0], cursor)
	default:
		srcs := make([]logread.Source, len(readers))
		for i, r := range readers {
			srcs[i] = r
		}
		if c.q.Labels == nil {
			c.read(logread.Merge(srcs...), nil)
			return
		}
		m := &labelledMerge{Merged: logread.Merge(srcs...), inputs: make([]int, len(readers))}
		for i := range readers {
			m.inputs[i] = idx[opened[i]]
		}
		c.read(m, nil)
	}
}

// labelledMerge is a merge that tells which input each line came from.
type labelledMerge struct {
	*logread.Merged
	inputs []int // the number of each source's input
}

// source returns the number of the input the line given last came from,
// or -1.
func (m *labelledMerge) source() int {
	if i := m.Source(); i >= 0 {
		return m.inputs[i]
	}
	return -1
}

// labelsOf returns the labels of the inputs: a directory's short name (the
// service's name for /service/NAME/log/main or /service/NAME/log), a
// file's base name, "stdin" for standard input ("-" would make its context
// lines "-- line", which reads as the "--" between groups). Inputs whose
// short names are the same are named as given, cleaned.
func labelsOf(inputs []string, kinds []inputKind) []string {
	labels := make([]string, len(inputs))
	seen := map[string]int{}
	for i, name := range inputs {
		labels[i] = shortName(name, kinds[i])
		seen[labels[i]]++
	}
	for i, name := range inputs {
		if seen[labels[i]] > 1 && name != "-" {
			labels[i] = filepath.Clean(name)
		}
	}
	return labels
}

func shortName(name string, kind inputKind) string {
	if name == "-" {
		return "stdin"
	}
	path := filepath.Clean(name)
	if abs, err := filepath.Abs(name); err == nil {
		path = abs // "." and "main" name the directory they are
	}
	base := filepath.Base(path)
	if kind != inputFile {
		parent := filepath.Dir(path)
		switch {
		case base == "main" && filepath.Base(parent) == "log":
			return filepath.Base(filepath.Dir(parent))
		case base == "log":
			return filepath.Base(parent)
		}
	}
	return base
}

// read runs the query over src to its end, a block of lines at a time,
// and closes it: the one way every input (standard input, a file, a
// directory, several merged) goes into the pipeline. With cursor (src is
// then the Reader of one directory, started from it), the position after
// the last whole line handled is kept for finish to save.
func (c *command) read(src logread.Source, cursor *logread.Cursor) {
	defer src.Close()
	r, _ := src.(*logread.Reader)
	m, _ := src.(*labelledMerge)
	var good logread.Cursor // after the last whole line handled
	if cursor != nil {
		good = *cursor
	}
	// A Reader of a directory may give an archive's lines from its
	// mapping (Options.Map): they are read inside Guard.
	fault := logread.Guard(func() {
		for !c.p.Done() && !c.interrupted() {
			b, err := src.NextLines()
			if err != nil {
				if err != io.EOF {
					c.warn(err)
				}
				if cursor == nil {
					c.p.EndInput() // its last line, without a newline, is a line
				}
				break
			}
			if m != nil {
				c.p.SetSource(m.source())
			}
			n := c.p.AddBlock(b)
			if b.Cut {
				c.p.CutLine()
			}
			if c.p.q.Live {
				c.p.flush() // following standard input: each block out as it comes
			}
			if cursor != nil && !c.p.Pending() {
				good = r.CursorAfter(n)
			}
		}
	})
	if fault != nil {
		// The Reader is not to be read further: what it gave before the
		// truncated archive is out, the rest of this input is not.
		c.warn(fault)
		c.p.EndInput()
	}
	c.interrupted() // a stop that ended the input (stoppable) is a stop
	if cursor != nil {
		// A line still being written is left for the next run, which
		// starts at its beginning. The cursor is saved once the output
		// is written (finish).
		c.p.DropPending()
		c.cursorToSave = &good
	}
}

// interrupted reports whether a signal asked logcat to stop (Env.Interrupt
// closed): a reading run then stops between blocks, writes what it has
// selected and saves its cursor, as a follower does.
func (c *command) interrupted() bool {
	select {
	case <-c.env.Interrupt:
		c.stopped = true
		return true
	default:
		return false
	}
}

// scanner is p's search for logread.Options.Scan, when on.
func scanner(p *Pipeline, on bool) func([]byte) any {
	if !on || p == nil {
		return nil
	}
	return p.Scanner()
}

// openReaders opens a logread.Reader per directory, warning about those
// that cannot be opened; opened numbers, among dirs, those it returns.
func (c *command) openReaders(dirs []string, cursor *logread.Cursor, follow bool) (readers []*logread.Reader, opened []int) {
	for i, d := range dirs {
		r, err := logread.OpenDir(d, logread.Options{
			Since: c.q.Since, HasSince: c.q.HasSince,
			Until: c.q.Until, HasUntil: c.q.HasUntil,
			Follow: follow, Cursor: cursor,
			// Read on this goroutine, inside Guard (read); a follower
			// reads on another.
			Map: !follow,
			// One directory: the next archive decompressed on the other
			// core. (A merge of many would hold two archives each.)
			ReadAhead: !follow && len(dirs) == 1,
			// And searched there, while in that core's cache.
			Scan: scanner(c.p, !follow && len(dirs) == 1),
			// -F follows the name, even before there is a directory.
			WaitForDir:   c.o.FollowRotate,
			OnError:      c.warn,
			PollInterval: c.env.PollInterval,
		})
		if err != nil {
			c.warn(err)
			continue
		}
		readers = append(readers, r)
		opened = append(opened, i)
	}
	return readers, opened
}
