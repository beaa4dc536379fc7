package logcat

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/taikit/taikit/tai64n"
)

// tableModel is the table --rate writes, as plainly as it can be said:
// each row the interval's start (UTC, as tai64nlocal writes it, without a
// fraction), its count right-aligned to the widest count, and a bar of
// '#' whose length is count × bars / max rounded up, where bars is what is
// left of width after the two columns and a space after each (at least
// 10): the largest count fills the width, any count shows.
func tableModel(starts []time.Time, counts []int64, width int) string {
	var maxCount int64
	for _, c := range counts {
		maxCount = max(maxCount, c)
	}
	countW := len(fmt.Sprint(maxCount))
	var b strings.Builder
	for i, st := range starts {
		ts := st.UTC().Format("2006-01-02 15:04:05")
		row := fmt.Sprintf("%s %*d", ts, countW, counts[i])
		bars := max(width-len(ts)-1-countW-1, 10)
		n := 0
		if counts[i] > 0 {
			n = int(float64(counts[i]) * float64(bars) / float64(maxCount))
			if int64(n)*maxCount < counts[i]*int64(bars) {
				n++
			}
		}
		if n > 0 {
			row += " " + strings.Repeat("#", n)
		}
		b.WriteString(row + "\n")
	}
	return b.String()
}

// The table against the model, over random logs, selections, intervals
// and widths: the counts are those of the selected lines in each interval
// from the first line read to the last, empty ones included, and the rows
// are drawn as the model draws them. JSON has the same counts.
func TestRateTableAgainstModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 18))
	intervals := []time.Duration{time.Second, 10 * time.Second, time.Minute, 5 * time.Minute, time.Hour, 7 * time.Second}
	for round := range 200 {
		interval := intervals[rng.IntN(len(intervals))]
		width := []int{80, 120, 40, 20, 1 + rng.IntN(200)}[rng.IntN(5)]
		sec := int64(1_800_000_000 + rng.IntN(100_000))
		var input strings.Builder
		var stamps []int64 // of every line with a time, in order
		var hits []bool
		for i := range rng.IntN(300) {
			word := []string{"hit", "miss"}[rng.IntN(2)]
			if i > 0 && rng.IntN(5) == 0 {
				// Unstamped: the time of the line before.
				fmt.Fprintf(&input, "  more %s\n", word)
			} else {
				sec += int64(rng.IntN(int(3 * interval / time.Second)))
				fmt.Fprintf(&input, "%s\n", stamped(sec, word))
			}
			stamps = append(stamps, sec)
			hits = append(hits, word == "hit")
		}
		iv := int64(interval / time.Second)
		var starts []time.Time
		var counts []int64
		if len(stamps) > 0 {
			lo, hi := stamps[0]/iv, stamps[len(stamps)-1]/iv
			for k := lo; k <= hi; k++ {
				starts = append(starts, time.Unix(k*iv, 0))
				counts = append(counts, 0)
			}
			for i, s := range stamps {
				if hits[i] {
					counts[s/iv-lo]++
				}
			}
		}
		q := Query{Last: -1, Rate: &Rate{Interval: interval, Width: width}, Format: FormatRaw,
			Selector: mustSelector(t, nil, []string{"hit"}, false)}
		want := tableModel(starts, counts, width)
		name := fmt.Sprintf("round %d: %d lines, interval %s, width %d", round, len(stamps), interval, width)
		if got := runQuery(t, q, input.String()); got != want {
			t.Fatalf("%s: got\n%s\nwant\n%s\ninput\n%s", name, got, want, input.String())
		}
		if got := addQuery(t, q, input.String()); got != want {
			t.Fatalf("%s, line by line: got\n%s\nwant\n%s", name, got, want)
		}
		q.Format = FormatJSON
		var got []int64
		for l := range strings.Lines(runQuery(t, q, input.String())) {
			var row struct {
				Time    string  `json:"time"`
				Seconds float64 `json:"seconds"`
				Count   int64   `json:"count"`
			}
			if err := json.Unmarshal([]byte(l), &row); err != nil {
				t.Fatalf("%s: %q: %v", name, l, err)
			}
			if want := starts[len(got)].UTC().Format("2006-01-02T15:04:05.000000000Z"); row.Time != want || row.Seconds != interval.Seconds() {
				t.Fatalf("%s: row %d at %s, %v s; want %s, %v s", name, len(got), row.Time, row.Seconds, want, interval.Seconds())
			}
			got = append(got, row.Count)
		}
		if fmt.Sprint(got) != fmt.Sprint(counts) && !(len(got) == 0 && len(counts) == 0) {
			t.Fatalf("%s: JSON counts %v, want %v", name, got, counts)
		}
	}
}

