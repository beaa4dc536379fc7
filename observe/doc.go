// Package observe reads what a supervision tree knows, for programs that
// show it: a Snapshot of every service of one or more scan directories
// (what svstat says of each, as data) and of their log directories (size,
// archives, the last write and the oldest line kept).
//
// It reads the files that supervisors and loggers keep, daemontools'
// layout, with either daemontools' supervise or taikit's: under
// daemontools' there is no supervise/extra, and a Service says only what
// is known (Extra false: no readiness, restarts or last exit). Extra
// lines it does not know are ignored, so a newer supervisor's file reads
// as well as this version's.
//
// Nothing is served from a name a user gives: a Snapshot lists the
// services and log directories found, and callers look names up in it
// (Snapshot.Service, Snapshot.LogDir) instead of joining them to a path.
// Inside a log directory only regular files are read, never a link.
package observe
