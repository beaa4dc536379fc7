package logread

import (
	"errors"
	"io/fs"
	"os"
	"slices"
	"strings"
	"syscall"

	"github.com/taikit/taikit/errtext"
	"github.com/taikit/taikit/tai64n"
)

// archiveGroup is the archives of one stamp: normally one file, but svlogd
// has "@x.u" and its processed "@x.s" side by side for a moment.
type archiveGroup struct {
	stamp string    // lowercase, the order of the stream
	names [2]string // ".s" first, then ".u"; empty when absent
}

// parseArchiveName tells whether n is an archive the stream holds:
// "@" + 24 hex digits + ".s" or ".u" (".t" is svlogd's unfinished
// processor output and is never read).
func parseArchiveName(n string) (stamp string, code byte, ok bool) {
	if len(n) != stampLen+2 || n[0] != '@' || n[stampLen] != '.' {
		return "", 0, false
	}
	code = n[stampLen+1]
	if code != 's' && code != 'u' {
		return "", 0, false
	}
	if _, ok := tai64n.ParsePrefix([]byte(n[:stampLen])); !ok {
		return "", 0, false
	}
	return strings.ToLower(n[:stampLen]), code, true
}

// listArchives lists the archives whose stamp is after r.after, in order.
func (r *Reader) listArchives() ([]archiveGroup, []string, error) {
	d, err := os.Open(r.dir)
	if err != nil {
		return nil, nil, err
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return nil, nil, err
	}
	after := string(r.after[:])
	if r.after[0] == 0 {
		after = ""
	}
	byStamp := make(map[string]int)
	var groups []archiveGroup
	for _, n := range names {
		stamp, code, ok := parseArchiveName(n)
		if !ok || stamp <= after {
			continue
		}
		i, seen := byStamp[stamp]
		if !seen {
			i = len(groups)
			byStamp[stamp] = i
			groups = append(groups, archiveGroup{stamp: stamp})
		}
		if code == 's' {
			groups[i].names[0] = n
		} else {
			groups[i].names[1] = n
		}
	}
	slices.SortFunc(groups, func(a, b archiveGroup) int { return strings.Compare(a.stamp, b.stamp) })
	return groups, names, nil
}

// tailState is what follows the archives: the identities of "previous",
// "processed" and "current" (zero when absent), the archives after
// r.after with the identities of their files, and the identities of the
// archive named r.after itself (".s", ".u"), the newest one consumed.
type tailState struct {
	groups                       []archiveGroup
	ids                          [][2]fileID
	sizes                        [][2]int64 // of the groups' files, for a gap report
	previous, processed, current fileID
	prevSize, procSize, curSize  int64
	hasPrev, hasProc, hasCur     bool
	afterIDs                     [2]fileID
}

func (a *tailState) equal(b *tailState) bool {
	return a.previous == b.previous && a.processed == b.processed && a.current == b.current &&
		a.hasPrev == b.hasPrev && a.hasProc == b.hasProc && a.hasCur == b.hasCur &&
		a.afterIDs == b.afterIDs && slices.Equal(a.groups, b.groups) && slices.Equal(a.ids, b.ids)
}

// archived reports whether id is the file of an archive in the snapshot,
// listed or the one consumed last: a "previous" or "processed" that is
// also linked under an archive name is that archive (every writer links
// the archive name first and removes the old name after), whose data is
// not to be counted twice.
func (a *tailState) archived(id fileID) bool {
	if id == (fileID{}) {
		return false
	}
	if id == a.afterIDs[0] || id == a.afterIDs[1] {
		return true
	}
	for _, p := range a.ids {
		if id == p[0] || id == p[1] {
			return true
		}
	}
	return false
}

// tailFile is one file of the stream as a snapshot shows it.
type tailFile struct {
	name  string
	kind  srcKind
	stamp string
	id    fileID
	size  int64
}

// files lists the files of the stream after r.after as the snapshot
// shows them, one per file the writer rotated (a segment): the archives
// in order, then the rotation in progress ("previous", or "processed" once
// "previous" is gone, unless already linked as an archive), then
// "current".
func (a *tailState) files() []tailFile {
	var out []tailFile
	for i, g := range a.groups {
		j := 0
		if g.names[0] == "" {
			j = 1
		}
		out = append(out, tailFile{g.names[j], kindArchive, g.stamp, a.ids[i][j], a.sizes[i][j]})
	}
	switch {
	case a.hasPrev && !a.archived(a.previous):
		out = append(out, tailFile{filePrevious, kindPrevious, "", a.previous, a.prevSize})
	case a.hasProc && !a.hasPrev && !a.archived(a.processed):
		out = append(out, tailFile{fileProcessed, kindProcessed, "", a.processed, a.procSize})
	}
	if a.hasCur {
		out = append(out, tailFile{fileCurrent, kindCurrent, "", a.current, a.curSize})
	}
	return out
}

