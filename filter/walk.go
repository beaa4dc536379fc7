package filter

import (
	"bytes"
	"math/bits"
)

// Rule is one select or deselect word of a script: "+pattern" or
// "-pattern" (Pattern, matched with [Match]), or multilog's extension
// "g+glob" or "g-glob" (Glob).
type Rule struct {
	// Select is true for a "+" rule (select the line when it matches),
	// false for a "-" rule (deselect it).
	Select bool

	// Pattern is the multilog pattern, used when Glob is nil. An empty or
	// nil Pattern is the empty pattern, which matches only the empty
	// window.
	Pattern []byte

	// Glob, when not nil, makes this a glob rule; Pattern is then ignored.
	Glob *Glob
}

// Match reports whether the rule's pattern or glob matches window.
func (r *Rule) Match(window []byte) bool {
	if r.Glob != nil {
		return r.Glob.Match(window)
	}
	return Match(r.Pattern, window)
}

// matchesAll reports whether the rule matches every window.
func (r *Rule) matchesAll() bool {
	if r.Glob != nil {
		return r.Glob.matchesAll()
	}
	return len(r.Pattern) == 1 && r.Pattern[0] == '*'
}

// Step is one position of a script's walk: a rule, or (Rule nil) a mark,
// the position of an action that acts on selected lines (an alert, a
// status file, a directory, standard output).
type Step struct {
	Rule *Rule
}

// Walk is a script's selection walk (multilog's section 3.1): each line
// starts selected; walking the steps left to right, a select rule selects
// the line if it is deselected and the rule matches, a deselect rule
// deselects it if it is selected and the rule matches, and each mark sees
// the selection at its position. So a mark is selected exactly when the
// last rule before it that matched selects (or no rule before it matched).
//
// A Walk is immutable and safe for concurrent use.
type Walk struct {
	ops     []op
	marks   int
	trivial bool
}

type opKind uint8

const (
	opMark    opKind = iota // append the selection
	opSet                   // a rule that matches every window
	opPattern               // a multilog pattern rule
	opGlob                  // a glob rule
	opAny                   // consecutive pattern rules of one sign
)

type op struct {
	// What eval reads for every line first, together.
	kind opKind
	sel  bool
	// An opAny whose beginning starts with an earlier opAny's beginning
	// continues from where that one got: reuse is the earlier one's slot
	// (reusing its prefix, reusePrefix), tail what follows it here. slot,
	// when ≥ 0, is where this op leaves where its own beginning got.
	slot, reuse int8
	tailP       prog // opAny: tail compiled
	// opAny with at most 64 rests: for each byte, which rests can match a window going on
	// with it (a bit per rest), and which rests begin with a star and must always be tried.
	// Most lines then try no rest at all.
	first  *[256]uint64
	always uint64

	pattern     []byte   // opPattern; opAny: the beginning all its patterns share
	rests       [][]byte // opAny: each pattern after that beginning
	parts       []prog   // opAny: each rest, compiled
	begin       prog     // opAny: pattern compiled (reusePrefix when reuse ≥ 0)
	glob        *Glob
	reusePrefix []byte
	tail        []byte
}

// maxSlots bounds the beginnings an Eval remembers.
const maxSlots = 8

// NewWalk returns the walk over steps. It copies the patterns, but shares
// the Globs (which are immutable).
//
// Rules that can never change a mark's selection are dropped: a select
// rule where the line is always selected (any before the first deselect
// rule), a deselect rule where it is always deselected (after "-*"), and
// the rules after the last mark.
func NewWalk(steps []Step) *Walk {
	w := &Walk{}
	// The selections possible at the current position: canSel, canDesel.
	canSel, canDesel := true, false
	trivial := true
	lastMark := -1
	for i, s := range steps {
		if s.Rule == nil {
			lastMark = i
		}
	}
	for _, s := range steps[:lastMark+1] {
		r := s.Rule
		if r == nil {
			w.ops = append(w.ops, op{kind: opMark})
			w.marks++
			if canDesel {
				trivial = false
			}
			continue
		}
		if r.Select && !canDesel || !r.Select && !canSel {
			continue // the rule is never evaluated
		}
		o := op{sel: r.Select}
		switch {
		case r.matchesAll():
			o.kind = opSet
			canSel, canDesel = r.Select, !r.Select
		case r.Glob != nil:
			o.kind, o.glob = opGlob, r.Glob
			canSel, canDesel = true, true
		default:
			o.kind, o.pattern = opPattern, bytes.Clone(r.Pattern)
			canSel, canDesel = true, true
		}
		w.ops = append(w.ops, o)
	}
	w.trivial = trivial
	w.ops = shareBeginnings(groupRuns(w.ops))
	for i := range w.ops {
		o := &w.ops[i]
		for _, r := range o.rests {
			p, _ := compile(r, nil)
			o.parts = append(o.parts, p)
		}
		if o.kind == opAny {
			if o.reuse >= 0 {
				o.begin, _ = compile(o.reusePrefix, nil)
			} else {
				o.begin, _ = compile(o.pattern, nil)
			}
			o.tailP, _ = compile(o.tail, nil)
		}
		if o.kind == opAny && len(o.rests) <= 64 {
			o.first = new([256]uint64)
			for j, r := range o.rests {
				if len(o.parts[j].head.b) == 0 {
					o.always |= 1 << j
				} else {
					o.first[r[0]] |= 1 << j
				}
			}
		}
	}
	return w
}

