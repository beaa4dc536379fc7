package main

import (
	"math/rand/v2"
	"testing"

	"github.com/taikit/taikit/internal/testref"
	"github.com/taikit/taikit/tai64n"
)

// invalidTZ are TZ values glibc does not take as written: out-of-range
// months, weeks, days and Julian days, missing and extra parts, offsets
// beyond 24 hours, names too short or long, quoted names. glibc keeps
// whatever its parser stored before it gave up, and for a month above 12 it
// reads past its month table; tzlocal follows it (issue 13).
var invalidTZ = []string{
	"EST5EDT,M99.99.99", "EST5EDT,M13.1.0", "EST5EDT,M13.5.0", "EST5EDT,M13.99.0", "EST5EDT,M14.2.0",
	"EST5EDT,M20.2.0", "EST5EDT,M26.2.0", "EST5EDT,M27.2.0", "EST5EDT,M100.1.1", "EST5EDT,M999.9.9",
	"EST5EDT,M2000.2.0", "EST5EDT,M0.2.0", "EST5EDT,M3.0.0", "EST5EDT,M3.6.0", "EST5EDT,M3.2.7",
	"EST5EDT,M3.2.9,M11.1.0", "EST5EDT,M3.2.0,M11.9.0", "EST5EDT,M3.2.0,M11.1.7", "EST5EDT,M3.2.0,M13.1.0",
	"EST5EDT,M3.2.0,M99.99.99", "EST5EDT,M3.2.0/65535,M99.1.0", "EST5EDT,M3.2.0,M0.1.0",
	"EST5EDT,J0", "EST5EDT,J366", "EST5EDT,J365,J400", "EST5EDT,366", "EST5EDT,J60,366", "EST5EDT,-1",
	"EST5EDT,M3", "EST5EDT,M3.2", "EST5EDT,M3.2.", "EST5EDT,M3.2.0,", "EST5EDT,M3.2.0,M11",
	"EST5EDT,M3.2.0,M11.1.0x", "EST5EDT,M3.2.0,M11.1.0,garbage", "EST5EDT,M3.2.0x,M11.1.0",
	"EST5EDT,M3.2.0/,M11.1.0", "EST5EDT,M3.2.0/x,M11.1.0", "EST5EDT,M3.2.0,M11.1.0/",
	"EST5EDT;M3.2.0,M11.1.0", "EST5EDT M3.2.0,M11.1.0", "EST25EDT,M3.2.0,M11.1.0",
	"EST99EDT,M3.2.0,M11.1.0", "EST-25EDT,M3.2.0,M11.1.0", "EST5EDT99,M3.2.0,M11.1.0",
	"EST5EDT-99:99:99,M3.2.0,M11.1.0", "EST65536EDT", "EST4294967301", "EST5:99:99",
	"ES5EDT,M3.2.0,M11.1.0", "E5", "EST5ED,M3.2.0,M11.1.0", "EST5E",
	"ESTESTESTESTESTESTESTESTESTESTESTEST5EDT,M3.2.0,M11.1.0",
	"EST5EDTEDTEDTEDTEDTEDTEDTEDTEDTEDTEDT,M3.2.0,M11.1.0", "<+05>-5", "<+05>-5<+06>,M3.2.0,M11.1.0",
	"<+05-5", "<+5>-5", "<>5", "<A>5", "<+0530>-5:30<+0630>,J1,J365", "<ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789>3",
	"EST", "EST5EDT,", "EST5EDT,,", "EST5EDT,,M3.2.0,M11.1.0", "5EST", "-5", "EST+", "EST-",
	"EST5EDT,J60/-167,J300/167", "EST5EDT,M3.2.0/-65535,M11.1.0/65535", "EST5EDT,J1/25:61:61,J365/-1",
}

// hostileInput stamps 1900–2105 at random and every change of 2020–2027.
func hostileInput() string {
	r := rand.New(rand.NewPCG(13, 14))
	return stampedLines(r, 1500, -2208988800, 4260211200, tai64n.Daemontools) + "\n" +
		everyStep(1577836800, 1798761600, 86400+3607, tai64n.Daemontools)
}

// TestAgainstDaemontoolsInvalidTZ: TZ=EST5EDT,M99.99.99 was an hour off
// daemontools (issue 13). Every invalid TZ value gives what
// /usr/bin/tai64nlocal gives.
func TestAgainstDaemontoolsInvalidTZ(t *testing.T) {
	const ref = "/usr/bin/tai64nlocal"
	testref.Need(t, ref)
	input := hostileInput()
	for _, tz := range invalidTZ {
		res := testref.Exec(t, []string{"TZ=" + tz}, []byte(input), ref)
		if res.Code != 0 {
			t.Errorf("TZ=%q: %s exited %d", tz, ref, res.Code)
			continue
		}
		if got := ours(t, tz, nil, input); got != string(res.Stdout) {
			t.Errorf("TZ=%q differs from daemontools:\n%s", tz, testref.Diff(string(res.Stdout), got))
		}
	}
}