// tailSnapshot looks at the end of the directory until two looks agree,
// which proves that they show one moment of it: a writer only moves data
// forward (current → previous → processed → archive), so a look taken
// while it moves differs from the next one.
func (r *Reader) tailSnapshot() (*tailState, error) {
	var last *tailState
	for range 1000 {
		t, err := r.lookTail()
		if err != nil {
			return nil, err
		}
		if last != nil && last.equal(t) {
			return t, nil
		}
		last = t
	}
	return last, nil // a writer rotating faster than we can look: use the latest
}

func (r *Reader) lookTail() (*tailState, error) {
	t := &tailState{}
	var err error
	// The order matters: names that data moves to are looked at first.
	if t.current, t.curSize, err = lstatIDSize(r.path(fileCurrent)); err == nil {
		t.hasCur = true
	}
	if t.previous, t.prevSize, err = lstatIDSize(r.path(filePrevious)); err == nil {
		t.hasPrev = true
	}
	if t.processed, t.procSize, err = lstatIDSize(r.path(fileProcessed)); err == nil {
		t.hasProc = true
	}
	if r.after[0] != 0 {
		t.afterIDs[0], _ = lstatID(r.path(string(r.after[:]) + ".s"))
		t.afterIDs[1], _ = lstatID(r.path(string(r.after[:]) + ".u"))
	}
	groups, _, err := r.listArchives()
	if err != nil {
		return nil, err
	}
	t.groups = groups
	t.ids = make([][2]fileID, len(groups))
	t.sizes = make([][2]int64, len(groups))
	for i, g := range groups {
		for j, n := range g.names {
			t.sizes[i][j] = -1
			if n != "" {
				var err error
				if t.ids[i][j], t.sizes[i][j], err = lstatIDSize(r.path(n)); err != nil {
					t.sizes[i][j] = -1
				}
			}
		}
	}
	return t, nil
}

func (r *Reader) path(name string) string { return r.dir + "/" + name }

// inQueue returns the position among the files read but not yet seen as
// archives of the file named name (of the given kind) whose identity is
// id, or -1. A file known only from a Cursor must also begin with the
// same bytes: its inode may have been reused.
func (r *Reader) inQueue(name string, kind srcKind, id fileID) int {
	for k, q := range r.queue {
		if q.id == id && (q.f != nil || r.prefixMatches(name, kind, q)) {
			return k
		}
	}
	return -1
}

// holdArchive opens an archive recognised as read, to remember it.
func (r *Reader) holdArchive(name string, id fileID) {
	f, st, err := openEntry(r.path(name))
	if err != nil {
		return
	}
	if idOf(st) != id {
		f.Close() // another file by now: holding it would prove nothing
		return
	}
	r.rememberArchive(id, f)
}

// matchQueue decides whether archive group g holds data already read under
// another name (by inode, or by content for a compressed copy); the files
// read before the matched one then had their archives pruned unseen.
// An archive that matches nothing while files are queued is taken as the
// archive of the oldest of them with its data changed or lost, so that
// one is dropped: the Reader reads it rather than risk losing data.
func (r *Reader) matchQueue(g archiveGroup) bool {
	if len(r.queue) == 0 {
		return false
	}
	var k int
	var name string
	var id fileID
	if m := r.found; m.stamp == g.stamp && m.k < len(r.queue) {
		k, name, id = m.k, m.name, m.id // checkGap found it already
	} else {
		k, name, id = r.findQueue(g)
	}
	r.found = queueMatch{}
	if k >= 0 {
		r.dropQueue(k + 1)
		// "previous" or "processed" may still be linked beside it.
		r.holdArchive(name, id)
		return true
	}
	r.dropQueue(1)
	return false
}

// findQueue returns the position in the queue of the file whose data
// archive group g holds (by inode, or by content for a compressed copy),
// the name it was found under and its identity; -1 when none.
func (r *Reader) findQueue(g archiveGroup) (int, string, fileID) {
	for _, n := range g.names {
		if n == "" {
			continue
		}
		id, err := lstatID(r.path(n))
		if err != nil {
			continue
		}
		if k := r.inQueue(n, kindArchive, id); k >= 0 {
			return k, n, id
		}
	}
	for _, n := range g.names {
		if n == "" {
			continue
		}
		for k, q := range r.queue {
			if id, ok := r.openContentMatch(n, kindArchive, q); ok {
				return k, n, id
			}
		}
	}
	return -1, "", fileID{}
}