// shareBeginnings makes every pattern rule an opAny (a lone pattern is a
// run of one) and links each to the longest beginning of an earlier one
// that its own beginning starts with, so that in "-* * a*" ... "+* * b*"
// the stamp and the program name are skipped once per line.
func shareBeginnings(ops []op) []op {
	for k := range ops {
		o := &ops[k]
		o.slot, o.reuse = -1, -1
		if o.kind == opPattern {
			prefix := o.pattern
			for len(prefix) > 0 && prefix[len(prefix)-1] == '*' {
				prefix = prefix[:len(prefix)-1]
			}
			o.kind, o.rests, o.pattern = opAny, [][]byte{o.pattern[len(prefix):]}, prefix
		}
	}
	slots := int8(0)
	for k := range ops {
		o := &ops[k]
		if o.kind != opAny {
			continue
		}
		best := -1
		for j := 0; j < k; j++ {
			p := ops[j]
			if p.kind == opAny && len(p.pattern) > 0 && bytes.HasPrefix(o.pattern, p.pattern) &&
				(best < 0 || len(p.pattern) > len(ops[best].pattern)) {
				best = j
			}
		}
		if best < 0 {
			continue
		}
		if ops[best].slot < 0 {
			if slots == maxSlots {
				continue
			}
			ops[best].slot, slots = slots, slots+1
		}
		o.reuse, o.reusePrefix, o.tail = ops[best].slot, ops[best].pattern, o.pattern[len(ops[best].pattern):]
	}
	return ops
}

// groupRuns merges consecutive pattern rules of the same sign into one op.
// Within such a run the selection cannot change back, so the run acts
// exactly when any of its patterns matches; and scripts tend to repeat a
// beginning ("-* * ..." skips the stamp and the program name), which the
// merged op matches once per line instead of once per rule.
func groupRuns(ops []op) []op {
	var out []op
	for i := 0; i < len(ops); {
		j := i + 1
		for j < len(ops) && ops[i].kind == opPattern && ops[j].kind == opPattern && ops[j].sel == ops[i].sel {
			j++
		}
		if j-i < 2 {
			out = append(out, ops[i])
			i++
			continue
		}
		prefix := ops[i].pattern
		for _, o := range ops[i+1 : j] {
			n := 0
			for n < len(prefix) && n < len(o.pattern) && prefix[n] == o.pattern[n] {
				n++
			}
			prefix = prefix[:n]
		}
		// A star's skip depends on the byte after it, so the shared part
		// must not end with one.
		for len(prefix) > 0 && prefix[len(prefix)-1] == '*' {
			prefix = prefix[:len(prefix)-1]
		}
		g := op{kind: opAny, sel: ops[i].sel, pattern: prefix}
		for _, o := range ops[i:j] {
			g.rests = append(g.rests, o.pattern[len(prefix):])
		}
		out = append(out, g)
		i = j
	}
	return out
}

// Marks returns the number of marks: how many values Eval appends.
func (w *Walk) Marks() int { return w.marks }

// Trivial reports whether every mark selects every line: there are no
// rules (or none that can deselect a line at a mark), so the caller need
// not build windows for the walk.
func (w *Walk) Trivial() bool { return w.trivial }

