package rotate

// The conformance cases ML16–ML32 (testdata/conformance/cases.txt, observed
// on daemontools' multilog) run at the level of this package: the script
// words that concern a log directory (s, n, !, and directory names) become
// Options, the case's input is written to every directory in multilog's
// 1024-byte reads, and the directories are compared with what multilog
// left. Package multilog will run the same cases through its whole script
// engine; here only the directory side is tested.
//
// Some cases are compared exactly (conformance.CheckDir: names, modes and
// contents as listed). Where daemontools' archive sizes come from its
// 512-byte output buffers and 1024-byte reads (spec §8.4 step 3, §8.5),
// taikit deliberately cuts elsewhere (§18.2: the first line end at or after
// s−2000 bytes, whatever the chunking), so those cases are compared by
// contract: the same entries and modes, the same number of archives where
// n decides it, every file cut by the rule, and the kept data the end of
// the input. Since taikit's rule does not depend on chunking, the exact
// files it must keep are computed from the input (mlCuts) and compared too.

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/taikit/taikit/errtext"
	"github.com/taikit/taikit/internal/conformance"
	"github.com/taikit/taikit/internal/testref"
)

// mlReadSize is the size of multilog's reads of standard input: the case's
// input reaches every directory in pieces of this size.
const mlReadSize = 1024

// mlUmask is the umask the cases run under: stricter than the 022 most
// cases were observed with (and ML32's own 077), so that a mode depending
// on the umask would show. multilog forces 022; rotate must not depend on
// it at all.
const mlUmask = 0o077

// mlTimeout bounds a case's writing and closing.
const mlTimeout = 30 * time.Second

// mlDirWord is a directory word of a multilog script with the s, n and !
// in force where it stands.
type mlDirWord struct {
	word string
	opts Options
}

// mlScript interprets the words of a multilog script that concern log
// directories, with multilog's grammar (spec §1): "sN" (digits from the
// second byte, none is 0, clamped to 4096–16777215), "nN" (below 2 is 2),
// "!processor" (sticky; "!" alone is still a processor) and directories
// (words starting with "." or "/", each taking the s, n and ! in force).
// The other words (t, +, -, e, =file, unknown ones) are package multilog's
// and are returned as they are.
func mlScript(args []string) (dirs []mlDirWord, others []string) {
	size, keep := uint64(DefaultMaxSize), uint64(DefaultKeep)
	proc, hasProc := "", false
	for _, w := range args {
		switch {
		case strings.HasPrefix(w, "s"):
			size = min(max(mlNumber(w), 4096), 16777215)
		case strings.HasPrefix(w, "n"):
			keep = max(mlNumber(w), 2)
		case strings.HasPrefix(w, "!"):
			proc, hasProc = w[1:], true
		case strings.HasPrefix(w, ".") || strings.HasPrefix(w, "/"):
			dirs = append(dirs, mlDirWord{w, Options{
				MaxSize: int64(size), Keep: int(min(keep, math.MaxInt32)),
				Processor: proc, HasProcessor: hasProc, Name: w,
			}})
		default:
			others = append(others, w)
		}
	}
	return dirs, others
}

// mlNumber reads the decimal digits of a script word from its second byte
// up to the first non-digit, as multilog's scan_ulong: none is 0, and an
// absurdly long number wraps as an unsigned long does.
func mlNumber(w string) uint64 {
	var v uint64
	for i := 1; i < len(w) && w[i] >= '0' && w[i] <= '9'; i++ {
		v = v*10 + uint64(w[i]-'0')
	}
	return v
}

// mlRun is one case being run.
type mlRun struct {
	c      conformance.Case
	cwd    string      // the case's working directory
	words  []mlDirWord // the script's directories
	others []string    // the script's other words
	dirs   []*Dir      // the directories opened, in script order
	warn   warnings
	stderr testref.Buffer
}

