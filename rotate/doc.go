// Package rotate writes a daemontools log directory: the directory that
// multilog, s6-log and svlogd keep, with "current" being written, older
// data in archives named by TAI64N stamps ("@4000…​.s"), and a "lock" that
// keeps a second writer out. It is the writing side only: package logread
// reads such directories, whoever wrote them.
//
// A Dir is what a program needs to log into such a directory with
// daemontools' guarantees:
//
//   - one writer at a time (flock on "lock", as multilog and svlogd take it);
//   - crash recovery at Open, deciding exactly as multilog does what a
//     killed writer left (a "current" without the owner-execute bit, a
//     half-done rotation) and keeping it as ".u" archives;
//   - files cut at line ends: a file ends at the first newline at or after
//     MaxSize−2000 bytes, and never exceeds MaxSize (a longer line is split
//     at exactly MaxSize);
//   - fsync of every file before it becomes an archive, and "current" left
//     with mode 0744 by Close, the sign of a clean stop;
//   - multilog's processor protocol (the processor reads "previous" and
//     writes "processed", with "state" and "newstate" on descriptors 4 and
//     5), or built-in gzip/zstd compression, run beside the writer rather
//     than stalling it;
//   - retention by count as multilog counts (n keeps n−1 archives), by total
//     archive size (s6-log's S) and rotation by age (s6-log's R);
//   - only regular files written and read: a FIFO, a device or a socket
//     found at one of its names is refused, naming it (ErrNotRegular),
//     and never holds an open(2) for ever, as a FIFO would;
//   - errors that never drop data: a failed write is reported in
//     daemontools' words and retried after a pause; a lossy policy, for
//     those who prefer losing lines to blocking their service, counts what
//     it drops and says so in the log.
//
// Directories written by daemontools' multilog, s6-log or svlogd can be
// opened and continued, and ones written by a Dir can be continued by them.
package rotate
