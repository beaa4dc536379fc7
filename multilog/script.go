package multilog

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/taikit/taikit/filter"
	"github.com/taikit/taikit/rotate"
)

// Stamp says how lines are stamped; the first script word chooses.
type Stamp uint8

const (
	NoStamp     Stamp = iota
	StampTAI64N       // t: "@" + 24 hex digits + space, daemontools' convention
	StampLocal        // T: RFC 3339 local time with offset + space
	StampUTC          // Tu: RFC 3339 UTC ("…Z") + space
)

// Kind is the kind of an action in a script.
type Kind uint8

const (
	Select   Kind = iota // +pattern, g+glob
	Deselect             // -pattern, g-glob
	Alert                // e
	Status               // =file
	Dir                  // ./dir or /dir
	Stdout               // 1
)

// Action is one word of a script that acts on lines, with the settings in
// force at its position.
type Action struct {
	Kind    Kind
	Pattern []byte         // Select/Deselect with a daemontools pattern
	Glob    *filter.Glob   // Select/Deselect with a glob
	Path    string         // Status, Dir: as written in the script
	Prefix  string         // p: written after the stamp, with a space
	Options rotate.Options // Dir: s, n, !, S, R, z at its position
}

// Plan is a parsed script.
type Plan struct {
	Stamp   Stamp
	Actions []Action
	// ReadyFD, when ≥ 0, gets a newline once every directory is open and
	// is then closed (s6-log's -d).
	ReadyFD int
	// Warnings lists the words daemontools' multilog would ignore without a
	// word, each with what to do instead; multilog prints them at start-up.
	Warnings []string
}

// Defaults of the sticky settings, as in daemontools.
const (
	defaultSize = 99999
	defaultNum  = 10
	minSize     = 4096
	maxSize     = 16777215
)

