package logread

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/taikit/taikit/tai64n"
)

// GapError reports data that the stream skips because the directory no
// longer holds it: files pruned (by the writer's retention, or by hand)
// before the Reader could read them. It does not end the stream. The
// Reader gives it to Options.OnError (or keeps it for Errors) once it
// knows where the stream goes on: just before the first line after the
// gap, or before it waits or ends when nothing comes after yet. Then
// reading goes on with what exists.
//
// # What a Reader can know
//
// Writers prune the oldest archives first. So while any file that the
// Reader has read (or passed) is still in the directory, nothing after it
// was pruned; and while a file it has seen but not read yet is still
// there, so is everything after it. A gap is found when the Reader comes
// to a file it saw listed and finds it gone (Files: named, with its size
// when it was seen), when a file it saw ahead is gone while a later one is
// still there (Files too), or when a Cursor's file is gone (Cursor: how
// much of it had been read; the rest is unknown).
//
// When every file the Reader knew around its position is gone, the
// directory no longer says what came in between. A follower (Follow, with
// inotify) then asks its history: the archives that inotify reported
// created since it opened the file it was reading, in order. Their first
// ones are the archives of the files it read; those after them, up to the
// first archive left, were pruned unread, and are named in Files (their
// sizes unknown); when there are none, nothing was lost and no gap is
// reported, even when a writer rotated twice and pruned while the Reader
// finished one file with retention that keeps a single archive.
//
// Without that history (a Reader that does not follow or resumed from a
// Cursor, no inotify, events lost because the kernel's queue overflowed)
// the Reader has lost track: files it never saw may have been written and
// pruned in between, and the directory does not say how many (Unknown).
// This is what a Reader started again after a long stop sees, and it may
// be reported when nothing was lost; so may it after a processor that
// changes the data (rather than compressing it) replaced a file the
// Reader did not see it work on.
type GapError struct {
	// Dir is the directory as named (Options.Name).
	Dir string

	// Last is the file the stream was in before the gap, by the name it
	// had when the Reader opened it ("@4000….s", "previous", "processed",
	// "current"); "" when nothing was read before the gap (a Reader that
	// resumed from a Cursor). LastStamp is the last stamp read before the
	// gap; zero when none was.
	Last      string
	LastStamp tai64n.Label

	// Cursor, when not nil, is the file the Cursor the Reader started from
	// stood in, which it could not find again.
	Cursor *GapFile

	// Files are the files the Reader had seen, not read, and found gone
	// when it came to them, oldest first.
	Files []GapFile

	// Unknown says that files the Reader never saw may have been pruned
	// too: how many, if any, it cannot tell.
	Unknown bool

	// Next is the file the stream goes on with, by the name it has now; ""
	// when nothing comes after the gap yet (the Reader ended, or waits).
	// NextStamp is the stamp of the first line after the gap, zero when it
	// has none or there is no such line yet.
	Next      string
	NextStamp tai64n.Label
}

// GapFile is a file of a gap.
type GapFile struct {
	// Name is the file's name when the Reader saw it: an archive
	// ("@4000….s"; for a Cursor's archive, its label "@4000…"), or
	// "previous", "processed" or "current" for a file not archived yet.
	Name string
	// Size is its size on disk when the Reader last saw it (compressed
	// bytes for a compressed archive), or -1 when unknown.
	Size int64
	// Growing says that the file was "current" then, and may have grown
	// after: Size is a lower bound.
	Growing bool
	// Read is how much of it (in decompressed bytes) the stream had given
	// before the gap: a Cursor's offset in it.
	Read int64
}

// Lost returns the number of bytes the gap is known to skip (the sizes of
// Files) and whether that is all of it: complete is false when the gap
// holds an unknown part (Unknown, a Cursor's file, a size unknown or still
// growing).
func (g *GapError) Lost() (n int64, complete bool) {
	complete = !g.Unknown && g.Cursor == nil
	for _, f := range g.Files {
		if f.Size < 0 || f.Growing {
			complete = false
		}
		if f.Size > 0 {
			n += f.Size
		}
	}
	return n, complete
}

