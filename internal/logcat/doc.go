// Package logcat is the query pipeline of the logcat command: it reads log
// lines as multilog, s6-log and svlogd store them ("@" and a TAI64N stamp,
// a space, the line), keeps those in a time range that a selection accepts,
// and writes them raw, with readable stamps, as RFC 3339 or as JSON lines.
//
// Every input (standard input, a file, a log directory, several merged) is
// a logread.Source, whose blocks of lines go into the Pipeline through its
// one entry, AddLines. The pipeline works on them whole and reuses its
// buffers, so it
// allocates nothing per line. When every selected line must contain some
// literal bytes (a regular expression like "timeout", a script whose only
// selecting pattern is "+* worker*: failed*"), whole chunks are searched for
// that literal first and only the lines around a hit are looked at, which is
// what lets a search through a large log run at memory speed.
//
// Structured lines are selected by their fields (Field reads logfmt and
// JSON, escapes and all; ParseField reads a --field condition) without
// allocating per line either.
//
// Options parses logcat's command line; Run is the whole command.
package logcat