// openArchive opens the preferred file of group g (".s" over ".u": the
// finished one). It reports whether a source is open, and else whether
// the archive is gone (pruned); a file that cannot be read is reported and
// counted as read.
func (r *Reader) openArchive(g archiveGroup, off int64) (opened, gone bool) {
	failed := false
	names := g.names
	for pass := 0; pass < 2 && !failed; pass++ {
		for _, n := range names {
			if n == "" {
				continue
			}
			s, err := r.openSource(n, kindArchive, g.stamp, off, nil)
			if err == nil {
				r.src = s
				return true, false
			}
			if errors.Is(err, fs.ErrNotExist) {
				continue // pruned, or svlogd removing ".u" after ".s" appeared
			}
			// Said even when the other name of the stamp is read: a file
			// refused is never passed over in silence.
			op := "open"
			var de *decompressError
			if errors.As(err, &de) {
				op = "decompress"
			}
			r.report(op, n, err)
			failed = true
		}
		// Every name listed is gone. svlogd renames a processed "@x.u" to
		// "@x.s": look for both before taking the archive for pruned.
		names = [2]string{g.stamp + ".s", g.stamp + ".u"}
	}
	copy(r.after[:], g.stamp)
	return false, !failed
}

// nextFile opens the next file of the stream. It reports false when there
// is none now (the end of the directory).
func (r *Reader) nextFile() (bool, error) {
	if r.stream != nil {
		return r.nextStream(), nil
	}
	if r.watch != nil && !r.followDir() {
		return false, nil // gone: wait for it
	}
	if !r.started {
		r.started = true
		if r.resume != nil {
			ok := r.resumeCursor(r.resume)
			r.resume = nil
			if ok {
				return true, nil
			}
			// On from the cursor's newest archive, by a look at the
			// directory that tells what was pruned since (checkGap).
		} else {
			groups, _, err := r.listArchives()
			if err != nil {
				if r.watch != nil && dirMissing(err) {
					r.started = false
					return false, nil // gone since followDir looked: the next look says so
				}
				return false, &errtext.Error{Op: "unable to read", Path: r.name, Err: errtext.WithoutPath(err)}
			}
			r.list, r.listSizes, r.listPos = groups, nil, 0
		}
	}
	var since string
	if r.opts.HasSince {
		since = string(r.opts.Since.Append(nil))
	}
	for {
		if r.interrupted() {
			// Whatever the directory holds, a stop asked is honoured
			// between two files.
			return false, ErrInterrupted
		}
		if r.watch != nil && !r.followDir() {
			return false, nil
		}
		for r.listPos < len(r.list) {
			i := r.listPos
			g := r.list[i]
			r.listPos++
			if r.after[0] != 0 && g.stamp <= string(r.after[:]) {
				continue
			}
			if since != "" && g.stamp < since {
				// Closed before Since: every line in it is older.
				copy(r.after[:], g.stamp)
				continue
			}
			queued := len(r.queue) > 0
			if r.matchQueue(g) {
				copy(r.after[:], g.stamp)
				continue
			}
			opened, gone := r.openArchive(g, 0)
			if opened {
				if r.listPos == len(r.list) && len(r.ahead) == 0 &&
					(r.opts.Follow || r.opts.Cursor != nil || len(r.list) <= lookAheadMax) {
					r.lookAhead(g.stamp)
				}
				r.prefetchNext()
				return true, nil
			}
			if gone && !queued {
				// Listed, not read, and gone: pruned unread. (With files
				// queued, it was taken for the archive of one of them.)
				size := int64(-1)
				if r.listSizes != nil {
					size = r.listSizes[i][0]
					if g.names[0] == "" {
						size = r.listSizes[i][1]
					}
				}
				gp := r.gapNow()
				gp.Files = append(gp.Files, GapFile{Name: g.preferred(), Size: size})
			}
		}
		t, err := r.tailSnapshot()
		if err != nil {
			if r.watch != nil && dirMissing(err) {
				continue // followDir tells what became of it
			}
			return false, &errtext.Error{Op: "unable to read", Path: r.name, Err: errtext.WithoutPath(err)}
		}
		r.checkGap(t)
		if len(t.groups) > 0 {
			r.list, r.listSizes, r.listPos = t.groups, t.sizes, 0
			continue
		}
		name, kind, id, ok := r.chooseTail(t)
		if !ok {
			return false, nil
		}
		s, err := r.openSource(name, kind, "", 0, &wantFile{id: id, hasID: true})
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, errMoved) {
				// Passed over until another file has the name: looked at
				// again it would be refused again, and said again, for
				// ever (a link at "current" kept a follower spinning).
				if rid, ok := refusedID(err); ok {
					id = rid
				}
				r.refuse(kind, name, id)
				r.report("open", name, err)
			}
			continue // moved on meanwhile: look again
		}
		if r.watch != nil {
			// A follower's history of archives begins now, before the
			// look that confirms s: every archive created after this
			// look is in it (see historyGap).
			r.watch.drain()
			r.watch.mark()
			r.hist = histMark{}
		}
		t, ok = r.stillChosen(s)
		if !ok {
			s.close()
			continue
		}
		if r.watch != nil {
			r.hist = r.markFor(t, s)
		}
		r.src = s
		r.passAhead(s.id)
		return true, nil
	}
}

