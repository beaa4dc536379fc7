package logcat_test

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/taikit/taikit/internal/logcat"
	"github.com/taikit/taikit/logread"
	"github.com/taikit/taikit/tai64n"
)

// A query over stamped lines: a time range, a multilog pattern, and the
// stamps written as RFC 3339 in UTC.
func Example() {
	ctx := logcat.TimeContext{Now: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)}
	since, _ := logcat.ParseTime("10:00Z", ctx)
	sel, _ := logcat.NewSelector([]string{"+* fatal: *"}, nil, false)
	p := logcat.NewPipeline(logcat.Query{
		Since: since, HasSince: true,
		Selector: sel,
		Format:   logcat.FormatRFC3339,
		Last:     -1,
	}, os.Stdout)
	at := func(hh int) string {
		return tai64n.FromTime(time.Date(2026, 11, 21, hh, 0, 0, 0, time.UTC), tai64n.Daemontools).String()
	}
	log := at(9) + " fatal: too early\n" +
		at(10) + " fatal: disk full\n" +
		at(11) + " info: all well\n"
	src := logread.NewStream(strings.NewReader(log), logread.Options{})
	defer src.Close()
	for {
		b, err := src.NextLines()
		if err != nil {
			break // io.EOF at the end
		}
		p.AddLines(b.Bytes, b.Stamp)
	}
	p.Flush()
	fmt.Println(p.Selected(), "selected")
	// Output:
	// 2026-11-21T10:00:00.000000000Z fatal: disk full
	// 1 selected
}

// Fields of a logfmt line and of a JSON line, escapes decoded, and a
// --field condition on them.
func ExampleField() {
	cond, _ := logcat.ParseField("ms>500")
	for _, text := range []string{
		`level=error msg="disk \"sda\" full" ms=512`,
		`{"level":"warn","msg":"slow","ms":120,"http":{"status":503}}`,
	} {
		msg, _ := logcat.Field([]byte(text), "msg", nil)
		ms, _ := logcat.Field([]byte(text), cond.Key, nil)
		fmt.Printf("msg %q, ms %s\n", msg, ms)
	}
	status, ok := logcat.Field([]byte(`{"http":{"status":503}}`), "http.status", nil)
	fmt.Println(string(status), ok)
	// Output:
	// msg "disk \"sda\" full", ms 512
	// msg "slow", ms 120
	// 503 true
}
