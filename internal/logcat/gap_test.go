package logcat

import (
	"testing"

	"github.com/taikit/taikit/logread"
	"github.com/taikit/taikit/tai64n"
)

// The warning says what the GapError knows, and no more: named files with
// their sizes and the total when every size is known, "at least" when a
// size is not, "an unknown amount" when nothing is counted.
func TestGapText(t *testing.T) {
	x := tai64n.Label{Sec: 0x400000006b135000, Nano: 1}
	y := tai64n.Label{Sec: 0x400000006b135010, Nano: 2}
	a, b, n := "@400000006b13500a00000000.s", "@400000006b13500b00000000.s", "@400000006b13500f00000000.s"
	for _, c := range []struct {
		g    logread.GapError
		want string
	}{
		{logread.GapError{Dir: "./main", Last: "@400000006b13500000000000.s", LastStamp: x,
			Files: []logread.GapFile{{Name: a, Size: 4079}, {Name: b, Size: 4090}}, Next: n, NextStamp: y},
			"gap in ./main after the line stamped @400000006b13500000000001 (in @400000006b13500000000000.s): " +
				a + " (4079 bytes), " + b + " (4090 bytes) were pruned before logcat read them: 8169 bytes lost; " +
				"reading resumed in " + n + " at the line stamped @400000006b13501000000002"},
		{logread.GapError{Dir: "./main", Last: "previous", LastStamp: x,
			Files: []logread.GapFile{{Name: a, Size: -1}, {Name: "current", Size: 120, Growing: true}}, Next: n},
			"gap in ./main after the line stamped @400000006b13500000000001 (in the file that was previous): " +
				a + " (size unknown), current (at least 120 bytes) were pruned before logcat read them: " +
				"at least 120 bytes lost; reading resumed in " + n},
		{logread.GapError{Dir: "./main", Last: "current", LastStamp: x,
			Files: []logread.GapFile{{Name: a, Size: -1}, {Name: b, Size: -1}, {Name: n, Size: -1}, {Name: "@400000006b13501100000000.s", Size: -1}},
			Next:  "@400000006b13501200000000.s", NextStamp: y},
			"gap in ./main after the line stamped @400000006b13500000000001 (in the file that was current): 4 files, from " +
				a + " (size unknown) to @400000006b13501100000000.s (size unknown), were pruned before logcat read them: " +
				"an unknown amount lost; reading resumed in @400000006b13501200000000.s at the line stamped @400000006b13501000000002"},
		{logread.GapError{Dir: "./main", Last: a, Unknown: true},
			"gap in ./main after the end of " + a + ": files written after it may have been pruned before logcat " +
				"read them (how many is unknown): an unknown amount lost; nothing after it yet"},
		{logread.GapError{Dir: "./main", Cursor: &logread.GapFile{Name: "@400000006b13500a00000000", Size: -1, Read: 500},
			Unknown: true, Next: "current"},
			"gap in ./main: the cursor's file (archive @400000006b13500a00000000, 500 bytes of it read) was pruned " +
				"before logcat read the rest of it; files written after it may have been pruned before logcat read " +
				"them (how many is unknown): an unknown amount lost; reading resumed in current"},
	} {
		if got := gapText(&c.g); got != c.want {
			t.Errorf("\ngot  %q\nwant %q", got, c.want)
		}
	}
}