// preferred is the name of g that is read: ".s" over ".u".
func (g archiveGroup) preferred() string {
	if g.names[0] != "" {
		return g.names[0]
	}
	return g.names[1]
}

// stillChosen looks at the directory again while s is open and reports
// whether the look still chooses it. The inode number that the first look
// saw proves nothing by itself: a slow Reader may open the name after the
// writer rotated it, compressed it, removed it and gave its number to a
// new "current". While the descriptor is held the number is this file's
// alone, so a look that chooses the same name and number chooses this
// file.
func (r *Reader) stillChosen(s *source) (*tailState, bool) {
	t, err := r.tailSnapshot()
	if err != nil || len(t.groups) > 0 {
		return nil, false // archives came meanwhile: take them first
	}
	name, _, id, ok := r.chooseTail(t)
	return t, ok && name == s.name && id == s.id
}

// chooseTail picks the file after the archives: "previous" unless already
// read, else "processed" unless it is a copy of what was read, else
// "current".
func (r *Reader) chooseTail(t *tailState) (string, srcKind, fileID, bool) {
	if t.hasPrev && t.previous != r.refused[kindPrevious].id && !t.archived(t.previous) &&
		r.inQueue(filePrevious, kindPrevious, t.previous) < 0 && !r.isRecentArchive(t.previous) {
		return filePrevious, kindPrevious, t.previous, true
	}
	if t.hasProc && !t.hasPrev && t.processed != r.refused[kindProcessed].id && !t.archived(t.processed) &&
		r.inQueue(fileProcessed, kindProcessed, t.processed) < 0 && !r.isRecentArchive(t.processed) {
		// Finished processing whose source is gone. If it is the copy of a
		// file read before, remember it by its own inode from now on.
		matched := false
		for k, q := range r.queue {
			if id, ok := r.openContentMatch(fileProcessed, kindProcessed, q); ok && id == t.processed {
				r.queue[k].id = t.processed
				matched = true
				break
			}
		}
		if !matched {
			return fileProcessed, kindProcessed, t.processed, true
		}
	}
	if t.hasCur && t.current != r.refused[kindCurrent].id && r.inQueue(fileCurrent, kindCurrent, t.current) < 0 {
		return fileCurrent, kindCurrent, t.current, true
	}
	return "", 0, fileID{}, false
}

// resumeCursor opens the file a cursor was in, at its offset. It reports
// false when the cursor was at no file or its file is gone (pruned): the
// stream then goes on from the first file after the cursor's newest
// archive, and the file is reported in a GapError.
func (r *Reader) resumeCursor(c *Cursor) bool {
	if !c.has || c.off == 0 {
		// Nothing of the file read: the scan finds it in its turn.
		return false
	}
	if c.kind == kindArchive {
		groups, _, err := r.listArchives()
		if err != nil {
			return false
		}
		for _, g := range groups {
			if g.stamp == string(c.stamp[:]) {
				opened, gone := r.openArchive(g, c.off)
				if opened {
					r.forgetQueue()
					r.lookAhead(g.stamp)
					return true
				}
				if !gone {
					return false // unreadable: reported, and counted as read
				}
				break
			}
		}
		r.cursorLost(c)
		return false
	}
	if r.resumeByPosition(c) || r.resumeBySearch(c) {
		if r.src.kind == kindArchive {
			r.forgetQueue()
		}
		return true
	}
	r.cursorLost(c)
	return false
}

// cursorLost records in the gap the cursor's file, gone before the rest of
// it was read.
func (r *Reader) cursorLost(c *Cursor) {
	r.gapNow().Cursor = &GapFile{Name: c.kindName(), Size: -1, Read: c.off}
}