// A time range sets the rows shown, whatever lines there are: from the
// interval of -S to that of the instant before -U.
func TestRateTimeRange(t *testing.T) {
	base := int64(1_800_000_000) // a whole hour
	input := stamped(base+130, "hit") + "\n" + stamped(base+150, "hit") + "\n"
	q := Query{Last: -1, Rate: &Rate{Interval: time.Minute, Width: 30},
		Since: label(base), HasSince: true, Until: label(base + 300), HasUntil: true}
	want := tableModel([]time.Time{time.Unix(base, 0), time.Unix(base+60, 0), time.Unix(base+120, 0), time.Unix(base+180, 0), time.Unix(base+240, 0)},
		[]int64{0, 0, 2, 0, 0}, 30)
	if got := runQuery(t, q, input); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	// Nothing read and no range: no rows.
	if got := runQuery(t, Query{Last: -1, Rate: &Rate{Interval: time.Minute, Width: 80}}, ""); got != "" {
		t.Errorf("an empty log: %q", got)
	}
	// An interval too short for the range is said, not taken.
	q = Query{Last: -1, Rate: &Rate{Interval: time.Nanosecond, Width: 80}}
	var out bytes.Buffer
	p := NewPipeline(q, &out)
	p.AddLines([]byte(stamped(base, "a")+"\n"+stamped(base+3600, "b")+"\n"), tai64n.Label{})
	if err := p.Flush(); err == nil || !strings.Contains(err.Error(), "choose a longer --interval") {
		t.Errorf("1ns over an hour: %v", err)
	}
}

// Live (-F), a row is written once its interval has closed: when a line of
// a later interval is read, with the empty intervals between; the interval
// still open is written at the end.
func TestRateLive(t *testing.T) {
	base := int64(1_800_000_000)
	var out bytes.Buffer
	p := NewPipeline(Query{Last: -1, Live: true, Rate: &Rate{Interval: time.Minute, Width: 40},
		Selector: mustSelector(t, nil, []string{"hit"}, false)}, &out)
	row := func(min int64, count int64, bar int) string {
		r := time.Unix(base+60*min, 0).UTC().Format("2006-01-02 15:04:05") + " " + strconv.FormatInt(count, 10)
		if bar > 0 {
			r += " " + strings.Repeat("#", bar)
		}
		return r + "\n"
	}
	steps := []struct {
		lines string
		want  string // written by then
	}{
		{stamped(base+1, "hit") + "\n" + stamped(base+2, "hit") + "\n", ""},
		{stamped(base+59, "miss") + "\n", ""},
		{stamped(base+61, "hit") + "\n", row(0, 2, 18)},
		{stamped(base+200, "miss") + "\n", row(0, 2, 18) + row(1, 1, 9) + row(2, 0, 0)},
		{stamped(base+230, "hit") + "\n" + stamped(base+231, "hit") + "\n" + stamped(base+232, "hit") + "\n", row(0, 2, 18) + row(1, 1, 9) + row(2, 0, 0)},
	}
	for i, s := range steps {
		p.AddLines([]byte(s.lines), tai64n.Label{})
		p.flush()
		if out.String() != s.want {
			t.Fatalf("step %d: written\n%s\nwant\n%s", i, out.String(), s.want)
		}
	}
	if err := p.Flush(); err != nil {
		t.Fatal(err)
	}
	// The last row scaled to the largest count written so far: its own.
	if want := steps[len(steps)-1].want + row(3, 3, 18); out.String() != want {
		t.Errorf("at the end: written\n%s\nwant\n%s", out.String(), want)
	}
}

// The SVG is XML with a bar per row, heights in proportion to the counts,
// and the title and times escaped.
func TestRateSVG(t *testing.T) {
	rows := []RateRow{{label(0), 3}, {label(60), 0}, {label(120), 6}}
	var b bytes.Buffer
	title := `logcat -E "<a & b>" ./main`
	if err := WriteSVG(&b, rows, time.Minute, title, func(l tai64n.Label) string { return l.String() }); err != nil {
		t.Fatal(err)
	}
	var svg struct {
		XMLName xml.Name `xml:"svg"`
		Title   string   `xml:"title"`
		Rects   []struct {
			Class  string  `xml:"class,attr"`
			Height float64 `xml:"height,attr"`
			Title  string  `xml:"title"`
		} `xml:"rect"`
	}
	if err := xml.Unmarshal(b.Bytes(), &svg); err != nil {
		t.Fatalf("not XML: %v\n%s", err, b.String())
	}
	if svg.Title != title {
		t.Errorf("title %q, want %q", svg.Title, title)
	}
	var bars []float64
	for _, r := range svg.Rects {
		if r.Class == "bar" {
			bars = append(bars, r.Height)
		}
	}
	if len(bars) != 3 || bars[1] != 0 || bars[2] != 2*bars[0] || bars[2] <= 0 {
		t.Errorf("bar heights %v, want 3 in proportion to 3, 0, 6", bars)
	}
}
