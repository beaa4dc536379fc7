// Package conformance reads testdata/conformance/cases.txt, the behaviour of
// the real daemontools, s6 and runit programs as observed by
// ../shared/reference/cases.py, so that tests can hold taikit's commands to
// it.
//
// Load parses the file into Cases with every field the automated cases use:
// the command line, the input (Stdin builds it: literals, the "N bytes:"
// expressions and gen_lines), environment, umask, files to create first,
// and the exit code, output and files the real program left. The file shows
// output masked (time stamps, date-times and archive names vary from run to
// run); MaskStamps, MaskDateTimes and MaskNames apply the same masks to a
// new run, and CheckFile, CheckDir, Output.Check and Case.Check compare a run
// with a case exactly as cases.py described it, including the
// "size-only: sha256(masked)=…" form used for files above 300 bytes.
// Case.Prepare and Case.Exec run a program on a case the way cases.py ran
// the real one (fresh directory, stdin a regular file, the case's umask
// and environment).
//
// The procedural cases (P01…, prose run by hand-written scripts) are listed
// by LoadProcedural.
package conformance

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Case is one automated case: a program run on given input in a fresh empty
// directory, and what it left.
type Case struct {
	ID       string // "ML16"
	Title    string // the rest of the header line, without the [verified] tag
	Verified bool   // tagged [verified]: it passed against the real program
	Line     int    // line number of the header in the file

	Argv  []string // Argv[0] is the real program's name ("multilog")
	Env   []string // "NAME=value" settings added to the environment
	Umask int      // 0o022 unless the case states one
	Pre   []Pre    // files and directories created before the run, in order

	StdinSpec string // the stdin field as written
	stdin     []byte

	Exit   int    // exit code; minus the signal number when killed (-11: SIGSEGV)
	Stdout Output // what the program wrote to standard output
	Stderr Output // and to standard error

	Dirs  []DirExpect  // "dir X:" blocks: complete listings of directories
	Files []FileExpect // "file X:" lines: single files (status files)
}

// Stdin returns the bytes the case feeds to the program (a fresh copy).
func (c Case) Stdin() []byte { return bytes.Clone(c.stdin) }

// Args returns the arguments after the program name.
func (c Case) Args() []string { return c.Argv[1:] }

// Getenv returns the value the case sets for name, and whether it sets it.
func (c Case) Getenv(name string) (string, bool) {
	for _, e := range c.Env {
		if n, v, _ := strings.Cut(e, "="); n == name {
			return v, true
		}
	}
	return "", false
}

// Pre is a file or directory created before the run ("pre" line).
type Pre struct {
	Path       string      // relative to the working directory, without a trailing "/"
	Dir        bool        // the path ended in "/"
	Mode       fs.FileMode // set with chmod after creating it
	Content    []byte      // a file's content
	HasContent bool        // content= was given (always for files)
}

// Output is the expected standard output or standard error of a case.
type Output struct {
	// Listed reports whether the case has a stdout/stderr line. cases.py
	// leaves the line out when the program wrote nothing (but always lists
	// the stdout of tai64n and friends), so an unlisted Output expects
	// nothing.
	Listed bool
	Expr   string // the expression as written ("" when not listed)
	Want   []byte // the expected bytes, masked when Masked

	// Masked is false for output marked "(deterministic: not masked)":
	// it must match byte for byte. Otherwise stamps are masked, and also
	// date-times when DateTimes (cases.py masks date-times on stdout but
	// not on stderr).
	Masked    bool
	DateTimes bool
}

// Mask applies to got the masks this expectation was written with.
func (o Output) Mask(got []byte) []byte {
	if !o.Masked {
		return got
	}
	return Mask(got, o.DateTimes)
}

// Check reports how got differs from the expectation, after masking.
func (o Output) Check(got []byte) error {
	if m := o.Mask(got); !bytes.Equal(m, o.Want) {
		return errors.New(describeDiff(o.Want, m))
	}
	return nil
}

// DirExpect is a "dir X:" block: every entry of directory Name (relative
// to the working directory), in ascending order of their real names.
type DirExpect struct {
	Name    string
	Entries []FileExpect
}

