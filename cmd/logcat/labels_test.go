package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/taikit/taikit/internal/logtest"
	"github.com/taikit/taikit/internal/testref"
)

// A labelled merge piped into daemontools' tai64nlocal has its stamps
// converted, as -t converts them: the label comes after the stamp, which
// tai64nlocal converts only at the start of a line.
func TestLabelledMergeThroughTai64nlocal(t *testing.T) {
	dirs, _ := logtest.MergeFixture(t, t.TempDir(), -1)
	for _, extra := range [][]string{nil, {"-A", "1", "-E", "line [0-9]*7$"}} {
		raw := run(t, "", append(append([]string{}, extra...), dirs...)...)
		local := run(t, "", append(append([]string{"-t", "-u"}, extra...), dirs...)...)
		if raw.code != 0 || local.code != 0 {
			t.Fatalf("%q: exit %d %s / %d %s", extra, raw.code, raw.err, local.code, local.err)
		}
		if !regexp.MustCompile(`(?m)^@[0-9a-f]{24} d[0-9]: `).MatchString(raw.out) {
			t.Fatalf("%q: no stamp then label in\n%.300s", extra, raw.out)
		}
		if extra != nil && !regexp.MustCompile(`(?m)^@[0-9a-f]{24} d[0-9]- `).MatchString(raw.out) {
			t.Fatalf("%q: no context line marked after its stamp in\n%.300s", extra, raw.out)
		}
		got := string(tai64nlocal(t, "UTC", raw.out))
		if strings.Contains(got, "@4000") {
			t.Errorf("%q: tai64nlocal left stamps:\n%.300s", extra, got)
		}
		if got != local.out {
			t.Errorf("%q: logcat | tai64nlocal differs from logcat -t:\n%s", extra, testref.Diff(local.out, got))
		}
	}
}
