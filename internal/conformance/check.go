package conformance

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Summary is the size-only description cases.py gives of a file of more
// than 300 bytes, computed on its masked content m.
type Summary struct {
	SHA256          string // hex sha256 of m (the file lists its first 16 digits)
	FirstLinePrefix []byte // the first 60 bytes of m's first line
	LastLinePrefix  []byte // the first 60 bytes of m's last line: the last full line when m ends in "\n"
	Newlines        int    // newlines in m
}

// Summarize computes the Summary of masked content m, as cases.py's
// describe_content does: lines = m.split("\n"); the last line is lines[-2]
// when m ends in "\n" (and has more than one element), else lines[-1].
func Summarize(m []byte) Summary {
	sum := sha256.Sum256(m)
	lines := bytes.Split(m, []byte("\n"))
	last := lines[len(lines)-1]
	if bytes.HasSuffix(m, []byte("\n")) && len(lines) > 1 {
		last = lines[len(lines)-2]
	}
	return Summary{
		SHA256:          hex.EncodeToString(sum[:]),
		FirstLinePrefix: lines[0][:min(60, len(lines[0]))],
		LastLinePrefix:  last[:min(60, len(last))],
		Newlines:        bytes.Count(m, []byte("\n")),
	}
}

// Describe returns what cases.py writes after a directory row's size for a
// file with this (unmasked) content: `content="…"` up to 300 bytes, else
// the size-only summary.
func Describe(content []byte, dateTimes bool) string {
	m := Mask(content, dateTimes)
	if len(content) <= 300 {
		return "content=" + Quote(m)
	}
	s := Summarize(m)
	return fmt.Sprintf("size-only: sha256(masked)=%s first-line-prefix=%s last-line-prefix=%s newlines=%d",
		s.SHA256[:16], Quote(s.FirstLinePrefix), Quote(s.LastLinePrefix), s.Newlines)
}

// CheckFile reports how a produced file differs from expect: its name,
// whether it is a directory, its permission bits, its size and its content
// after masking (in full, or through the size-only summary).
//
// name is compared with expect.Name; where the expectation shows a masked
// archive name ("@<TAI64N#2>.s"), any real archive name with the same
// suffix is accepted, since which k a name gets depends on the other names
// in its directory (CheckDir checks that).
func CheckFile(expect FileExpect, name string, mode fs.FileMode, content []byte) error {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if name != expect.Name {
		m := placeholderRE.FindStringSubmatch(expect.Name)
		if m == nil || !IsArchiveName(name) || name[25:] != m[1] {
			bad("name %q, want %q", name, expect.Name)
		}
	}
	if mode.IsDir() != expect.Dir {
		bad("is a directory: %v, want %v", mode.IsDir(), expect.Dir)
	}
	if got, want := UnixMode(mode), UnixMode(expect.Mode); got != want {
		bad("mode %04o, want %04o", got, want)
	}
	if !expect.Dir && !mode.IsDir() {
		if int64(len(content)) != expect.Size {
			bad("size %d, want %d", len(content), expect.Size)
		}
		m := Mask(content, expect.DateTimes)
		if expect.HasContent {
			if !bytes.Equal(m, expect.Content) {
				bad("content: %s", describeDiff(expect.Content, m))
			}
		} else {
			s := Summarize(m)
			if expect.SHA256Prefix == "" || !strings.HasPrefix(s.SHA256, expect.SHA256Prefix) {
				bad("sha256(masked) %s, want %s…", s.SHA256[:max(16, len(expect.SHA256Prefix))], expect.SHA256Prefix)
			}
			if !bytes.Equal(s.FirstLinePrefix, expect.FirstLinePrefix) {
				bad("first line starts %s, want %s", Quote(s.FirstLinePrefix), Quote(expect.FirstLinePrefix))
			}
			if !bytes.Equal(s.LastLinePrefix, expect.LastLinePrefix) {
				bad("last line starts %s, want %s", Quote(s.LastLinePrefix), Quote(expect.LastLinePrefix))
			}
			if s.Newlines != expect.Newlines {
				bad("%d newlines, want %d", s.Newlines, expect.Newlines)
			}
		}
	}
	if errs != nil {
		return fmt.Errorf("%s: %s", expect.Name, strings.Join(errs, "; "))
	}
	return nil
}

// CheckDir reports how the directory at path differs from expect: it must
// hold exactly the listed entries (archive names masked and numbered as
// MaskNames does), each passing CheckFile.
func CheckDir(expect DirExpect, path string) error {
	entries, err := os.ReadDir(path)
	if err != nil {
		return fmt.Errorf("dir %s: %w", expect.Name, err)
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	shown := MaskNames(names)
	var errs []error
	var want []string
	for _, e := range expect.Entries {
		want = append(want, e.Name)
	}
	if strings.Join(shown, "\x00") != strings.Join(want, "\x00") {
		errs = append(errs, fmt.Errorf("dir %s: entries %q, want %q", expect.Name, shown, want))
	}
	for i, name := range names {
		e, ok := expect.Entry(shown[i])
		if !ok {
			continue
		}
		p := filepath.Join(path, name)
		info, err := os.Lstat(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var content []byte
		if !info.IsDir() {
			if content, err = os.ReadFile(p); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		if err := CheckFile(e, shown[i], info.Mode(), content); err != nil {
			errs = append(errs, fmt.Errorf("dir %s: %w", expect.Name, err))
		}
	}
	return errors.Join(errs...)
}

// Result is what a run left besides files: its exit code (minus the signal
// number when a signal killed it) and its output.
type Result struct {
	Exit           int
	Stdout, Stderr []byte
}

// Check reports every way a run differs from the case: r holds the exit
// code and output, dir is the working directory it ran in (for the dir
// blocks and file lines).
func (c Case) Check(dir string, r Result) error {
	var errs []error
	if r.Exit != c.Exit {
		errs = append(errs, fmt.Errorf("%s: exit %d, want %d (stderr %s)", c.ID, r.Exit, c.Exit, Quote(r.Stderr)))
	}
	if err := c.Stdout.Check(r.Stdout); err != nil {
		errs = append(errs, fmt.Errorf("%s: stdout: %w", c.ID, err))
	}
	if err := c.Stderr.Check(r.Stderr); err != nil {
		errs = append(errs, fmt.Errorf("%s: stderr: %w", c.ID, err))
	}
	for _, d := range c.Dirs {
		if err := CheckDir(d, filepath.Join(dir, d.Name)); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.ID, err))
		}
	}
	for _, f := range c.Files {
		p := filepath.Join(dir, f.Name)
		info, err := os.Lstat(p)
		var content []byte
		if err == nil && !info.IsDir() {
			content, err = os.ReadFile(p)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: file %s: %w", c.ID, f.Name, err))
			continue
		}
		if err := CheckFile(f, f.Name, info.Mode(), content); err != nil {
			errs = append(errs, fmt.Errorf("%s: file %w", c.ID, err))
		}
	}
	return errors.Join(errs...)
}

// describeDiff says how got differs from want: both in full when short,
// else their lengths and the first difference in context.
func describeDiff(want, got []byte) string {
	if len(want) <= 120 && len(got) <= 120 {
		return fmt.Sprintf("got %s, want %s", Quote(got), Quote(want))
	}
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	lo := max(i-20, 0)
	window := func(b []byte) []byte { return b[min(lo, len(b)):min(i+40, len(b))] }
	return fmt.Sprintf("got %d bytes, want %d; first difference at byte %d: got …%s…, want …%s…",
		len(got), len(want), i, Quote(window(got)), Quote(window(want)))
}
