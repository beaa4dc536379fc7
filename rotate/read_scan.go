package rotate

import (
	"errors"
	"io/fs"
	"os"
	"slices"
	"strings"
	"syscall"

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
// "processed" and "current" (zero when absent) and the archives after
// r.after with the identities of their files.
type tailState struct {
	groups                       []archiveGroup
	ids                          [][2]fileID
	previous, processed, current fileID
	hasPrev, hasProc, hasCur     bool
}

func (a *tailState) equal(b *tailState) bool {
	return a.previous == b.previous && a.processed == b.processed && a.current == b.current &&
		a.hasPrev == b.hasPrev && a.hasProc == b.hasProc && a.hasCur == b.hasCur &&
		slices.Equal(a.groups, b.groups) && slices.Equal(a.ids, b.ids)
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
	if t.current, err = lstatID(r.path(fileCurrent)); err == nil {
		t.hasCur = true
	}
	if t.previous, err = lstatID(r.path(filePrevious)); err == nil {
		t.hasPrev = true
	}
	if t.processed, err = lstatID(r.path(fileProcessed)); err == nil {
		t.hasProc = true
	}
	groups, _, err := r.listArchives()
	if err != nil {
		return nil, err
	}
	t.groups = groups
	t.ids = make([][2]fileID, len(groups))
	for i, g := range groups {
		for j, n := range g.names {
			if n != "" {
				t.ids[i][j], _ = lstatID(r.path(n))
			}
		}
	}
	return t, nil
}

func (r *Reader) path(name string) string { return r.dir + "/" + name }

// inQueue returns the position among the files read but not yet seen as
// archives of the file named name whose identity is id, or -1. A file
// known only from a Cursor must also begin with the same bytes: its
// inode may have been reused.
func (r *Reader) inQueue(name string, id fileID) int {
	for k, q := range r.queue {
		if q.id == id && (q.f != nil || r.prefixMatches(r.path(name), q)) {
			return k
		}
	}
	return -1
}

// holdArchive opens an archive recognised as read, to remember it.
func (r *Reader) holdArchive(name string, id fileID) {
	f, err := os.Open(r.path(name))
	if err != nil {
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
	for _, n := range g.names {
		if n == "" {
			continue
		}
		id, err := lstatID(r.path(n))
		if err != nil {
			continue
		}
		if k := r.inQueue(n, id); k >= 0 {
			r.dropQueue(k + 1)
			// "previous" or "processed" may still be linked beside it.
			r.holdArchive(n, id)
			return true
		}
	}
	for _, n := range g.names {
		if n == "" {
			continue
		}
		for k, q := range r.queue {
			if r.contentMatches(r.path(n), q) {
				r.dropQueue(k + 1)
				if id, err := lstatID(r.path(n)); err == nil {
					r.holdArchive(n, id)
				}
				return true
			}
		}
	}
	r.dropQueue(1)
	return false
}

// openArchive opens the preferred file of group g (".s" over ".u": the
// finished one). It reports whether a source is open; a file that cannot
// be read is reported and counted as read.
func (r *Reader) openArchive(g archiveGroup, off int64) bool {
	var lastErr error
	var lastName string
	for _, n := range g.names {
		if n == "" {
			continue
		}
		s, err := r.openSource(n, kindArchive, g.stamp, off)
		if err == nil {
			r.src = s
			return true
		}
		if errors.Is(err, fs.ErrNotExist) {
			continue // pruned, or svlogd removing ".u" after ".s" appeared
		}
		lastErr, lastName = err, n
	}
	if lastErr != nil {
		op := "open"
		var de *decompressError
		if errors.As(lastErr, &de) {
			op = "decompress"
		}
		r.report(op, lastName, lastErr)
	}
	copy(r.after[:], g.stamp)
	return false
}

// nextFile opens the next file of the stream. It reports false when there
// is none now (the end of the directory).
func (r *Reader) nextFile() (bool, error) {
	if !r.started {
		r.started = true
		if r.resume != nil {
			ok := r.resumeCursor(r.resume)
			r.resume = nil
			if ok {
				return true, nil
			}
		}
		groups, _, err := r.listArchives()
		if err != nil {
			return false, &FileError{"read", r.name, unwrapPath(err)}
		}
		r.list, r.listPos = groups, 0
	}
	var since string
	if r.opts.HasSince {
		since = string(r.opts.Since.Append(nil))
	}
	for {
		for r.listPos < len(r.list) {
			g := r.list[r.listPos]
			r.listPos++
			if r.after[0] != 0 && g.stamp <= string(r.after[:]) {
				continue
			}
			if since != "" && g.stamp < since {
				// Closed before Since: every line in it is older.
				copy(r.after[:], g.stamp)
				continue
			}
			if r.matchQueue(g) {
				copy(r.after[:], g.stamp)
				continue
			}
			if r.openArchive(g, 0) {
				return true, nil
			}
		}
		t, err := r.tailSnapshot()
		if err != nil {
			return false, &FileError{"read", r.name, unwrapPath(err)}
		}
		if len(t.groups) > 0 {
			r.list, r.listPos = t.groups, 0
			continue
		}
		name, kind, id, ok := r.chooseTail(t)
		if !ok {
			return false, nil
		}
		s, err := r.openSource(name, kind, "", 0)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				r.report("open", name, err)
				if kind == kindCurrent {
					return false, nil
				}
			}
			continue // moved on meanwhile: look again
		}
		if s.id != id {
			s.f.Close()
			continue // replaced since the look: look again
		}
		r.src = s
		return true, nil
	}
}