// Entry returns the entry named name as listed (masked archive names like
// "@<TAI64N#1>.s"), and whether there is one.
func (d DirExpect) Entry(name string) (FileExpect, bool) {
	for _, e := range d.Entries {
		if e.Name == name {
			return e, true
		}
	}
	return FileExpect{}, false
}

// FileExpect is what a file (a row of a "dir X:" block, or a "file X:"
// line) must be. Content is compared after masking stamps (and date-times
// when DateTimes): either in full (HasContent) or, for files of more than
// 300 bytes in a directory listing, through the size-only summary
// (SizeOnly).
type FileExpect struct {
	Name string      // as listed: archive names masked ("@<TAI64N#2>.u"); for "file X:" the path X
	Dir  bool        // a subdirectory (only its mode is listed)
	Mode fs.FileMode // permission bits, with fs.ModeSetuid etc. for the high bits
	Size int64       // size of the real (unmasked) file

	HasContent bool
	Content    []byte // masked content

	// The size-only summary, computed as cases.py computes it on the
	// masked content m: the first 16 hex digits of sha256(m); the first
	// 60 bytes of the first line and of the last line (the last full line
	// when m ends in a newline); and the number of newlines.
	SHA256Prefix    string
	FirstLinePrefix []byte
	LastLinePrefix  []byte
	Newlines        int

	DateTimes bool   // date-times are masked too (directory rows; not "file X:" lines)
	Desc      string // the content as written: `content="…"`, `size-only: …`, or a file line's expression
	Line      int    // line number in the file
}

// SizeOnly reports whether the content is given by the size-only summary.
func (f FileExpect) SizeOnly() bool { return !f.Dir && !f.HasContent }

// Procedural is a case run by hand-written scripts, described in prose.
type Procedural struct {
	ID       string // "P01"
	Title    string
	Verified bool
	Tag      string // the bracketed tag: "verified", "verified on a 64 KiB tmpfs"
	Body     string // the indented description lines, as written
	Line     int
}

// File is the whole parsed file.
type File struct {
	Cases      []Case
	Procedural []Procedural
}

// Load parses the case file at path and returns its automated cases in file
// order.
func Load(path string) ([]Case, error) {
	f, err := LoadFile(path)
	if err != nil {
		return nil, err
	}
	return f.Cases, nil
}

// LoadProcedural returns the procedural cases (IDs, titles, prose) of the
// case file at path.
func LoadProcedural(path string) ([]Procedural, error) {
	f, err := LoadFile(path)
	if err != nil {
		return nil, err
	}
	return f.Procedural, nil
}

// LoadFile parses the case file at path.
func LoadFile(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s:%w", path, err)
	}
	return f, nil
}

// Find returns the case with the given ID, or the zero Case (ID "") when
// there is none.
func Find(cases []Case, id string) Case {
	for _, c := range cases {
		if c.ID == id {
			return c
		}
	}
	return Case{}
}

// DefaultPath returns the path of testdata/conformance/cases.txt in the
// module that contains the working directory (go test runs tests in their
// package's directory).
func DefaultPath() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "testdata", "conformance", "cases.txt"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("conformance: no go.mod above the working directory")
		}
		dir = parent
	}
}

var defaultFile struct {
	once sync.Once
	f    *File
	err  error
}

// LoadDefault parses the file at DefaultPath, once per process.
func LoadDefault() (*File, error) {
	defaultFile.once.Do(func() {
		path, err := DefaultPath()
		if err != nil {
			defaultFile.err = err
			return
		}
		defaultFile.f, defaultFile.err = LoadFile(path)
	})
	return defaultFile.f, defaultFile.err
}

// Get returns the case with the given ID from the default file, failing the
// test when the file cannot be read or has no such case.
func Get(t testing.TB, id string) Case {
	t.Helper()
	f, err := LoadDefault()
	if err != nil {
		t.Fatal(err)
	}
	c := Find(f.Cases, id)
	if c.ID == "" {
		t.Fatalf("conformance: no case %s", id)
	}
	return c
}