// mlStart sets case id up in a fresh working directory (its pre entries
// made) and opens the script's directories in script order, as multilog's
// start-up does, stopping at the first failure, which it returns. The
// umask is mlUmask until the test ends; the directories are closed then if
// the test has not closed them.
func mlStart(t *testing.T, id string) (*mlRun, error) {
	t.Helper()
	c := conformance.Get(t, id)
	old := syscall.Umask(mlUmask)
	t.Cleanup(func() { syscall.Umask(old) })
	r := &mlRun{c: c, cwd: t.TempDir()}
	t.Cleanup(func() {
		for _, d := range r.dirs {
			d.Close() // fs.ErrClosed when the test closed it
		}
	})
	if err := c.Prepare(r.cwd); err != nil {
		t.Fatalf("%s: pre: %v", id, err)
	}
	r.words, r.others = mlScript(c.Args())
	for _, w := range r.words {
		if filepath.IsAbs(w.word) {
			t.Fatalf("%s: %s: an absolute directory would be outside the case's working directory", id, w.word)
		}
		o := w.opts
		o.Pause, o.Warn, o.Stderr = 10*time.Millisecond, r.warn.add, &r.stderr
		d, err := Open(filepath.Join(r.cwd, w.word), o)
		if err != nil {
			return r, err
		}
		r.dirs = append(r.dirs, d)
	}
	return r, nil
}

// mlRunCase runs case id: start-up, the input written to every directory
// in 1024-byte reads, and Close, expecting no failure, no warning and no
// processor output on stderr. It returns the input.
func mlRunCase(t *testing.T, id string) (*mlRun, []byte) {
	t.Helper()
	r, err := mlStart(t, id)
	if err != nil {
		t.Fatalf("%s: Open: %v", id, err)
	}
	in := r.c.Stdin()
	if len(in) > 0 && in[len(in)-1] != '\n' {
		// multilog's engine ends a partial last line; not rotate's job.
		t.Fatalf("%s: the input ends in a partial line", id)
	}
	// A processor failing for ever would make Close wait for ever (it is
	// retried, as in multilog): interrupt the directories instead.
	var stuck atomic.Bool
	watchdog := time.AfterFunc(mlTimeout, func() {
		stuck.Store(true)
		for _, d := range r.dirs {
			d.Interrupt()
		}
	})
	defer watchdog.Stop()
	for p := in; len(p) > 0; p = p[min(mlReadSize, len(p)):] {
		for _, d := range r.dirs {
			write(t, d, p[:min(mlReadSize, len(p))])
		}
	}
	for i, d := range r.dirs {
		if err := d.Close(); err != nil {
			t.Errorf("%s: Close %s: %v", id, r.words[i].word, err)
		}
	}
	if stuck.Load() {
		t.Errorf("%s: not done within %v: interrupted", id, mlTimeout)
	}
	if w := r.warn.all(); len(w) > 0 {
		t.Errorf("%s: warnings %q", id, w)
	}
	if s := r.stderr.String(); s != "" {
		t.Errorf("%s: processor stderr %q", id, s)
	}
	// Every directory of the script is listed by the case, in script order.
	if len(r.c.Dirs) != len(r.words) {
		t.Fatalf("%s: the script has %d directories, the case lists %d", id, len(r.words), len(r.c.Dirs))
	}
	for i, d := range r.c.Dirs {
		if filepath.Clean(r.words[i].word) != filepath.Clean(d.Name) {
			t.Fatalf("%s: directory %d is %s in the script, %s in the listing", id, i, r.words[i].word, d.Name)
		}
	}
	return r, in
}

// checkExact compares every listed directory exactly, as the checker does.
func (r *mlRun) checkExact(t *testing.T) {
	t.Helper()
	for _, d := range r.c.Dirs {
		if err := conformance.CheckDir(d, filepath.Join(r.cwd, d.Name)); err != nil {
			t.Errorf("%s: %v", r.c.ID, err)
		}
	}
}

// checkContract compares directory i of the script with its listing by
// contract (conformance.CompareByContract), where daemontools' archive
// boundaries depend on its chunking.
func (r *mlRun) checkContract(t *testing.T, in []byte, i int, how conformance.Contract) {
	t.Helper()
	w, exp := r.words[i], r.c.Dirs[i]
	path := filepath.Join(r.cwd, exp.Name)
	err := conformance.CompareByContract(in, path, int(w.opts.MaxSize), w.opts.Keep, exp, how)
	if err != nil {
		t.Errorf("%s: dir %s: %v", r.c.ID, exp.Name, err)
	}
}

