// Package tai64n reads, writes and converts TAI64N labels, the timestamps of
// daemontools' multilog and tai64n and of s6-log and svlogd: "@" followed by
// 24 hex digits, eight bytes of seconds from 2^62 and four of nanoseconds.
//
// # Two conventions
//
// The same instant gets two different labels in the wild, 27 seconds apart
// today. daemontools and runit take the system clock for TAI−10 and write
// 2^62 + 10 + Unix time (Daemontools, the default in taikit); s6 and skalibs
// take it for UTC and add the leap seconds inserted since 1972 (LeapAware).
// A label must be read in the convention it was written in.
//
// # Local time
//
// Formatter writes labels in tai64nlocal's format or as RFC 3339, in UTC or
// in any Zone: a small interface giving the offset at an instant and how
// long it holds. daemontools' tai64nlocal converts with the C library's
// localtime, and package tzlocal's Zone reproduces that exactly (zone files,
// POSIX rule strings, right/ zones with leap seconds); Location adapts the
// standard library's *time.Location. A Formatter remembers the last second
// it wrote and the zone's answer around it, so a burst of lines costs one
// calendar computation and the zone is asked once per offset change.
//
// # Hot paths
//
// Append, ParsePrefix, Formatter.Append and the Copy methods of Stamper and
// Converter do not allocate: the caller owns the buffers.
package tai64n
