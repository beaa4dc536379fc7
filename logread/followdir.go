package logread

import (
	"errors"
	"os"
	"syscall"

	"github.com/taikit/taikit/errtext"
)

// A follower follows a directory by its name, as tail -F follows a file:
// a redeploy renames or removes the directory and makes a new one under
// the same name, and a new writer starts in it. The follower reads to its
// end the file it was reading (it holds it open), says that the directory
// went away, waits for one to be there again, and reads that one from its
// start: its archives, then "current".

// DirChange tells a follower's caller that the directory it follows went
// away, or that a directory is there again under its name, which it now
// reads from the start. It is given to Options.OnError (or kept for
// Errors) like the other errors that do not end the stream, but it is no
// failure: nothing was lost that the Reader could have read.
type DirChange struct {
	// Dir is the directory as named (Options.Name).
	Dir string
	// Gone says that the name no longer leads to a directory (Err says
	// why); otherwise a directory is there again (Replaced: another one
	// took the name while the Reader was in the old one).
	Gone     bool
	Replaced bool
	Err      error
}

func (e *DirChange) Error() string {
	switch {
	case e.Gone:
		return e.Dir + " went away (" + errtext.Of(e.Err) + "): waiting for it to come back"
	case e.Replaced:
		return e.Dir + " was replaced by another directory: reading the new one from its start"
	}
	return e.Dir + " is back: reading it from its start"
}

func (e *DirChange) Unwrap() error { return e.Err }

// dirIdentity returns the identity of the directory at dir, following
// links (the name given may be one, or pass through one).
func dirIdentity(dir string) (fileID, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(dir, &st); err != nil {
		return fileID{}, err
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFDIR {
		return fileID{}, syscall.ENOTDIR
	}
	return idOf(&st), nil
}

// followDir, for a follower between two files, reports whether the
// directory it reads is still the one its name leads to. When the name
// leads nowhere it says so (once) and reports false: the follower waits.
// When it leads to another directory, the Reader starts again in that one,
// from its start, and reports true.
func (r *Reader) followDir() bool {
	id, err := dirIdentity(r.dir)
	if err == nil && id == r.dirID && !r.dirGone {
		return true
	}
	if err != nil {
		if !r.dirGone {
			r.leaveDir()
			r.dirGone = true
			r.notify(&DirChange{Dir: r.name, Gone: true, Err: err})
		}
		return false
	}
	replaced := !r.dirGone
	if replaced {
		r.leaveDir()
	}
	r.dirID, r.dirGone = id, false
	r.watch.watch(r.dir)
	r.notify(&DirChange{Dir: r.name, Replaced: replaced})
	return true
}

// leaveDir forgets all the Reader knew of the directory it was reading:
// its position, the files read or seen ahead. A gap found there is said
// first.
func (r *Reader) leaveDir() {
	if r.gap != nil {
		r.reportGap(nil)
	}
	r.watch.unwatch()
	r.after = [stampLen]byte{}
	r.dropQueue(len(r.queue))
	r.dropAhead()
	for i := range r.recent {
		if r.recent[i].f != nil {
			r.recent[i].f.Close()
		}
		r.recent[i] = recentArchive{}
	}
	r.nrec = 0
	for i := range r.refused {
		r.refused[i].close()
	}
	r.list, r.listSizes, r.listPos = nil, nil, 0
	r.found, r.hist, r.lastFile = queueMatch{}, histMark{}, ""
	r.resume = nil // a Cursor is a place in the old directory
}

// dirMissing reports whether err, from a look at the directory, says that
// it is no longer there.
func dirMissing(err error) bool {
	return errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}
