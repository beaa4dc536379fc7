// Package multilog is daemontools' multilog as a library: its script
// language and the engine that runs a script over a stream of log lines.
//
// Parse reads a script — the words multilog takes as arguments, such as
// "t s250000 n20 -*debug* ./main =status" — into a Plan. Every word
// daemontools understands means what it means there; taikit's extensions
// use letters daemontools does not. Parse never fails: words daemontools
// would ignore are ignored here too, and listed in Plan.Warnings with what
// to do instead.
//
// An Engine runs a Plan over input given to it in chunks, as they are read:
// it stamps each line with one clock reading per chunk, decides each line's
// selection on its first 1000 bytes as daemontools does, and writes each
// directory's share of the chunk with a single Write. Its outputs are
// io.Writers (usually *rotate.Dir, the log directory), so a Go program can
// run a multilog script into anything. It allocates nothing per line and
// holds no line whole, whatever its length.
//
// Run is the whole multilog program around an Engine: it opens the
// script's directories and status files, reads standard input until its
// end or a SIGTERM, and closes everything as a clean stop. It returns
// errors for the command to word; it never exits or chooses an exit code.
package multilog