// GenLines returns gen_lines(n, width) as the Conventions define it: line i
// (from 0) is i zero-padded to 3 digits (4 when n > 1000), then "x" up to
// width-1 bytes, then "\n".
func GenLines(n, width int) []byte {
	digits := 3
	if n > 1000 {
		digits = 4
	}
	pad := max(width-1-digits, 0)
	b := make([]byte, 0, n*max(width, digits+1))
	for i := 0; i < n; i++ {
		b = fmt.Appendf(b, "%0*d", digits, i)
		for j := 0; j < pad; j++ {
			b = append(b, 'x')
		}
		b = append(b, '\n')
	}
	return b
}

// ---------------------------------------------------------------- parsing

var (
	headerRE   = regexp.MustCompile(`^### (\S+)\s+(.*?)\s+\[([^\]]*)\]$`)
	fieldRE    = regexp.MustCompile(`^  ([a-z]+)\s*: ?(.*)$`)
	dirRE      = regexp.MustCompile(`^  dir (.+):$`)
	fileRE     = regexp.MustCompile(`^  file (.+?): mode=([0-7]+) size=(\d+)\s+(.*)$`)
	rowDirRE   = regexp.MustCompile(`^      (.+?)\s+dir mode=([0-7]+)$`)
	rowFileRE  = regexp.MustCompile(`^      (.+?)\s+mode=([0-7]+) size=(\d+)\s+(.*)$`)
	preRE      = regexp.MustCompile(`^(.+?) mode=([0-7]+)(?: content=(.*))?$`)
	nBytesRE   = regexp.MustCompile(`^(\d+) bytes: (.*)$`)
	genLinesRE = regexp.MustCompile(`^gen_lines\((\d+)(?:\s*,\s*(?:width=)?(\d+))?\)(.*)$`)
	totalRE    = regexp.MustCompile(`\((\d+) bytes\)\s*$`)
)

const deterministic = "(deterministic: not masked)"

// maxExpr bounds the bytes an expression may build, against typos like
// "x"*1000000000000.
const maxExpr = 1 << 28

type parseError struct {
	line int
	msg  string
}

func (e *parseError) Error() string { return fmt.Sprintf("%d: %s", e.line, e.msg) }

// Parse parses the text of a case file.
func Parse(data []byte) (*File, error) {
	f := &File{}
	lines := strings.Split(string(data), "\n")
	var cur *Case
	var dir *DirExpect
	var proc *Procedural
	procedural := false
	finish := func() error {
		if cur != nil {
			if err := cur.validate(); err != nil {
				return &parseError{cur.Line, cur.ID + ": " + err.Error()}
			}
			f.Cases = append(f.Cases, *cur)
			cur, dir = nil, nil
		}
		if proc != nil {
			proc.Body = strings.TrimRight(proc.Body, "\n")
			f.Procedural = append(f.Procedural, *proc)
			proc = nil
		}
		return nil
	}
	for i, line := range lines {
		n := i + 1
		fail := func(format string, args ...any) (*File, error) {
			return nil, &parseError{n, fmt.Sprintf(format, args...)}
		}
		if strings.HasPrefix(line, "Procedural (") {
			if err := finish(); err != nil {
				return nil, err
			}
			procedural = true
			continue
		}
		if strings.HasPrefix(line, "### ") {
			if err := finish(); err != nil {
				return nil, err
			}
			m := headerRE.FindStringSubmatch(line)
			if m == nil {
				return fail("malformed case header %q", line)
			}
			verified := m[3] == "verified" || strings.HasPrefix(m[3], "verified ")
			if procedural {
				proc = &Procedural{ID: m[1], Title: m[2], Verified: verified, Tag: m[3], Line: n}
			} else {
				cur = &Case{ID: m[1], Title: m[2], Verified: verified, Line: n, Umask: 0o022}
			}
			continue
		}
		switch {
		case proc != nil:
			proc.Body += line + "\n"
			continue
		case cur == nil || strings.TrimSpace(line) == "":
			// The preamble, section rules and blank lines.
			continue
		}
		if strings.HasPrefix(line, "      ") {
			if dir == nil {
				return fail("directory entry outside a dir block")
			}
			e, err := parseRow(line)
			if err != nil {
				return fail("%v", err)
			}
			e.Line = n
			dir.Entries = append(dir.Entries, e)
			continue
		}
		dir = nil
		if m := dirRE.FindStringSubmatch(line); m != nil {
			cur.Dirs = append(cur.Dirs, DirExpect{Name: m[1]})
			dir = &cur.Dirs[len(cur.Dirs)-1]
			continue
		}
		if m := fileRE.FindStringSubmatch(line); m != nil {
			mode, err := parseMode(m[2])
			if err != nil {
				return fail("%v", err)
			}
			content, rest, err := parseExpr(m[4])
			if err != nil {
				return fail("file %s: %v", m[1], err)
			}
			if rest != "" {
				return fail("file %s: unexpected %q after the content", m[1], rest)
			}
			size, _ := strconv.ParseInt(m[3], 10, 64)
			cur.Files = append(cur.Files, FileExpect{Name: m[1], Mode: mode, Size: size,
				HasContent: true, Content: content, Desc: m[4], Line: n})
			continue
		}
		m := fieldRE.FindStringSubmatch(line)
		if m == nil {
			return fail("unrecognised line %q", line)
		}
		if err := cur.setField(m[1], m[2]); err != nil {
			return fail("%s: %v", m[1], err)
		}
	}
	if err := finish(); err != nil {
		return nil, err
	}
	return f, nil
}