// Parse reads a script, the words multilog takes as its arguments. Every
// word daemontools understands means what it means there; extensions use
// letters daemontools does not (S, R, z, T, p, 1, g, d, L, N), with
// s6-log's or svlogd's letter and meaning where they have the feature. Words daemontools
// ignores are ignored here too, with a warning in Plan.Warnings — and so is
// a malformed extension word, so that every script daemontools runs still
// runs.
func Parse(words []string) *Plan {
	p := &Plan{ReadyFD: -1}
	size, num := int64(defaultSize), defaultNum
	var total int64
	var period time.Duration
	var proc string
	hasProc := false
	var comp rotate.Compression
	policy, minKeep := rotate.Block, 0
	prefix := ""
	warn := func(w, why string) {
		p.Warnings = append(p.Warnings, fmt.Sprintf("script word %q does nothing: %s", w, why))
	}
	for i, w := range words {
		if w == "" {
			warn(w, "it is empty")
			continue
		}
		switch c := w[0]; c {
		case 't':
			if i == 0 {
				p.Stamp = StampTAI64N
			} else {
				warn(w, "t stamps lines only as the first word")
			}
		case 'T':
			switch {
			case i != 0:
				warn(w, "T stamps lines only as the first word")
			case w == "T":
				p.Stamp = StampLocal
			case w == "Tu":
				p.Stamp = StampUTC
			default:
				warn(w, "use T (RFC 3339 local time) or Tu (RFC 3339 UTC) as the first word")
			}
		case '+', '-':
			p.Actions = append(p.Actions, Action{Kind: map[byte]Kind{'+': Select, '-': Deselect}[c], Pattern: []byte(w[1:])})
		case 'g':
			if len(w) < 2 || (w[1] != '+' && w[1] != '-') {
				warn(w, "write g+GLOB to select or g-GLOB to deselect by a glob")
				continue
			}
			g, err := filter.CompileGlob(w[2:])
			if err != nil {
				warn(w, "the glob does not compile: "+err.Error())
				continue
			}
			k := Select
			if w[1] == '-' {
				k = Deselect
			}
			p.Actions = append(p.Actions, Action{Kind: k, Glob: g})
		case 'e':
			p.Actions = append(p.Actions, Action{Kind: Alert, Prefix: prefix})
		case '=':
			p.Actions = append(p.Actions, Action{Kind: Status, Path: w[1:], Prefix: prefix})
		case '1':
			if w != "1" {
				warn(w, "1 (copy to standard output) takes nothing after it")
				continue
			}
			p.Actions = append(p.Actions, Action{Kind: Stdout, Prefix: prefix})
		case 's':
			size = int64(min(max(scanULong(w[1:]), minSize), maxSize))
		case 'n':
			num = int(min(max(scanULong(w[1:]), 2), 1<<31))
		case '!':
			proc, hasProc = w[1:], true
		case 'S':
			v, err := strconv.ParseInt(w[1:], 10, 64)
			if err != nil || v < 0 {
				warn(w, "S takes the most bytes all archives together may hold, e.g. S1000000000")
				continue
			}
			total = v
		case 'R':
			v, err := strconv.ParseInt(w[1:], 10, 64)
			if err != nil || v < 0 || v > 1<<32 {
				warn(w, "R takes seconds, e.g. R86400 to start a new file every day (R0: never)")
				continue
			}
			period = time.Duration(v) * time.Second
		case 'z':
			c, err := parseCompression(w)
			if err != nil {
				warn(w, err.Error())
				continue
			}
			comp = c
		case 'L':
			if w != "L" {
				warn(w, "L (drop what a full disk refuses, and say how much in the log) takes nothing after it")
				continue
			}
			policy = rotate.Lossy
		case 'N':
			v, err := strconv.Atoi(w[1:])
			if err != nil || v < 0 {
				warn(w, "N takes how many archives a full disk may not delete, e.g. N5 (as svlogd's N)")
				continue
			}
			minKeep = v
		case 'p':
			prefix = w[1:]
		case 'd':
			fd, err := strconv.Atoi(w[1:])
			if err != nil || fd < 3 {
				warn(w, "d takes a descriptor of 3 or more to write a newline to when ready, e.g. d3")
				continue
			}
			p.ReadyFD = fd
		case '.', '/':
			o := rotate.Options{MaxSize: size, Keep: num, MaxTotal: total, Period: period,
				Processor: proc, HasProcessor: hasProc, Compression: comp, Policy: policy, MinKeep: minKeep, Name: w}
			if hasProc && comp.Method != rotate.NoCompression {
				// As in daemontools, where z means nothing, the processor runs.
				p.Warnings = append(p.Warnings, "compression (z) is off for "+w+": it has a processor (!), which can compress by itself")
				o.Compression = rotate.Compression{}
			}
			p.Actions = append(p.Actions, Action{Kind: Dir, Path: w, Prefix: prefix, Options: o})
		default:
			warn(w, fmt.Sprintf("multilog has no action starting with %q; a directory must start with . or /", c))
		}
	}
	return p
}

// scanULong reads decimal digits up to the first other byte, as
// daemontools' scan_ulong: no digits is 0, and overlong numbers wrap as an
// unsigned long does.
func scanULong(s string) uint64 {
	var v uint64
	for i := 0; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		v = v*10 + uint64(s[i]-'0')
	}
	return v
}

// parseCompression reads a z word: z (zstd, fastest level), zN (zstd level
// N), zg (gzip, fastest), zgN (gzip level N), z0 (none, to turn it off for
// later directories).
func parseCompression(w string) (rotate.Compression, error) {
	bad := func() (rotate.Compression, error) {
		return rotate.Compression{}, fmt.Errorf("write z (zstd), z1–z22 (zstd level), zg (gzip), zg1–zg9 (gzip level) or z0 (none)")
	}
	rest, method := w[1:], rotate.Zstd
	if strings.HasPrefix(rest, "g") {
		rest, method = rest[1:], rotate.Gzip
	}
	level := 0
	if rest != "" {
		v, err := strconv.Atoi(rest)
		if err != nil {
			return bad()
		}
		level = v
	}
	switch {
	case method == rotate.Zstd && level == 0 && rest == "0":
		return rotate.Compression{}, nil
	case method == rotate.Zstd && (level < 0 || level > 22), method == rotate.Gzip && (level < 0 || level > 9):
		return bad()
	}
	return rotate.Compression{Method: method, Level: level}, nil
}