// forgetQueue drops the files read before the one the Reader resumed in
// when that one is an archive: their archives are older, and the Reader
// passes them by name when it finishes this one.
func (r *Reader) forgetQueue() { r.dropQueue(len(r.queue)) }

// resumeByPosition finds the cursor's file by its place in the stream:
// the files after the newest archive consumed are, in order, the ones in
// the queue (read to their end) and then the cursor's file, whatever
// names they have now, because every writer gives archives names in the
// order it rotates files. The file found there must begin with the
// cursor's leading bytes and, where it cannot be a processor's copy, be
// the same inode. It reports false when the place holds another file
// (pruned meanwhile), for the search by content to try.
func (r *Reader) resumeByPosition(c *Cursor) bool {
	idx := len(r.queue)
	for range 100 {
		t, err := r.tailSnapshot()
		if err != nil {
			return false
		}
		files := t.files()
		if idx >= len(files) {
			return false
		}
		f := files[idx]
		want := &wantFile{id: f.id, hasID: true, prefix: c.file, hasPrefix: true}
		if mustBeSameInode(c.kind, f.kind) && f.id != c.file.id {
			return false
		}
		s, err := r.openSource(f.name, f.kind, f.stamp, c.off, want)
		if err == nil && f.kind != kindArchive && !r.stillAt(s, idx) {
			s.close()
			continue
		}
		switch {
		case err == nil:
			r.src = s
			return true
		case errors.Is(err, errMoved), errors.Is(err, fs.ErrNotExist):
			continue // the writer moved on: look again
		}
		return false
	}
	return false
}

// stillAt looks at the directory again while s is open and reports
// whether s is still the file at place idx after r.after (see
// stillChosen: an inode number seen before the open may have been given
// to another file by then).
func (r *Reader) stillAt(s *source, idx int) bool {
	t, err := r.tailSnapshot()
	if err != nil {
		return false
	}
	files := t.files()
	return idx < len(files) && files[idx].name == s.name && files[idx].id == s.id
}

// processedComplete reports whether s, opened as "processed" after
// "previous" was seen absent, is a finished processor output. A rotation
// between that look and the open gives a new "processed" still being
// written (a compressor writes it while "previous" is there); it would
// read as a compressed file cut short ("unexpected EOF"), and its lines
// would count as read. Looked at again while the descriptor is held:
// "previous" is removed only once "processed" is complete, and a
// processing abandoned removes "processed" (no link left) before it
// archives "previous".
func (r *Reader) processedComplete(s *source) bool {
	if _, err := lstatID(r.path(filePrevious)); err == nil {
		return false
	}
	var st syscall.Stat_t
	return syscall.Fstat(int(s.f.Fd()), &st) == nil && st.Nlink > 0
}

// mustBeSameInode tells whether a file read under the name of cursorKind
// can only be found again under the name of nowKind as the same inode: it
// can become a new file only by processing (into "processed", whose
// archive is a link of it).
func mustBeSameInode(cursorKind, nowKind srcKind) bool {
	switch nowKind {
	case kindCurrent, kindPrevious:
		return true
	case kindArchive:
		return cursorKind == kindProcessed
	}
	return false
}

// resumeBySearch looks for the cursor's file under every name, in the
// order data moves through them (current, previous, processed, archives),
// so that a file moving meanwhile is still found; the search is repeated
// before the position counts as lost. A file is recognised by inode where
// it cannot be a copy, and always by its leading bytes, checked on the
// descriptor it is then read from.
func (r *Reader) resumeBySearch(c *Cursor) bool {
	try := func(name string, kind srcKind, stamp string, byID bool) bool {
		want := &wantFile{id: c.file.id, hasID: byID, prefix: c.file, hasPrefix: true}
		s, err := r.openSource(name, kind, stamp, c.off, want)
		if err != nil {
			return false
		}
		r.src = s
		return true
	}
	for range 3 {
		if try(fileCurrent, kindCurrent, "", true) || try(filePrevious, kindPrevious, "", true) {
			return true
		}
		// "processed" is complete only once "previous" is gone.
		if _, err := lstatID(r.path(filePrevious)); err != nil &&
			try(fileProcessed, kindProcessed, "", c.kind == kindProcessed) {
			if r.processedComplete(r.src) {
				return true
			}
			r.closeSource()
		}
		groups, _, err := r.listArchives()
		if err != nil {
			return false
		}
		for _, g := range groups {
			for _, n := range g.names {
				if n != "" && try(n, kindArchive, g.stamp, c.kind == kindProcessed) {
					return true
				}
			}
		}
	}
	return false
}
