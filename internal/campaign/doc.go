// Package campaign is the fault campaign of the logging half of taikit
// (issue 7): it runs the multilog command, built from ./cmd/multilog, under
// the faults its users meet and checks, from the outside, that no line is
// lost or written twice beyond what daemontools' contract allows.
//
// It holds only tests:
//
//   - kill -9 (and SIGHUP, SIGINT) of multilog at random moments during a
//     long stream of numbered lines fed through a pipe the test holds open,
//     as svscan holds a log pipe; multilog is restarted on the same
//     directory and the same pipe each time, plain, with a processor and
//     with built-in compression. Every kill is accounted for byte by byte:
//     the pipe tells how much each process read, the directory how much of
//     it was written, and at most one read (1 MiB) may be lost per kill;
//   - a full disk (a small tmpfs, as root): writes pause and resume by
//     themselves, losing nothing, and the time to resume is measured;
//   - signal storms: SIGTERM and SIGALRM at high rates while writing, while
//     a slow processor runs and during pauses; SIGPIPE on standard output
//     (the 1 action) and standard error (the e action);
//   - bad input and bad directories: NUL bytes, invalid UTF-8, a 1 GiB line
//     (peak memory), a directory named like an archive, a read-only log
//     directory, a current that is a symbolic link or a directory;
//   - security: the modes daemontools gives each file whatever the umask,
//     and no file created outside the directories and status files a
//     script names, whatever the input;
//   - hostile directories (issue 13): symbolic links in and out of the
//     directory, dangling links, FIFOs, directories, devices and hard links,
//     planted by another account at each name multilog, logcat, supervise,
//     svstat and envdir touch. taikit's command must not write outside,
//     print what lies outside, hang, or crash, and must say why whenever
//     it fails; daemontools' outcome is run and logged beside it.
//
// The supervise half of the campaign (supervise_*_test.go) shares the
// package; its figures are in SUPERVISE-RESULTS.md.
//
// The default form is short (a few seconds per test, in go test ./...).
// TAIKIT_CAMPAIGN=long runs the long form: at least 100 kills of multilog
// during a stream of millions of lines, larger storms, a 1 GiB line. Every
// test logs its figures (go test -v, "FIGURE" lines); RESULTS.md keeps
// those of a long run. Random choices are logged with their seed and
// replayed with TAIKIT_CAMPAIGN_SEED=<seed>. Every failure the campaign
// found has been fixed, and its check now fails the test outright.
package campaign