// Error words the gap in one line, for programs that do not word it
// themselves:
//
//	gap in ./main: 2 files pruned before they were read: @4000….s (4079 bytes), @4000….s (4090 bytes); reading goes on in @4000….s
func (g *GapError) Error() string {
	var b strings.Builder
	b.WriteString("gap in " + g.Dir + ": ")
	var parts []string
	if c := g.Cursor; c != nil {
		parts = append(parts, "the cursor's file ("+c.Name+", "+strconv.FormatInt(c.Read, 10)+
			" bytes into it) was pruned before the rest of it was read")
	}
	if n := len(g.Files); n > 0 {
		p := strconv.Itoa(n) + " files pruned before they were read: "
		if n == 1 {
			p = "1 file pruned before it was read: "
		}
		for i, f := range g.Files {
			if n > 3 && i > 0 && i < n-1 {
				continue // of many (a follower stopped for long), the first and the last
			}
			if i > 0 {
				p += ", "
				if n > 3 {
					p += "… "
				}
			}
			p += f.Name + " (" + f.SizeText() + ")"
		}
		parts = append(parts, p)
	}
	if g.Unknown {
		after := "the last file read"
		if g.Last != "" {
			after = g.Last
		}
		if g.Cursor != nil {
			after = "it"
		}
		parts = append(parts, "files after "+after+" may have been pruned before they were read (how many is unknown)")
	}
	b.WriteString(strings.Join(parts, "; "))
	if g.Next != "" {
		b.WriteString("; reading goes on in " + g.Next)
	} else {
		b.WriteString("; nothing after it yet")
	}
	return b.String()
}

// SizeText words Size: "4079 bytes", "at least 120 bytes", "size unknown".
func (f GapFile) SizeText() string {
	switch {
	case f.Size < 0:
		return "size unknown"
	case f.Growing:
		return "at least " + strconv.FormatInt(f.Size, 10) + " bytes"
	}
	return strconv.FormatInt(f.Size, 10) + " bytes"
}

// gapNow returns the gap being gathered, begun at the Reader's position.
func (r *Reader) gapNow() *GapError {
	if r.gap == nil {
		r.gap = &GapError{Dir: r.name, Last: r.lastFile, LastStamp: r.stamp}
	}
	return r.gap
}

// reportGap gives the gathered gap to the caller, once the stream goes on
// (first is the first piece of a line after it) or waits or ends (first is
// nil).
func (r *Reader) reportGap(first []byte) {
	g := r.gap
	r.gap = nil
	if r.src != nil {
		g.Next = r.src.name
	}
	if st, ok := tai64n.ParsePrefix(first); ok {
		g.NextStamp = st
	}
	r.notify(g)
}

// aheadFile is a file a look at the directory showed after the Reader's
// position that is not an archive yet ("previous", "processed",
// "current"): if it is gone while a file after it is still there, it was
// pruned unread. It is held open while it is remembered, so that its inode
// number (and that of the processor's output seen beside it, alt) cannot
// be given to another file meanwhile.
type aheadFile struct {
	tailFile
	rf readFile // id and f: the file; alt and altF: its processor's output
}

func (a *aheadFile) gapFile() GapFile {
	return GapFile{Name: a.name, Size: a.size, Growing: a.kind == kindCurrent}
}

// is reports whether id is this file or its processor's output.
func (a *aheadFile) is(id fileID) bool {
	return id != (fileID{}) && (id == a.rf.id || id == a.rf.alt)
}

// queueMatch remembers which file of the queue an archive group was found
// to hold, so that matchQueue does not decompress it a second time.
type queueMatch struct {
	stamp string
	k     int
	name  string
	id    fileID
}

