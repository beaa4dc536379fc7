// Package atomicfile replaces small files whole (cursors, state files,
// drawings): a reader, or the next run after a crash, sees the old content
// or the new one, never a part.
//
// It is github.com/google/renameio with the temporary file always made in
// the destination's own directory. renameio's default puts it in $TMPDIR
// when that is on the same file system, after probing $TMPDIR with a file
// of its own on every write: a process killed mid-save then leaves its
// pending file in /tmp, where nothing of its own will ever look for it,
// and each save costs the probe's create, rename and remove.
package atomicfile

import (
	"os"
	"path/filepath"

	"github.com/google/renameio/v2"
)

// WriteFile writes data to a temporary file beside path, makes it durable
// (fsync) and renames it over path. A new file gets perm; an existing one
// keeps its mode.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return renameio.WriteFile(path, data, perm, renameio.WithTempDir(filepath.Dir(path)))
}