// Eval walks the steps for the line whose window (the bytes the rules see)
// is window, and appends to selected, for each mark in order, whether the
// line is selected there. A rule is evaluated only when it could change
// the selection. Eval does not allocate when selected has room for
// [Walk.Marks] more values.
func (w *Walk) Eval(window []byte, selected []bool) []bool {
	return w.evalBools(window, nil, selected)
}

// EvalBits is [Walk.Eval] with the selections at the first 64 marks as
// the bits of a word, bit k for mark k (a walk of more marks is for Eval):
// where a caller acts on the selected marks only, a word is cheaper to
// make and to go through than a slice.
func (w *Walk) EvalBits(window []byte) uint64 {
	return w.walk(window, nil, 0)
}

// Prefix is what a Walk has worked out, with [Walk.Prepare], about every
// window that begins with the same bytes: multilog's time stamp, shared
// by every line of a read. With it, [Walk.EvalText] evaluates a line on
// the bytes after the stamp, which multilog then need not copy behind a
// stamp to make a window. The zero Prefix is the empty beginning.
type Prefix struct {
	ok bool
	// begin holds, per op, what is left of its beginning (an op sharing an
	// earlier beginning: of that one) for the text to match.
	begin []prog
	arena []seg // begin's segments, reused by the next Prepare
}

// OK reports whether [Walk.EvalText] can use p: false when some rule
// looks at the beginning in a way that needs the whole window (a glob, or
// a pattern whose shared beginning ends inside it), and the caller must
// build the window and use [Walk.Eval].
func (p *Prefix) OK() bool { return p.ok }

// Prepare works out p for windows that begin with prefix. It allocates
// only when p is used for a Walk with more rules than before.
func (w *Walk) Prepare(p *Prefix, prefix []byte) {
	p.ok = true
	p.begin, p.arena = p.begin[:0], p.arena[:0]
	for i := range w.ops {
		o := &w.ops[i]
		var b prog
		switch o.kind {
		case opGlob:
			p.ok = p.ok && len(prefix) == 0
		case opAny:
			pat := o.pattern
			if o.reuse >= 0 {
				pat = o.reusePrefix
			}
			k, ok := advancePrefix(pat, prefix)
			p.ok = p.ok && ok
			switch {
			case k < 0:
				b.never = true
			case k == 0:
				b = o.begin
			default:
				b, p.arena = compile(pat[k:], p.arena)
			}
		}
		p.begin = append(p.begin, b)
	}
}

// advancePrefix matches pattern, which must not end with '*', against a
// window that begins with prefix, as far as prefix decides it: it returns
// how much of pattern is matched by prefix (the rest is matched from the
// start of what follows it), or -1 if no such window matches. It reports
// false when pattern ends inside prefix, before its end.
func advancePrefix(pattern, prefix []byte) (int32, bool) {
	pos, k := 0, 0
	for k < len(pattern) {
		if pos == len(prefix) {
			return int32(k), true
		}
		c := pattern[k]
		if c != '*' {
			if prefix[pos] != c {
				return -1, true
			}
			pos, k = pos+1, k+1
			continue
		}
		i := bytes.IndexByte(prefix[pos:], pattern[k+1])
		if i < 0 {
			// The star's skip goes on after the prefix: the star is
			// still to be matched there.
			return int32(k), true
		}
		pos, k = pos+i, k+1
	}
	return int32(k), pos == len(prefix)
}

// EvalText is [Walk.Eval] for the window made of the beginning p was
// prepared with followed by text; p must be OK.
func (w *Walk) EvalText(p *Prefix, text []byte, selected []bool) []bool {
	return w.evalBools(text, p.begin, selected)
}

// EvalTextBits is [Walk.EvalBits] for the window made of the beginning p
// was prepared with followed by text; p must be OK.
func (w *Walk) EvalTextBits(p *Prefix, text []byte) uint64 {
	return w.walk(text, p.begin, 0)
}

// evalBools is walk with every selection appended to selected: a walk
// for each 64 marks, since scripts of more than 64 actions are rare
// enough that the walk keeps a word, not a slice, in its loop.
func (w *Walk) evalBools(window []byte, begin []prog, selected []bool) []bool {
	for skip := 0; skip < w.marks; skip += 64 {
		word := w.walk(window, begin, skip)
		for k := range min(w.marks-skip, 64) {
			selected = append(selected, word&(1<<k) != 0)
		}
	}
	return selected
}

