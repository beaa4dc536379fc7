// Package tzlocal is local time exactly as the C library computes it: what
// glibc 2.36's localtime() makes of $TZ, including the cases where Go's time
// package answers differently.
//
// daemontools' tai64nlocal formats with localtime(), so a replacement must
// read $TZ as glibc does: TZif files with their historical offsets and
// leap-second records (right/ zones), POSIX TZ rule strings with all of
// glibc's leniency, the posixrules fallback, the silent fall back to UTC,
// and the year range of struct tm. Load resolves a TZ value that way and
// never fails; Local does it for the process's own environment.
//
// A Zone converts both ways. Lookup takes an instant to local time: offset,
// daylight saving, abbreviation, leap-second correction, and a window of
// instants with the same answer, so that callers can cache; Civil adds the
// date and time on the wall clock, 23:59:60 in a leap second. FromWall takes
// a wall-clock reading back to an instant, choosing for the readings that
// happen twice or never when clocks change.
//
// Lookup and Offsets do not allocate; a Zone is immutable and safe for
// concurrent use. The package imports only the standard library.
package tzlocal