// checkGap compares a new look at the directory (t, the files after the
// newest archive consumed) with what the Reader knows, before it reads on,
// and gathers in the pending gap what was pruned before it could be read.
// It then remembers what t shows ahead of the Reader, for the next look.
func (r *Reader) checkGap(t *tailState) {
	ahead := r.ahead
	r.ahead = nil
	r.found = queueMatch{}
	defer func() {
		for i := range ahead {
			ahead[i].rf.close()
		}
		r.noteAhead(t)
	}()
	r.noteLineage(t, ahead)
	if r.after[0] != 0 && (t.afterIDs[0] != fileID{} || t.afterIDs[1] != fileID{}) {
		return // the newest archive consumed is still there: so is all after it
	}
	if r.after[0] == 0 && len(r.queue) == 0 && len(ahead) == 0 && (r.gap == nil || r.gap.Cursor == nil) {
		return // nothing read or known yet: the stream begins with what is there
	}
	if r.watch != nil && !t.hasCur && !t.hasPrev && !t.hasProc && len(t.groups) == 0 {
		// No file after the position at all, not even "current": no
		// writer leaves its directory so (one of "current", "previous"
		// and "processed" is always there), retention never does. It is
		// being emptied or removed (a redeploy's rm -rf), which a follower
		// is told by the directory going away (followDir); until files
		// are there again, there is nothing to tell a gap by.
		return
	}
	if r.queueFound(t) {
		return // a file read to its end is still there: so is all after it
	}
	// A file seen ahead and still there: those before it that are not
	// (nor anything in their place) were pruned unread.
	files := t.files()
	for j, f := range files {
		for i := range ahead {
			if !ahead[i].is(f.id) && (f.kind != kindArchive || !t.groupHas(f.stamp, &ahead[i])) {
				continue
			}
			for k := 0; k < i-j; k++ {
				g := r.gapNow()
				g.Files = append(g.Files, ahead[k].gapFile())
			}
			return
		}
	}
	// A file seen ahead whose archive is a compressed copy: the first
	// archive left, if it is one of them.
	if len(t.groups) > 0 {
		for i := range ahead {
			if r.aheadCopied(&ahead[i], t.groups[0]) {
				for k := 0; k < i; k++ {
					g := r.gapNow()
					g.Files = append(g.Files, ahead[k].gapFile())
				}
				return
			}
		}
	}
	if lost, ok := r.historyGap(t); ok {
		// The follower's history names what came between: nothing lost,
		// or the archives created after its files and pruned unread.
		for _, n := range lost {
			g := r.gapNow()
			g.Files = append(g.Files, GapFile{Name: n, Size: -1})
		}
		return
	}
	r.gapNow().Unknown = true
}

// histMark is where a follower's history of archives began (see
// historyGap): when it opened file id, a file not archived yet, with the
// q files of its queue before it still there under names that are not
// archives either; so none of their archives had been created.
type histMark struct {
	on bool
	q  int
	id fileID
}

// markFor returns the mark for s, just opened and confirmed by the look t,
// taken after the history began: none when a file of the queue is not in t
// under the name of a file not yet archived, or is known only from a
// Cursor (its inode number may be another file's by now).
func (r *Reader) markFor(t *tailState, s *source) histMark {
	for _, q := range r.queue {
		there := q.f != nil && (t.hasPrev && t.previous == q.id || t.hasCur && t.current == q.id ||
			t.hasProc && (t.processed == q.id || q.alt != fileID{} && t.processed == q.alt))
		if !there {
			return histMark{}
		}
	}
	return histMark{on: true, q: len(r.queue), id: s.id}
}