func (c *Case) setField(key, v string) error {
	switch key {
	case "argv":
		w, err := SplitWords(v)
		if err != nil {
			return err
		}
		if len(w) == 0 {
			return errors.New("empty command line")
		}
		c.Argv = w
	case "env":
		for _, e := range strings.Fields(v) {
			if !strings.Contains(e, "=") {
				return fmt.Errorf("%q is not NAME=value", e)
			}
			c.Env = append(c.Env, e)
		}
	case "umask":
		u, err := strconv.ParseUint(v, 8, 32)
		if err != nil || u > 0o777 {
			return fmt.Errorf("bad umask %q", v)
		}
		c.Umask = int(u)
	case "pre":
		p, err := parsePre(v)
		if err != nil {
			return err
		}
		c.Pre = append(c.Pre, p)
	case "stdin":
		b, err := parseStdin(v)
		if err != nil {
			return err
		}
		c.StdinSpec, c.stdin = v, b
	case "exit":
		x, err := strconv.Atoi(v)
		if err != nil {
			return err
		}
		c.Exit = x
	case "stdout", "stderr":
		o, err := parseOutput(v)
		if err != nil {
			return err
		}
		if key == "stdout" {
			o.DateTimes = o.Masked
			c.Stdout = o
		} else {
			c.Stderr = o
		}
	default:
		return errors.New("unknown field")
	}
	return nil
}

func (c *Case) validate() error {
	switch {
	case len(c.Argv) == 0:
		return errors.New("no argv")
	case c.StdinSpec == "":
		return errors.New("no stdin")
	}
	// cases.py masks date-times in directory listings: mark their rows.
	for i := range c.Dirs {
		for j := range c.Dirs[i].Entries {
			c.Dirs[i].Entries[j].DateTimes = true
		}
	}
	return nil
}

func parsePre(v string) (Pre, error) {
	m := preRE.FindStringSubmatch(v)
	if m == nil {
		return Pre{}, fmt.Errorf("malformed %q", v)
	}
	mode, err := parseMode(m[2])
	if err != nil {
		return Pre{}, err
	}
	p := Pre{Path: strings.TrimSuffix(m[1], "/"), Dir: strings.HasSuffix(m[1], "/"), Mode: mode}
	if m[3] != "" {
		b, rest, err := parseExpr(m[3])
		if err != nil {
			return Pre{}, err
		}
		if rest != "" {
			return Pre{}, fmt.Errorf("unexpected %q after the content", rest)
		}
		p.Content, p.HasContent = b, true
	}
	if !p.Dir && !p.HasContent {
		return Pre{}, fmt.Errorf("file %s without content", p.Path)
	}
	return p, nil
}