// mlFatal is the text after "multilog: fatal: " in a case's stderr.
func mlFatal(t *testing.T, c conformance.Case) string {
	t.Helper()
	s, ok := strings.CutPrefix(string(c.Stderr.Want), "multilog: fatal: ")
	if !ok || c.Exit != 111 || !strings.HasSuffix(s, "\n") {
		t.Fatalf("%s: not a fatal start-up error: exit %d, stderr %q", c.ID, c.Exit, c.Stderr.Want)
	}
	return strings.TrimSuffix(s, "\n")
}

// mlUpper is the processor "tr a-z A-Z" of ML20.
func mlUpper(_ int, f []byte) []byte { return bytes.ToUpper(f) }

// mlListed returns an archive function taking each archive's expected
// content from the case's listing of dir i, rewritten by fix, for a
// processor whose output depends on the cuts only through what fix changes.
func (r *mlRun) mlListed(t *testing.T, i int, fix func(listed, file []byte) []byte) func(int, []byte) []byte {
	var listed [][]byte
	for _, e := range r.c.Dirs[i].Entries {
		if strings.HasPrefix(e.Name, "@<TAI64N#") {
			if !e.HasContent {
				t.Fatalf("%s: archive %s is listed without its content", r.c.ID, e.Name)
			}
			listed = append(listed, e.Content)
		}
	}
	return func(k int, f []byte) []byte {
		if k >= len(listed) {
			return []byte(fmt.Sprintf("<archive %d is not listed>", k+1))
		}
		return fix(listed[k], f)
	}
}

