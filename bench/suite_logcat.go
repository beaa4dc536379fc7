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
			Doc:    "search a log directory for a fixed string: logcat -E 'state=failed' ./d vs cat ./d/@*.s ./d/current | grep -F",
			Corpus: stampedLogCorpus,
			// GNU grep stops at its first match when its output is /dev/null.
			Stdout: StdoutPipe,
			Contenders: []Contender{
				{Name: "taikit", Build: "./cmd/logcat", Args: []string{"-E", "state=failed", "./d"}, Setup: linkLogDir},
				{Name: "cat|grep -F", Path: "/bin/sh", Args: []string{"-c", "cat ./d/@*.s ./d/current | grep -F state=failed"}, Setup: linkLogDir},
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
	)
}

// linkLogDir makes ./d in the run's scratch directory point at the log directory built from
// the corpus, building it the first time.
func linkLogDir(r *Run) error {
	dir, err := corpusLogDir(r.Corpus)
	if err != nil {
		return err
	}
	return os.Symlink(dir, filepath.Join(r.Dir, "d"))
}

// corpusLogDir returns the log directory holding the corpus file's bytes, written by package
// rotate in files of at most 16777215 bytes, building it beside the corpus when missing. A
// "complete" file marks a finished build, so an interrupted one is started again.
func corpusLogDir(corpus string) (string, error) {
	dir := corpus + ".logdir"
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
	d, err := rotate.Open(dir, rotate.Options{MaxSize: 16777215, Keep: 1 << 20})
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