// historyGap tells, from a follower's history, what was pruned between the
// files it read and the first archive that t lists, when the directory
// cannot say (no file it read or saw is left). Every writer archives the
// files in the order it rotated them, one at a time, so the archives
// created since the mark are first those of the files in the queue (read
// to their end; none archived at the mark), then those of the files after
// them: those before the first archive listed were pruned unread. It
// reports false when the history cannot tell: no inotify, events lost, a
// queue that is not the one of the mark, or archives that do not follow
// each other as they should.
func (r *Reader) historyGap(t *tailState) ([]string, bool) {
	w := r.watch
	if w == nil || !r.hist.on {
		return nil, false
	}
	w.drain()
	k := len(r.queue)
	if w.lost || k != r.hist.q+1 || r.queue[k-1].id != r.hist.id {
		return nil, false
	}
	after := ""
	if r.after[0] != 0 {
		after = string(r.after[:])
	}
	var h []string // archives created since the mark, after the Reader's position
	for _, n := range w.created {
		if n[:stampLen] > after {
			h = append(h, n)
		}
	}
	if len(h) < k {
		return nil, false // an archive of the queue's files not created: they would be there
	}
	next := len(h)
	if len(t.groups) > 0 {
		next = slices.IndexFunc(h, func(n string) bool { return n[:stampLen] == t.groups[0].stamp })
		if next < k {
			return nil, false
		}
	}
	return h[k:next], true
}