func TestConformanceML(t *testing.T) {
	// Not parallel: the umask is the process's.

	// ML16: s4096 n3, 100 lines of 100 bytes. multilog keeps n−1 = 2
	// archives of 2100 bytes (lines 050–070, 071–091) and an 800-byte
	// current, because its files were 2500, 2500, 2100, 2100 + 800: it cuts
	// at the last line end of the 512/1024-byte piece in which the file
	// crosses s−2000 (§8.4 step 3, §8.5). taikit cuts at the first line end
	// at or after 2096 bytes (§18.2): 4 files of 2100 (lines 000–020, …,
	// 063–083) and 1600 bytes (lines 084–099) in current, of which n3 keeps
	// the last 2 archives. The number of archives is n's: the same.
	t.Run("ML16", func(t *testing.T) {
		r, in := mlRunCase(t, "ML16")
		r.checkContract(t, in, 0, conformance.Contract{CountFromN: true})
	})

	// ML17: the same input with n100 keeps everything. multilog's archives
	// are 2500, 2500, 2100, 2100 (+800), sizes that only its chunking
	// explains (§8.5); taikit's are 4 × 2100 (+1600). Everything being
	// kept, archives in name order and current are the whole input.
	t.Run("ML17", func(t *testing.T) {
		r, in := mlRunCase(t, "ML17")
		r.checkContract(t, in, 0, conformance.Contract{})
	})

	// ML18: "s1 n0" is "s4096 n2": one archive kept. multilog's is lines
	// 071–091 with 800 bytes in current, taikit's lines 063–083 with 1600
	// (the cuts of ML16, §8.5/§18.2); the count is n's.
	t.Run("ML18", func(t *testing.T) {
		r, in := mlRunCase(t, "ML18")
		if o := r.words[0].opts; o.MaxSize != 4096 || o.Keep != 2 {
			t.Fatalf("s1 n0 gave MaxSize %d, Keep %d; want the clamps 4096 and 2", o.MaxSize, o.Keep)
		}
		r.checkContract(t, in, 0, conformance.Contract{CountFromN: true})
	})

	// ML19: one 10000-byte line with s4096 is split at exactly 4096 bytes:
	// 4096 + 4096 + 1809. No line end, so no chunking matters: exact.
	t.Run("ML19", func(t *testing.T) {
		r, _ := mlRunCase(t, "ML19")
		r.checkExact(t)
	})

	// ML20: s, n and ! are sticky and positional: d1 s4096 n2, d2 s8000
	// n2, d3 s8000 n2 with the processor "tr a-z A-Z". d1 is ML18. With
	// s8000, multilog's first file is 6100 bytes (lines 000–060, the last
	// line end of the piece that crossed 6000 bytes, §8.5) and 3900 remain;
	// taikit cuts at the first line end at or after 6000 bytes: 6000 bytes
	// (lines 000–059), 4000 remain. n2 keeps that one archive in both. d3's
	// archive is d2's upper-cased; its current is not processed.
	t.Run("ML20", func(t *testing.T) {
		r, in := mlRunCase(t, "ML20")
		want := []struct {
			size, keep int
			proc       string
			hasProc    bool
		}{{4096, 2, "", false}, {8000, 2, "", false}, {8000, 2, "tr a-z A-Z", true}}
		for i, w := range want {
			o := r.words[i].opts
			if int(o.MaxSize) != w.size || o.Keep != w.keep || o.Processor != w.proc || o.HasProcessor != w.hasProc {
				t.Fatalf("%s: s%d n%d !%q (%v), want s%d n%d !%q (%v)", r.words[i].word,
					o.MaxSize, o.Keep, o.Processor, o.HasProcessor, w.size, w.keep, w.proc, w.hasProc)
			}
		}
		r.checkContract(t, in, 0, conformance.Contract{CountFromN: true})
		r.checkContract(t, in, 1, conformance.Contract{CountFromN: true})
		r.checkContract(t, in, 2, conformance.Contract{CountFromN: true, Archive: mlUpper})
	})

	// ML21: the processor protocol: its stdout becomes the .s, it reads the
	// old state on 4 and writes the new one on 5, in the log directory.
	// multilog processed files of 2500 bytes ("in=2500", then 1000 bytes
	// in current), sizes of its chunking (§8.5); taikit processes the
	// 2100-byte files its rule closes (then 1800 in current). So the
	// archives are the listed ones with in= the size of our files.
	t.Run("ML21", func(t *testing.T) {
		r, in := mlRunCase(t, "ML21")
		inN := regexp.MustCompile(`^in=[0-9]+ `)
		r.checkContract(t, in, 0, conformance.Contract{Archive: r.mlListed(t, 0, func(listed, f []byte) []byte {
			return inN.ReplaceAllLiteral(listed, fmt.Appendf(nil, "in=%d ", len(f)))
		})})
		files, _ := conformance.Cuts(in, 4096)
		if len(files) != 2 || len(files[0]) != 2100 || len(files[1]) != 2100 {
			t.Errorf("the rule closed %d files; want 2 of 2100 bytes", len(files))
		}
	})

	// ML22: "!" alone is a processor, which discards the data: the archive
	// is an empty .s (exactly as listed). Only current differs: multilog's
	// archive took 2500 bytes (chunking, §8.5) and left 500; taikit's rule
	// closes 2100 and leaves 900 (lines 021–029), so current is compared
	// with the rule, not the listing.
	t.Run("ML22", func(t *testing.T) {
		r, in := mlRunCase(t, "ML22")
		if o := r.words[0].opts; !o.HasProcessor || o.Processor != "" {
			t.Fatalf(`"!" gave processor %q (%v); want the empty processor`, o.Processor, o.HasProcessor)
		}
		r.checkContract(t, in, 0, conformance.Contract{Archive: r.mlListed(t, 0, func(listed, _ []byte) []byte { return listed })})
	})

	// ML23–ML27: crash recovery at start-up, then "new\n". No chunking
	// involved: exact.
	for _, id := range []string{"ML23", "ML24", "ML25", "ML26", "ML27"} {
		t.Run(id, func(t *testing.T) {
			r, _ := mlRunCase(t, id)
			r.checkExact(t)
		})
	}

	// ML28: the same directory twice: the second Open fails to lock it,
	// with multilog's words, before any input is read. The first was opened
	// and recovered and is left as it is (current 0644, still being
	// written); the failed Open must not have touched it.
	t.Run("ML28", func(t *testing.T) {
		r, err := mlStart(t, "ML28")
		want := mlFatal(t, r.c)
		if len(r.words) != 2 || r.words[0].word != "./d" || r.words[1].word != "./d" {
			t.Fatalf("script directories %v", r.words)
		}
		if err == nil || err.Error() != want {
			t.Fatalf("second Open: %v; want %q", err, want)
		}
		var re *errtext.Error
		if !errors.As(err, &re) || re.Op != "unable to lock directory" || re.Path != "./d" {
			t.Errorf("error %#v, want an *errtext.Error with Op %q, Path %q", err, "unable to lock directory", "./d")
		}
		if len(r.dirs) != 1 {
			t.Fatalf("%d directories open", len(r.dirs))
		}
		if got := modes(listDir(t, filepath.Join(r.cwd, "d"))); got != "current 0644, lock 0600, state 0644" {
			t.Errorf("the first writer's directory after the failed Open: %s", got)
		}
	})

	// ML29: a status file ("=nodir/st") in a missing directory. Status
	// files are package multilog's (the multilog script-engine issue:
	// "=file" status records, spec §6), not rotate's; the script names no
	// log directory.
	t.Run("ML29", func(t *testing.T) {
		c := conformance.Get(t, "ML29")
		if dirs, others := mlScript(c.Args()); len(dirs) != 0 || !slices.Equal(others, []string{"=nodir/st"}) {
			t.Fatalf("script: directories %v, other words %q", dirs, others)
		}
		// Nothing more for rotate to do: no log directory, nothing to
		// compare here.
		t.Log("ML29 is a status-file case (=nodir/st): tested by package multilog's script engine, not by rotate")
	})

	// ML30: only the last component is created; a missing parent is an
	// error with multilog's words, and nothing is created.
	t.Run("ML30", func(t *testing.T) {
		r, err := mlStart(t, "ML30")
		want := mlFatal(t, r.c)
		if err == nil || err.Error() != want {
			t.Fatalf("Open: %v; want %q", err, want)
		}
		if _, err := os.Lstat(filepath.Join(r.cwd, "nodir")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("nodir: %v; it must not be created", err)
		}
	})

	// ML31: junk "@…" names of 25 bytes or more count against n3; the one
	// below "@z" is deleted as the oldest, "@zzz…" stays and keeps counting,
	// "@short" is not an archive. So one real archive remains, in both
	// programs, beside @short and @zzz…: which files remain is exact. The
	// archive's data is not: multilog's is lines 071–091 with 800 bytes in
	// current (its chunk-dependent cuts, §8.5), taikit's lines 063–083 with
	// 1600 (§18.2).
	t.Run("ML31", func(t *testing.T) {
		r, in := mlRunCase(t, "ML31")
		r.checkContract(t, in, 0, conformance.Contract{CountFromN: true})
		des, _ := os.ReadDir(filepath.Join(r.cwd, "d"))
		var names []string
		for _, de := range des {
			names = append(names, de.Name())
		}
		var want []string
		for _, e := range r.c.Dirs[0].Entries {
			want = append(want, e.Name)
		}
		if got := conformance.MaskNames(names); !slices.Equal(got, want) {
			t.Errorf("entries %q, want %q", got, want)
		}
	})

	// ML32: the caller's umask (077) is ignored. "=st" is a status file,
	// package multilog's: only directory d is compared (exactly), and the
	// directory's own mode, 0700.
	t.Run("ML32", func(t *testing.T) {
		r, _ := mlRunCase(t, "ML32")
		if !slices.Equal(r.others, []string{"=st"}) {
			t.Fatalf("other words %q", r.others)
		}
		r.checkExact(t)
		if st, err := os.Stat(filepath.Join(r.cwd, "d")); err != nil {
			t.Error(err)
		} else if st.Mode().Perm() != 0o700 {
			t.Errorf("directory d has mode %04o; want 0700", st.Mode().Perm())
		}
	})
}
