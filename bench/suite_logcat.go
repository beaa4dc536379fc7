package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/taikit/taikit/rotate"
)

// The logcat suites read a log directory holding exactly the corpus, cut into 16 MB archives
// as multilog would cut it, so that MB/s counts the bytes scanned. The directory is built once
// per corpus beside the cached corpus file and kept; each run sees it as ./d. For the 1 GB
// directory of the target, run with -lines 11000000.
func init() {
	suites = append(suites,
		Suite{
			Name:   "logcat-grep",
			Doc:    "search a log directory for a fixed string: logcat -E 'state=failed' ./d vs rg -F and grep -F on its files",
			Corpus: stampedLogCorpus,
			// GNU grep stops at its first match when its output is /dev/null.
			Stdout: StdoutPipe,
			Contenders: []Contender{
				{Name: "taikit", Build: "./cmd/logcat", Args: []string{"-E", "state=failed", "./d"}, Setup: linkLogDir},
				// ripgrep searches the files of ./d on every core, in no set order.
				{Name: "rg -F", Path: "/usr/bin/rg", Args: []string{"-F", "--no-filename", "state=failed", "./d"}, Setup: linkLogDir},
				{Name: "grep -F", Path: "/bin/sh", Args: []string{"-c", "grep -hF state=failed ./d/@*.s ./d/current"}, Setup: linkLogDir},
			},
		},
		Suite{
			Name:   "logcat-pattern",
			Doc:    "the same search as a multilog pattern: logcat -p '+* worker-*: job=* queue=* state=failed *' ./d",
			Corpus: stampedLogCorpus,
			Stdout: StdoutPipe,
			Contenders: []Contender{
				{Name: "taikit", Build: "./cmd/logcat", Args: []string{"-p", "+* worker-*: job=* queue=* state=failed *", "./d"}, Setup: linkLogDir},
				{Name: "cat|grep -F", Path: "/bin/sh", Args: []string{"-c", "cat ./d/@*.s ./d/current | grep -F state=failed"}, Setup: linkLogDir},
			},
		},
		Suite{
			Name:   "logcat-cat",
			Doc:    "the whole directory as one stream: logcat ./d vs cat ./d/@*.s ./d/current",
			Corpus: stampedLogCorpus,
			Stdout: StdoutPipe,
			Contenders: []Contender{
				{Name: "taikit", Build: "./cmd/logcat", Args: []string{"./d"}, Setup: linkLogDir},
				{Name: "cat", Path: "/bin/sh", Args: []string{"-c", "cat ./d/@*.s ./d/current"}, Setup: linkLogDir},
			},
		},
		Suite{
			Name: "logcat-zstd",
			Doc:  "search the same directory with zstd archives: logcat -E vs zstdcat | rg -F and rg -z",
			// The archives, zstd at its fastest level as multilog's z writes them; ./z holds
			// links to them named *.zst, since rg -z tells compression by the file's name.
			Corpus: stampedLogCorpus,
			Stdout: StdoutPipe,
			Contenders: []Contender{
				{Name: "taikit", Build: "./cmd/logcat", Args: []string{"-E", "state=failed", "./d"}, Setup: linkZstdDir},
				{Name: "zstdcat|rg -F", Path: "/bin/sh", Args: []string{"-c", "zstdcat -qf ./d/@*.s ./d/current | rg -F state=failed"}, Setup: linkZstdDir},
				{Name: "rg -z -F", Path: "/usr/bin/rg", Args: []string{"-z", "-F", "--no-filename", "state=failed", "./z"}, Setup: linkZstdDir},
			},
		},
		Suite{
			Name:   "logcat-count",
			Doc:    "count the matches: logcat -c -E 'state=failed' ./d vs grep -cF",
			Corpus: stampedLogCorpus,
			Stdout: StdoutPipe,
			Contenders: []Contender{
				{Name: "taikit", Build: "./cmd/logcat", Args: []string{"-c", "-E", "state=failed", "./d"}, Setup: linkLogDir},
				{Name: "cat|grep -cF", Path: "/bin/sh", Args: []string{"-c", "cat ./d/@*.s ./d/current | grep -cF state=failed"}, Setup: linkLogDir},
			},
		},
		Suite{
			Name:   "logcat-rate",
			Doc:    "the matches per minute: logcat --rate -E 'state=failed' ./d (compare with logcat-count's taikit)",
			Corpus: stampedLogCorpus,
			Stdout: StdoutPipe,
			Contenders: []Contender{
				{Name: "taikit", Build: "./cmd/logcat", Args: []string{"--rate", "-E", "state=failed", "./d"}, Setup: linkLogDir},
				{Name: "cat|grep -cF", Path: "/bin/sh", Args: []string{"-c", "cat ./d/@*.s ./d/current | grep -cF state=failed"}, Setup: linkLogDir},
			},
		},
	)
}

// linkLogDir makes ./d in the run's scratch directory point at the log directory built from
// the corpus, building it the first time.
func linkLogDir(r *Run) error {
	dir, err := corpusLogDir(r.Corpus, rotate.Compression{})
	if err != nil {
		return err
	}
	return os.Symlink(dir, filepath.Join(r.Dir, "d"))
}

// linkZstdDir is linkLogDir for the directory with zstd archives, and makes ./z: a hard
// link named NAME.zst to each archive and one to current, for rg -z (on the same file
// system as the cache, as the scratch directories are).
func linkZstdDir(r *Run) error {
	dir, err := corpusLogDir(r.Corpus, rotate.Compression{Method: rotate.Zstd})
	if err != nil {
		return err
	}
	if err := os.Symlink(dir, filepath.Join(r.Dir, "d")); err != nil {
		return err
	}
	z := filepath.Join(r.Dir, "z")
	if err := os.Mkdir(z, 0o755); err != nil {
		return err
	}
	archives, err := filepath.Glob(filepath.Join(dir, "@*.s"))
	if err != nil {
		return err
	}
	// Hard links: zstd, which rg -z runs for each file, skips symbolic links.
	for _, a := range append(archives, filepath.Join(dir, "current")) {
		name := filepath.Base(a)
		if name != "current" {
			name += ".zst"
		}
		if err := os.Link(a, filepath.Join(z, name)); err != nil {
			return err
		}
	}
	return nil
}

// corpusLogDir returns the log directory holding the corpus file's bytes, written by package
// rotate in files of at most 16777215 bytes (archives compressed with comp), building it
// beside the corpus when missing. A "complete" file marks a finished build, so an interrupted
// one is started again.
func corpusLogDir(corpus string, comp rotate.Compression) (string, error) {
	dir := corpus + ".logdir"
	if comp.Method != rotate.NoCompression {
		dir += "-" + comp.Method.String()
	}
	if _, err := os.Stat(filepath.Join(dir, "complete")); err == nil {
		return dir, nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	fmt.Fprintf(os.Stderr, "building the log directory %s from the corpus (once)\n", dir)
	f, err := os.Open(corpus)
	if err != nil {
		return "", err
	}
	defer f.Close()
	d, err := rotate.Open(dir, rotate.Options{MaxSize: 16777215, Keep: 1 << 20, Compression: comp})
	if err != nil {
		return "", err
	}
	if _, err := io.CopyBuffer(d, f, make([]byte, 1<<20)); err != nil {
		d.Close()
		return "", err
	}
	if err := d.Close(); err != nil {
		return "", err
	}
	return dir, os.WriteFile(filepath.Join(dir, "complete"), nil, 0o644)
}