// aheadCopied reports whether archive group g holds a copy of the data
// of a (held open; complete once archived), as a compressor makes it.
func (r *Reader) aheadCopied(a *aheadFile, g archiveGroup) bool {
	if a.kind == kindProcessed || a.rf.f == nil {
		return false // a processor's output is archived as the same inode
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(int(a.rf.f.Fd()), &st); err != nil || st.Size == 0 {
		return false
	}
	s := source{prefixH: fnvOffset}
	buf := r.scratch()[:min(st.Size, prefixLen)]
	if n, _ := a.rf.f.ReadAt(buf, 0); n < len(buf) {
		return false
	}
	s.hashPrefix(buf, 0)
	rf := readFile{size: st.Size, prefixN: s.prefixN, prefixH: s.prefixH}
	for _, n := range g.names {
		if n == "" {
			continue
		}
		if _, ok := r.openContentMatch(n, kindArchive, rf); ok {
			return true
		}
	}
	return false
}

// lookAhead looks at what follows the archive of stamp, which the Reader
// has just opened as the last of a listing: the files after it are its
// only way to tell, when it comes to them, whether that archive's
// successors were pruned meanwhile (see checkGap). A listing of a whole
// directory does not look at them, which would cost an lstat per archive.
func (r *Reader) lookAhead(stamp string) {
	saved := r.after
	copy(r.after[:], stamp)
	t, err := r.tailSnapshot()
	r.after = saved
	if err != nil || (t.afterIDs[0] == fileID{} && t.afterIDs[1] == fileID{}) || len(t.groups) > 0 {
		// Gone already, or archives came since the listing: the look at
		// the end of the listing will see them.
		return
	}
	r.dropAhead()
	r.noteAhead(t)
}

// lookAheadMax bounds the listings after which lookAhead is done by a
// reading run that did not start from a Cursor (a follower always looks).
// The look costs two listings of the directory; a directory that keeps
// more archives than this prunes its newest one only after as many more
// rotations, and a gap reported for want of the look (Unknown) would then
// most likely be real.
const lookAheadMax = 256

// groupHas reports whether the archive group of stamp holds file a.
func (t *tailState) groupHas(stamp string, a *aheadFile) bool {
	for i, g := range t.groups {
		if g.stamp == stamp {
			return a.is(t.ids[i][0]) || a.is(t.ids[i][1])
		}
	}
	return false
}

// noteLineage records, for a file read or a file ahead that t shows as
// "previous", the "processed" beside it: its processor's output, which is
// then archived in its place.
func (r *Reader) noteLineage(t *tailState, ahead []aheadFile) {
	if !t.hasPrev || !t.hasProc {
		return
	}
	for k := range r.queue {
		if r.queue[k].id == t.previous && r.queue[k].alt != t.processed {
			r.holdAlt(&r.queue[k], t.processed)
		}
	}
	for i := range ahead {
		if ahead[i].rf.id == t.previous && ahead[i].rf.alt != t.processed {
			r.holdAlt(&ahead[i].rf, t.processed)
		}
	}
}

// holdAlt opens "processed" as rf's processor output if it is still the
// file of identity id.
func (r *Reader) holdAlt(rf *readFile, id fileID) {
	rf.dropAlt()
	f, fid, err := r.openID(fileProcessed)
	if err != nil {
		return
	}
	if fid != id {
		f.Close()
		return
	}
	rf.alt, rf.altF = id, f
}

// openID opens the file named name and returns its identity.
func (r *Reader) openID(name string) (*os.File, fileID, error) {
	f, st, err := openEntry(r.path(name))
	if err != nil {
		return nil, fileID{}, err
	}
	return f, idOf(st), nil
}

// queueFound reports whether a file of the queue (read to its end, its
// archive not seen yet) is in t under any name: as "previous",
// "processed" or "current", as an archive of the same inode, as its
// processor's output, or as a compressed copy (the first archive only:
// the archive of a queued file, if any is left, comes first).
func (r *Reader) queueFound(t *tailState) bool {
	if len(r.queue) == 0 {
		return false
	}
	for _, q := range r.queue {
		if q.alt != (fileID{}) && ((t.hasProc && t.processed == q.alt) || t.archived(q.alt)) {
			return true
		}
	}
	if (t.hasPrev && r.inQueue(filePrevious, kindPrevious, t.previous) >= 0) ||
		(t.hasProc && r.inQueue(fileProcessed, kindProcessed, t.processed) >= 0) ||
		(t.hasCur && r.inQueue(fileCurrent, kindCurrent, t.current) >= 0) {
		return true
	}
	for i, g := range t.groups {
		for j, n := range g.names {
			if n != "" && t.ids[i][j] != (fileID{}) && r.inQueue(n, kindArchive, t.ids[i][j]) >= 0 {
				return true
			}
		}
	}
	if len(t.groups) > 0 {
		g := t.groups[0]
		if k, name, id := r.findQueue(g); k >= 0 {
			r.found = queueMatch{stamp: g.stamp, k: k, name: name, id: id}
			return true
		}
	}
	if t.hasProc && !t.hasPrev {
		for k, q := range r.queue {
			if id, ok := r.openContentMatch(fileProcessed, kindProcessed, q); ok && id == t.processed {
				r.queue[k].id = t.processed // as chooseTail would: known by its own inode now
				return true
			}
		}
	}
	return false
}

// noteAhead remembers the files t shows after the Reader's position that
// are not archives yet (the archives are in r.list), each held open. A
// file that has moved since t was taken ends the list: what is remembered
// must be the files in order, without a hole.
func (r *Reader) noteAhead(t *tailState) {
	for _, f := range t.files() {
		if f.kind == kindArchive {
			continue
		}
		if r.inQueue(f.name, f.kind, f.id) >= 0 || r.isRecentArchive(f.id) {
			continue // read already
		}
		fd, id, err := r.openID(f.name)
		if err != nil || id != f.id {
			if fd != nil {
				fd.Close()
			}
			return
		}
		a := aheadFile{tailFile: f, rf: readFile{id: f.id, f: fd}}
		if f.kind == kindPrevious && t.hasProc {
			r.holdAlt(&a.rf, t.processed)
		}
		r.ahead = append(r.ahead, a)
	}
}

// passAhead forgets the files ahead up to and including the one with
// identity id, which the Reader is now reading.
func (r *Reader) passAhead(id fileID) {
	for i := range r.ahead {
		if r.ahead[i].is(id) {
			for k := 0; k <= i; k++ {
				r.ahead[k].rf.close()
			}
			r.ahead = r.ahead[i+1:]
			return
		}
	}
}

// dropAhead forgets every file ahead.
func (r *Reader) dropAhead() {
	for i := range r.ahead {
		r.ahead[i].rf.close()
	}
	r.ahead = nil
}