// parseStdin accepts a literal or expression, "N bytes: expression", and
// "gen_lines(N[, width]) … (M bytes)".
func parseStdin(v string) ([]byte, error) {
	if m := nBytesRE.FindStringSubmatch(v); m != nil {
		b, rest, err := parseExpr(m[2])
		if err != nil {
			return nil, err
		}
		if rest != "" {
			return nil, fmt.Errorf("unexpected %q", rest)
		}
		if strconv.Itoa(len(b)) != m[1] {
			return nil, fmt.Errorf("expression gives %d bytes, not %s", len(b), m[1])
		}
		return b, nil
	}
	if m := genLinesRE.FindStringSubmatch(v); m != nil {
		n, err := strconv.Atoi(m[1])
		if err != nil || n > maxExpr/100 {
			return nil, fmt.Errorf("bad line count %q", m[1])
		}
		width := 100
		if m[2] != "" {
			if width, err = strconv.Atoi(m[2]); err != nil || width < 1 || width > 1<<16 {
				return nil, fmt.Errorf("bad width %q", m[2])
			}
		}
		b := GenLines(n, width)
		// The rest is description ("(4-digit index, …)"), except for the
		// total, which must agree.
		if t := totalRE.FindStringSubmatch(m[3]); t != nil && strconv.Itoa(len(b)) != t[1] {
			return nil, fmt.Errorf("gen_lines gives %d bytes, not %s", len(b), t[1])
		}
		return b, nil
	}
	b, rest, err := parseExpr(v)
	if err != nil {
		return nil, err
	}
	if rest != "" {
		return nil, fmt.Errorf("unexpected %q", rest)
	}
	return b, nil
}

func parseOutput(v string) (Output, error) {
	b, rest, err := parseExpr(v)
	if err != nil {
		return Output{}, err
	}
	o := Output{Listed: true, Want: b, Masked: true}
	switch rest {
	case "":
	case deterministic:
		o.Masked = false
	default:
		return Output{}, fmt.Errorf("unexpected %q", rest)
	}
	o.Expr = strings.TrimSpace(strings.TrimSuffix(v, rest))
	return o, nil
}

// parseRow parses a row of a dir block.
func parseRow(line string) (FileExpect, error) {
	if m := rowDirRE.FindStringSubmatch(line); m != nil {
		mode, err := parseMode(m[2])
		return FileExpect{Name: m[1], Dir: true, Mode: mode}, err
	}
	m := rowFileRE.FindStringSubmatch(line)
	if m == nil {
		return FileExpect{}, fmt.Errorf("malformed entry %q", strings.TrimSpace(line))
	}
	mode, err := parseMode(m[2])
	if err != nil {
		return FileExpect{}, err
	}
	e := FileExpect{Name: m[1], Mode: mode, Desc: m[4]}
	e.Size, _ = strconv.ParseInt(m[3], 10, 64)
	rest := m[4]
	if s, ok := strings.CutPrefix(rest, "content="); ok {
		b, after, err := parseExpr(s)
		if err != nil {
			return FileExpect{}, fmt.Errorf("%s: %v", e.Name, err)
		}
		if after != "" {
			return FileExpect{}, fmt.Errorf("%s: unexpected %q", e.Name, after)
		}
		e.Content, e.HasContent = b, true
		return e, nil
	}
	if err := parseSizeOnly(&e, rest); err != nil {
		return FileExpect{}, fmt.Errorf("%s: %v", e.Name, err)
	}
	return e, nil
}