// chooseTail picks the file after the archives: "previous" unless already
// read, else "processed" unless it is a copy of what was read, else
// "current".
func (r *Reader) chooseTail(t *tailState) (string, srcKind, fileID, bool) {
	if t.hasPrev && r.inQueue(filePrevious, t.previous) < 0 && !r.isRecentArchive(t.previous) {
		return filePrevious, kindPrevious, t.previous, true
	}
	if t.hasProc && !t.hasPrev && r.inQueue(fileProcessed, t.processed) < 0 && !r.isRecentArchive(t.processed) {
		// Finished processing whose source is gone. If it is the copy of a
		// file read before, remember it by its own inode from now on.
		matched := false
		for k, q := range r.queue {
			if r.contentMatches(r.path(fileProcessed), q) {
				r.queue[k].id = t.processed
				matched = true
				break
			}
		}
		if !matched {
			return fileProcessed, kindProcessed, t.processed, true
		}
	}
	if t.hasCur && r.inQueue(fileCurrent, t.current) < 0 {
		return fileCurrent, kindCurrent, t.current, true
	}
	return "", 0, fileID{}, false
}

// resumeCursor opens the file a cursor was in, at its offset. It reports
// false when the cursor was at no file or its file is gone (pruned): the
// stream then goes on from the first archive after it.
func (r *Reader) resumeCursor(c *Cursor) bool {
	if !c.has || c.off == 0 {
		// Nothing of the file read: the scan finds it in its turn.
		return false
	}
	groups, _, err := r.listArchives()
	if err != nil {
		return false
	}
	if c.kind == kindArchive {
		for _, g := range groups {
			if g.stamp == string(c.stamp[:]) {
				return r.openArchive(g, c.off)
			}
		}
		r.report("find", "@"+string(c.stamp[1:])+" (the cursor's file)", syscall.ENOENT)
		return false
	}
	// A file not yet archived when the cursor was taken: find it by
	// inode under any name, or by content once compressed. Names are
	// looked at in the order data moves through them (current, previous,
	// processed, archives), so a file that moves meanwhile is still found;
	// a failed search is repeated before the position counts as lost.
	try := func(name string, kind srcKind, stamp string) bool {
		s, err := r.openSource(name, kind, stamp, c.off)
		if err != nil {
			return false
		}
		r.src = s
		return true
	}
	for range 3 {
		for _, n := range []struct {
			name string
			kind srcKind
		}{{fileCurrent, kindCurrent}, {filePrevious, kindPrevious}} {
			if id, err := lstatID(r.path(n.name)); err == nil && id == c.file.id && r.prefixMatches(r.path(n.name), c.file) {
				if try(n.name, n.kind, "") {
					return true
				}
			}
		}
		// "processed" is complete only once "previous" is gone.
		if _, err := lstatID(r.path(filePrevious)); err != nil && r.prefixMatches(r.path(fileProcessed), c.file) {
			if try(fileProcessed, kindProcessed, "") {
				return true
			}
		}
		groups, _, err := r.listArchives()
		if err != nil {
			return false
		}
		for _, g := range groups {
			for _, n := range g.names {
				if n != "" && r.prefixMatches(r.path(n), c.file) {
					if try(n, kindArchive, g.stamp) {
						return true
					}
				}
			}
		}
	}
	r.report("find", c.kindName()+" (the cursor's file)", syscall.ENOENT)
	return false
}

// prefixMatches reports whether the file at path begins (decompressed)
// with the bytes rf's prefix hash describes.
func (r *Reader) prefixMatches(path string, rf readFile) bool {
	if rf.prefixN == 0 {
		return false
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	s := &source{f: f, r: f, prefixH: fnvOffset}
	s.comp = sniff(f)
	var rd = s.r
	switch s.comp {
	case compGzip, compZstd:
		tmp := &Reader{dir: r.dir, buf: make([]byte, prefixLen)}
		defer tmp.Close()
		name := path[strings.LastIndexByte(path, '/')+1:]
		src, err := tmp.openSource(name, kindArchive, "", 0)
		if err != nil {
			return false
		}
		defer src.f.Close()
		rd = src.r
	}
	buf := make([]byte, rf.prefixN)
	n := 0
	for n < len(buf) {
		m, err := rd.Read(buf[n:])
		n += m
		if err != nil {
			break
		}
	}
	if n < rf.prefixN {
		return false
	}
	s.hashPrefix(buf, 0)
	return s.prefixH == rf.prefixH
}
