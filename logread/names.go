package logread

import (
	"errors"

	"github.com/taikit/taikit/tai64n"
)

// The directory format, as every writer (multilog, s6-log, svlogd, package
// rotate) keeps it: the names a Reader looks for. Archives are "@" and a
// TAI64N label, then ".s" (complete) or ".u" (kept by crash recovery); see
// parseArchiveName.
const (
	fileCurrent   = "current"
	filePrevious  = "previous"
	fileProcessed = "processed"
)

const stampLen = tai64n.StampLen

// ErrInterrupted is returned by a Next or NextLines that Interrupt cut
// short.
var ErrInterrupted = errors.New("logread: interrupted")

// ErrNotRegular is matched (errors.Is) by the error for a file of a log
// directory that is refused: one that is not a regular file, or a hard
// link to a file of an account other than the directory's owner.
var ErrNotRegular = errors.New("not a regular file")