// parseSizeOnly parses
// `size-only: sha256(masked)=HEX first-line-prefix="…" last-line-prefix="…" newlines=N`.
func parseSizeOnly(e *FileExpect, s string) error {
	cut := func(prefix string) error {
		var ok bool
		if s, ok = strings.CutPrefix(s, prefix); !ok {
			return fmt.Errorf("expected %q at %q", prefix, s)
		}
		return nil
	}
	if err := cut("size-only: sha256(masked)="); err != nil {
		return err
	}
	hex, after, _ := strings.Cut(s, " ")
	if hex == "" || strings.Trim(hex, "0123456789abcdef") != "" {
		return fmt.Errorf("bad sha256 prefix %q", hex)
	}
	e.SHA256Prefix, s = hex, " "+after
	var err error
	if err = cut(" first-line-prefix="); err != nil {
		return err
	}
	if e.FirstLinePrefix, s, err = parseLiteralPrefix(s); err != nil {
		return err
	}
	if err = cut(" last-line-prefix="); err != nil {
		return err
	}
	if e.LastLinePrefix, s, err = parseLiteralPrefix(s); err != nil {
		return err
	}
	if err = cut(" newlines="); err != nil {
		return err
	}
	if e.Newlines, err = strconv.Atoi(s); err != nil {
		return fmt.Errorf("bad newline count %q", s)
	}
	return nil
}

func parseLiteralPrefix(s string) ([]byte, string, error) {
	b, n, err := parseLiteral(s)
	if err != nil {
		return nil, "", err
	}
	return b, s[n:], nil
}

func parseMode(s string) (fs.FileMode, error) {
	v, err := strconv.ParseUint(s, 8, 32)
	if err != nil || v > 0o7777 {
		return 0, fmt.Errorf("bad mode %q", s)
	}
	return FileMode(uint32(v)), nil
}

// FileMode converts Unix permission bits (0o7777) to an fs.FileMode.
func FileMode(unix uint32) fs.FileMode {
	m := fs.FileMode(unix & 0o777)
	if unix&0o4000 != 0 {
		m |= fs.ModeSetuid
	}
	if unix&0o2000 != 0 {
		m |= fs.ModeSetgid
	}
	if unix&0o1000 != 0 {
		m |= fs.ModeSticky
	}
	return m
}

// UnixMode returns the Unix permission bits (0o7777) of m, as cases.py's
// stat.S_IMODE shows them.
func UnixMode(m fs.FileMode) uint32 {
	u := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		u |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		u |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		u |= 0o1000
	}
	return u
}

// ---------------------------------------------------------------- strings and expressions

// parseExpr parses an expression at the start of s: terms joined by " + ",
// each a quoted literal optionally repeated ("x"*N). It returns the value and
// what follows the expression, with spaces trimmed.
func parseExpr(s string) (val []byte, rest string, err error) {
	s = strings.TrimLeft(s, " ")
	for {
		lit, n, err := parseLiteral(s)
		if err != nil {
			return nil, "", err
		}
		s = s[n:]
		if after, ok := strings.CutPrefix(s, "*"); ok {
			j := 0
			for j < len(after) && after[j] >= '0' && after[j] <= '9' {
				j++
			}
			count, err := strconv.Atoi(after[:j])
			if err != nil || (len(lit) > 0 && count > maxExpr/len(lit)) {
				return nil, "", fmt.Errorf("bad repeat count at %q", s)
			}
			lit, s = bytes.Repeat(lit, count), after[j:]
		}
		if len(val)+len(lit) > maxExpr {
			return nil, "", errors.New("expression too long")
		}
		val = append(val, lit...)
		t := strings.TrimLeft(s, " ")
		next, ok := strings.CutPrefix(t, "+")
		if !ok || !strings.HasPrefix(strings.TrimLeft(next, " "), `"`) {
			if val == nil {
				val = []byte{}
			}
			return val, strings.TrimSpace(s), nil
		}
		s = strings.TrimLeft(next, " ")
	}
}

