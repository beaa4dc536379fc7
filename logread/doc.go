// Package logread reads daemontools log directories: the reading side of
// the directories that multilog, s6-log, svlogd and package rotate write.
// It knows the directory format (archives named "@<tai64n>.s" and ".u",
// "current", a rotation in progress as "previous" or "processed"), not the
// writers' internals, and imports no writer.
//
// A Reader (OpenDir) gives a directory as one ordered stream of lines:
// the archives in order, then a rotation in progress, then "current".
//
//   - Compressed archives, gzip or zstd, whether a processor ("!gzip") or
//     a writer's built-in compression made them, are recognised by their
//     content and decompressed; this package is the one place that tells
//     compressed data by its first bytes.
//   - Time bounds (Options.Since, Until) skip archives by name and find
//     the start in a file by binary search on the stamps.
//   - Options.Follow keeps reading as the directory grows, across
//     rotations, without losing or repeating a line; a Cursor saved
//     (SaveCursor) and given back (Options.Cursor) resumes exactly there
//     after a restart.
//   - Data pruned by retention before it was read is never skipped
//     silently: it is named in a *GapError.
//   - Only regular files are read: a link, FIFO, device or directory
//     planted under a name of the directory is refused (ErrNotRegular),
//     named and skipped, never followed or waited on; a zstd frame that
//     asks for a window over 32 MiB is refused too.
//   - Options.Map gives the lines of large uncompressed archives from a
//     memory mapping, without a copy, to a caller that reads them inside
//     Guard: an archive truncated meanwhile is then an error (*FaultError),
//     not a crash.
//   - Options.ReadAhead reads the next archives on other goroutines
//     (decompressed, or with Map mapped) while this one's lines are
//     given, and Options.Scan runs a caller's search on each one's whole
//     text there: a search of a directory uses every core.
//   - A follower follows the directory by name, as tail -F a file: when
//     it is renamed or removed and made again, the new one is read from
//     its start (*DirChange says so).
//
// A single file (OpenFile) or any stream (NewStream: standard input) is
// read with the same API, decompressed by content in the same way, and
// several sources are merged by their stamps as sort -m merges sorted
// files (Merge, OpenMerged). Whatever the input, a program reads a Source
// line by line (Next) or a block of whole lines at a time (NextLines).
package logread
