package conformance

import (
	"regexp"
	"sort"
	"strconv"
)

// The masks of cases.py (STAMP_RE, DT_RE, NAME_RE).
var (
	stampRE    = regexp.MustCompile(`@[0-9a-f]{24}`)
	dateTimeRE = regexp.MustCompile(`[0-9]{4}-[0-9]{2}-[0-9]{2}[ _T][0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{5,9}`)
	archiveRE  = regexp.MustCompile(`^@[0-9a-f]{24}\.[su]$`)
)

// MaskStamps replaces every "@" followed by 24 lowercase hex digits with
// "@<TAI64N>".
func MaskStamps(b []byte) []byte {
	return stampRE.ReplaceAllLiteral(b, []byte("@<TAI64N>"))
}

// MaskDateTimes replaces the date-times s6-log's T and svlogd's -tt/-ttt
// write ("2026-05-01 12:34:56.123456789", "2026-05-01_12:34:56.12345", and
// the same with "T") with "<DATETIME>".
func MaskDateTimes(b []byte) []byte {
	return dateTimeRE.ReplaceAllLiteral(b, []byte("<DATETIME>"))
}

// Mask applies MaskStamps and then, when dateTimes, MaskDateTimes, as
// cases.py's mask(b, dt) does.
func Mask(b []byte, dateTimes bool) []byte {
	b = MaskStamps(b)
	if dateTimes {
		b = MaskDateTimes(b)
	}
	return b
}

// IsArchiveName reports whether name is an archive name, "@" + 24 lowercase
// hex digits + ".s" or ".u".
func IsArchiveName(name string) bool { return archiveRE.MatchString(name) }

// MaskNames returns the names as a directory listing shows them: archive
// names become "@<TAI64N#k>.s" or ".u", k counting from 1 in ascending order
// of the real names (which is chronological); other names stay. The result
// is parallel to names, which may be in any order.
func MaskNames(names []string) []string {
	order := make([]int, 0, len(names))
	for i, n := range names {
		if IsArchiveName(n) {
			order = append(order, i)
		}
	}
	sort.SliceStable(order, func(a, b int) bool { return names[order[a]] < names[order[b]] })
	out := append([]string(nil), names...)
	for k, i := range order {
		out[i] = archivePlaceholder(k+1, names[i][25:])
	}
	return out
}

func archivePlaceholder(k int, suffix string) string {
	return "@<TAI64N#" + strconv.Itoa(k) + ">" + suffix
}

// placeholderRE matches what archivePlaceholder writes.
var placeholderRE = regexp.MustCompile(`^@<TAI64N#[1-9][0-9]*>(\.[su])$`)