// walk walks window, whose part before it begin says how each op's
// beginning matched (nil: there is none), and returns the selections at
// marks skip to skip+63 as bits.
func (w *Walk) walk(window []byte, begin []prog, skip int) uint64 {
	sel := true
	var word uint64
	// mark is the mark's number less skip, as a uint: a mark before skip
	// has one of 64 or more, as a mark 64 after it has, and its bit is
	// shifted out.
	mark := -uint(skip)
	var b beginnings
	for i := range w.ops {
		o := &w.ops[i]
		switch {
		case o.kind == opMark:
			if sel {
				word |= 1 << mark
			}
			mark++
		case sel == o.sel:
			// The rule cannot change the selection.
		case o.kind == opSet:
			sel = o.sel
		case o.kind == opAny:
			if o.reuse >= 0 && o.slot < 0 && b.have&(1<<o.reuse) != 0 {
				// Where the shared beginning got is known, and most lines
				// fail on the literal the tail begins with: seen here,
				// without a call (an op whose own beginning a later one
				// reuses goes through any, which records it).
				if pos := int(b.at[o.reuse]); pos < 0 || !o.tailP.head.at(window, pos) {
					continue
				}
			}
			bp := &o.begin
			if begin != nil {
				bp = &begin[i]
			}
			if o.reuse < 0 && o.first != nil {
				// The most common op, a run of rules after a beginning of
				// their own, with few enough rests for a first-byte table:
				// most lines have no rest that can begin with their next
				// byte, decided here, without a call.
				var pos int
				if bp.shape == skipTo { // "* " skipping a field
					if pos = bytes.IndexByte(window, bp.segs[0].c); pos >= 0 {
						pos++
					}
				} else {
					pos = bp.advance(window, 0)
				}
				if o.slot >= 0 {
					b.at[o.slot], b.have = int32(pos), b.have|uint8(1)<<o.slot
				}
				if pos < 0 {
					continue
				}
				try := o.always
				if pos < len(window) {
					try |= o.first[window[pos]]
				}
				if try != 0 && o.tryParts(window[pos:], try) {
					sel = o.sel
				}
				continue
			}
			if o.any(window, bp, &b) {
				sel = o.sel
			}
		default:
			if o.glob.Match(window) {
				sel = o.sel
			}
		}
	}
	return word
}

// beginnings holds, for one window, where the shared beginnings of opAny
// ops got (-1: they do not match), for the later ops that reuse them.
type beginnings struct {
	at   [maxSlots]int32
	have uint8
}

// any reports whether any pattern of an opAny matches window, which
// must match begin first: the op's beginning (an op sharing an earlier
// beginning: that one), or what is left of it after a prefix.
func (o *op) any(window []byte, begin *prog, b *beginnings) bool {
	var pos int
	if o.reuse >= 0 {
		bit := uint8(1) << o.reuse
		if b.have&bit == 0 { // that op was not evaluated for this line
			b.at[o.reuse], b.have = int32(begin.advance(window, 0)), b.have|bit
		}
		pos = int(b.at[o.reuse])
		// Most lines fail on the literal the tail begins with (walk has
		// seen it already when the beginning was known and no later op
		// reuses this one's).
		if pos >= 0 && o.tailP.head.at(window, pos) {
			pos = o.tailP.advance(window, pos)
		} else {
			pos = -1
		}
	} else {
		pos = begin.advance(window, 0) // walk has the common case inline
	}
	if o.slot >= 0 {
		b.at[o.slot], b.have = int32(pos), b.have|uint8(1)<<o.slot
	}
	if pos < 0 {
		return false
	}
	rest := window[pos:]
	if o.first == nil {
		for j := range o.parts {
			if o.parts[j].match(rest) {
				return true
			}
		}
		return false
	}
	try := o.always
	if len(rest) > 0 {
		try |= o.first[rest[0]]
	}
	return try != 0 && o.tryParts(rest, try)
}

// tryParts reports whether any of the parts try names (a bit per part)
// matches rest.
func (o *op) tryParts(rest []byte, try uint64) bool {
	for ; try != 0; try &= try - 1 {
		p := &o.parts[bits.TrailingZeros64(try)]
		if !p.head.at(rest, 0) {
			continue // most candidates fail here: no call
		}
		if p.shape == literalAny || p.match(rest) {
			return true
		}
	}
	return false
}