// parseLiteral parses the quoted string at the start of s, with the
// escapes cases.py writes (\n, \\, \", \xHH) and \t, \r, \0. It returns the
// value and the number of bytes of s it took.
func parseLiteral(s string) ([]byte, int, error) {
	if !strings.HasPrefix(s, `"`) {
		return nil, 0, fmt.Errorf("expected a quoted string at %q", clip(s))
	}
	b := []byte{}
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return b, i + 1, nil
		case '\\':
			if i+1 >= len(s) {
				return nil, 0, errors.New("unterminated escape")
			}
			i++
			switch e := s[i]; e {
			case 'n':
				b = append(b, '\n')
			case 't':
				b = append(b, '\t')
			case 'r':
				b = append(b, '\r')
			case '0':
				b = append(b, 0)
			case '\\', '"':
				b = append(b, e)
			case 'x':
				if i+2 >= len(s) {
					return nil, 0, errors.New(`short \x escape`)
				}
				v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
				if err != nil {
					return nil, 0, fmt.Errorf(`bad \x escape %q`, s[i-1:i+3])
				}
				b = append(b, byte(v))
				i += 2
			default:
				return nil, 0, fmt.Errorf(`unknown escape \%c`, e)
			}
		default:
			b = append(b, c)
		}
	}
	return nil, 0, fmt.Errorf("unterminated string %q", clip(s))
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// SplitWords splits an argv line into words as a shell would for what the
// file holds: words separated by spaces; "double quotes" with backslash
// escapes (\" and \\ as in the shell, plus the file's \n and \xHH; any other
// backslash is kept, as the shell keeps it), 'single quotes', and a
// backslash outside quotes quoting the next byte. Nothing is expanded:
// "$(wc -c)" stays as written, since it is the program's argument, not the
// shell's.
func SplitWords(s string) ([]string, error) {
	var words []string
	var w []byte
	inWord := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t':
			if inWord {
				words, w, inWord = append(words, string(w)), nil, false
			}
		case '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unterminated single quote")
			}
			w, inWord = append(w, s[i+1:i+1+j]...), true
			i += j + 1
		case '\\':
			if i+1 >= len(s) {
				return nil, errors.New("trailing backslash")
			}
			i++
			w, inWord = append(w, s[i]), true
		case '"':
			inWord = true
			closed := false
			for i++; i < len(s) && !closed; i++ {
				switch d := s[i]; d {
				case '"':
					closed = true
					i-- // the outer loop's i++ steps past the quote
				case '\\':
					if i+1 >= len(s) {
						return nil, errors.New("unterminated double quote")
					}
					switch e := s[i+1]; e {
					case '"', '\\', '$', '`':
						w = append(w, e)
						i++
					case 'n':
						w = append(w, '\n')
						i++
					case 'x':
						v, err := strconv.ParseUint(s[i+2:min(i+4, len(s))], 16, 8)
						if err != nil || i+4 > len(s) {
							return nil, fmt.Errorf(`bad \x escape in %q`, s)
						}
						w = append(w, byte(v))
						i += 3
					default:
						w = append(w, '\\')
					}
				default:
					w = append(w, d)
				}
			}
			if !closed {
				return nil, errors.New("unterminated double quote")
			}
		default:
			w, inWord = append(w, c), true
		}
	}
	if inWord {
		words = append(words, string(w))
	}
	return words, nil
}

// QuoteRuns renders b as the file writes longer values: Quote'd pieces
// joined by " + ", with runs of 8 or more equal bytes written "c"*N
// (cases.py's runs()); "" for no bytes.
func QuoteRuns(b []byte) string {
	var parts []string
	lit := 0 // start of the pending literal
	for i := 0; i < len(b); {
		j := i
		for j < len(b) && b[j] == b[i] {
			j++
		}
		if j-i >= 8 {
			if lit < i {
				parts = append(parts, Quote(b[lit:i]))
			}
			parts = append(parts, Quote(b[i:i+1])+"*"+strconv.Itoa(j-i))
			lit = j
		}
		i = j
	}
	if lit < len(b) {
		parts = append(parts, Quote(b[lit:]))
	}
	if parts == nil {
		return `""`
	}
	return strings.Join(parts, " + ")
}

// Quote renders b as the file writes strings: in double quotes, with \n,
// \\, \" and \xHH for other bytes outside printable ASCII.
func Quote(b []byte) string {
	var s strings.Builder
	s.WriteByte('"')
	for _, c := range b {
		switch {
		case c == '\n':
			s.WriteString(`\n`)
		case c == '\\':
			s.WriteString(`\\`)
		case c == '"':
			s.WriteString(`\"`)
		case c >= 0x20 && c < 0x7f:
			s.WriteByte(c)
		default:
			fmt.Fprintf(&s, `\x%02x`, c)
		}
	}
	s.WriteByte('"')
	return s.String()
}
