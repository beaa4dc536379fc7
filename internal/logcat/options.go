package logcat

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/taikit/taikit/internal/cli"
)

// Synopsis is logcat's usage line.
const Synopsis = "logcat [-fFcvjrtul] [-S since] [-U until] [-p +pattern|-pattern|g+glob|g-glob]... [-E regexp]... [--field cond]... [--show keys] [--rate] [--interval d] [--svg file] [-m first] [-n last] [-A n] [-B n] [--context n] [-H|--no-label] [--color when] [-C cursor] [--allow-gaps] [dir|file|-]..."

// Format is how selected lines are written.
type Format uint8

const (
	FormatRaw     Format = iota // as stored
	FormatTAI64N                // stamps as tai64nlocal writes them
	FormatRFC3339               // stamps as RFC 3339 with nanoseconds
	FormatJSON                  // one JSON object per line
)

// LabelMode says when lines are written after the name of their input.
type LabelMode uint8

const (
	LabelAuto   LabelMode = iota // when two or more log directories are read
	LabelAlways                  // -H
	LabelNever                   // --no-label
)

// ColorMode says when the output is coloured.
type ColorMode uint8

const (
	ColorAuto   ColorMode = iota // when standard output is a terminal, and NO_COLOR is not set
	ColorAlways                  // --color=always
	ColorNever                   // --color=never
)

// Options is a parsed command line.
type Options struct {
	Since, Until string        // time arguments as given; "" when absent
	Words        []string      // selection script words, in order: +pat, -pat, g+glob, g-glob
	Regexps      []string      // -E, in order
	Fields       []FieldCond   // --field: every one must hold
	Show         []string      // --show: the fields written instead of the line
	Rate         bool          // --rate: counts over time instead of lines
	Interval     time.Duration // --interval: of --rate
	SVG          string        // --svg: write the chart of --rate there
	Invert       bool          // -v
	Count        bool          // -c
	First        int           // -m: stop after this many selected lines; 0 means no limit
	Last         int           // -n: only the last this many selected lines; -1 means all
	Before       int           // -B: context lines before each selected line; -1 means --context's
	After        int           // -A: context lines after each selected line; -1 means --context's
	Context      int           // --context: -B and -A, where they are not given; -1 means none
	Label        LabelMode
	Color        ColorMode
	Format       Format
	UTC          bool // -u: UTC instead of local time
	Leap         bool // -l: stamps are leap-aware (s6)
	Follow       bool // -f
	FollowRotate bool // -F
	Cursor       string
	AllowGaps    bool // --allow-gaps: data pruned before it was read is warned about, and exits 0
	Help         bool
	Inputs       []string // operands; empty means standard input
}

// option is one entry of the option table: a flag (set != nil) or an
// option that takes a value (value != nil).
type option struct {
	short byte // 0 for a long option only
	long  string
	arg   string // name of the value in the help, "" for a flag
	help  string
	set   func(o *Options)
	value func(o *Options, v string) error
}

var optionTable = []option{
	{short: 'S', long: "since", arg: "time", help: "only lines stamped at or after time",
		value: func(o *Options, v string) error { o.Since = v; return nil }},
	{short: 'U', long: "until", arg: "time", help: "only lines stamped before time",
		value: func(o *Options, v string) error { o.Until = v; return nil }},
	{short: 'p', long: "pattern", arg: "word", help: "multilog selection word: +pattern, -pattern, g+glob, g-glob (in order)",
		value: func(o *Options, v string) error {
			if !isScriptWord(v) {
				return &cli.UsageError{Msg: fmt.Sprintf("-p %q: a selection word starts with +, -, g+ or g-", v)}
			}
			o.Words = append(o.Words, v)
			return nil
		}},
	{short: 'E', long: "regexp", arg: "re", help: "only lines a Go regular expression matches (any of several)",
		value: func(o *Options, v string) error { o.Regexps = append(o.Regexps, v); return nil }},
	{long: "field", arg: "cond", help: "only lines whose logfmt or JSON field holds: key=value, key!=value, key>n, key<n, key>=n, key<=n (all of several)",
		value: func(o *Options, v string) error {
			c, err := ParseField(v)
			if err != nil {
				return err
			}
			o.Fields = append(o.Fields, c)
			return nil
		}},
	{long: "show", arg: "keys", help: "write only these fields (comma-separated) of each line, after its stamp, as logfmt",
		value: func(o *Options, v string) error {
			for _, k := range strings.Split(v, ",") {
				if k == "" {
					return &cli.UsageError{Msg: fmt.Sprintf("--show %q: want field names separated by commas", v)}
				}
				o.Show = append(o.Show, k)
			}
			return nil
		}},
	{short: 'v', long: "invert", help: "select the lines the patterns and regexps do not select",
		set: func(o *Options) { o.Invert = true }},
	{short: 'c', long: "count", help: "print only the number of selected lines",
		set: func(o *Options) { o.Count = true }},
	{long: "rate", help: "print, instead of lines, the number of selected lines per interval (--interval, 1m) over the range read, with bars",
		set: func(o *Options) { o.Rate = true }},
	{long: "interval", arg: "duration", help: "the interval of --rate: 10s, 5m, 1h, 24h… (implies --rate)",
		value: func(o *Options, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return &cli.UsageError{Msg: fmt.Sprintf("--interval %q: want a duration, such as 10s, 5m or 1h", v)}
			}
			o.Interval, o.Rate = d, true
			return nil
		}},
	{long: "svg", arg: "file", help: "also write the chart of --rate as SVG to file, for a browser (implies --rate)",
		value: func(o *Options, v string) error { o.SVG, o.Rate = v, true; return nil }},
	{short: 'm', long: "first", arg: "n", help: "stop after the first n selected lines",
		value: func(o *Options, v string) error { return count(v, "-m", &o.First) }},
	{short: 'n', long: "last", arg: "n", help: "only the last n selected lines (with -f: then follow)",
		value: func(o *Options, v string) error { return count(v, "-n", &o.Last) }},
	{short: 'A', long: "after-context", arg: "n", help: "also write the n lines after each selected line (\"--\" between groups)",
		value: func(o *Options, v string) error { return count(v, "-A", &o.After) }},
	{short: 'B', long: "before-context", arg: "n", help: "also write the n lines before each selected line (\"--\" between groups)",
		value: func(o *Options, v string) error { return count(v, "-B", &o.Before) }},
	{long: "context", arg: "n", help: "also write the n lines before and after each selected line, as -B n -A n",
		value: func(o *Options, v string) error { return count(v, "--context", &o.Context) }},
	{short: 'H', long: "label", help: "write each line after the name of its input (the default with several directories)",
		set: func(o *Options) { o.Label = LabelAlways }},
	{long: "no-label", help: "write no names of inputs, even with several directories",
		set: func(o *Options) { o.Label = LabelNever }},
	{long: "color", arg: "when", help: "colour stamps, labels and matches: auto (on a terminal, unless NO_COLOR is set), always or never",
		value: func(o *Options, v string) error {
			switch v {
			case "auto":
				o.Color = ColorAuto
			case "always":
				o.Color = ColorAlways
			case "never":
				o.Color = ColorNever
			default:
				return &cli.UsageError{Msg: fmt.Sprintf("--color %q: want auto, always or never", v)}
			}
			return nil
		}},
	{short: 't', long: "local", help: "write stamps as tai64nlocal does (local time)",
		set: func(o *Options) { o.Format = FormatTAI64N }},
	{short: 'r', long: "rfc3339", help: "write stamps as RFC 3339 with the local offset",
		set: func(o *Options) { o.Format = FormatRFC3339 }},
	{short: 'j', long: "json", help: `write JSON lines: {"time":…,"tai64n":…,"line":…}, time as with -r`,
		set: func(o *Options) { o.Format = FormatJSON }},
	{short: 'u', long: "utc", help: "UTC instead of local time, for -t, -r and times given",
		set: func(o *Options) { o.UTC = true }},
	{short: 'l', long: "leap", help: "stamps are leap-second aware, as s6-log writes them",
		set: func(o *Options) { o.Leap = true }},
	{short: 'f', long: "follow", help: "after the end, print lines as they are written",
		set: func(o *Options) { o.Follow = true }},
	{short: 'F', long: "follow-rotate", help: "follow, across rotations, losing no line (same as -f for directories)",
		set: func(o *Options) { o.FollowRotate = true }},
	{short: 'C', long: "cursor", arg: "file", help: "resume after the stamp saved in file, and save the last one read",
		value: func(o *Options, v string) error { o.Cursor = v; return nil }},
	{long: "allow-gaps", help: "exit 0 when data was pruned before it was read (still warned about)",
		set: func(o *Options) { o.AllowGaps = true }},
	{short: 'h', long: "help", help: "print this help",
		set: func(o *Options) { o.Help = true }},
}

func isScriptWord(w string) bool {
	return strings.HasPrefix(w, "+") || strings.HasPrefix(w, "-") ||
		strings.HasPrefix(w, "g+") || strings.HasPrefix(w, "g-")
}

func count(v, name string, dst *int) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return &cli.UsageError{Msg: fmt.Sprintf("%s %q: want a number of lines, 0 or more", name, v)}
	}
	*dst = n
	return nil
}

// Parse parses a command line (without the program name) with the command
// layer's parser (cli.Parse): short options can be grouped ("-cv"), an
// option's value follows it directly ("-n20") or as the next argument ("-n
// 20", which may start with "-": "-S -1h"); long options take "--name
// value" or "--name=value"; "--" ends the options, and so does the first
// operand. Mistakes are *cli.OptionError or *cli.UsageError.
func Parse(args []string) (*Options, error) {
	o := &Options{Last: -1, Before: -1, After: -1, Context: -1}
	_, inputs, err := cli.Parse(args, declare(o))
	if err != nil {
		return nil, err
	}
	// As grep: -A and -B win over --context, whatever their order.
	for _, n := range []*int{&o.Before, &o.After} {
		if *n < 0 {
			*n = max(o.Context, 0)
		}
	}
	o.Inputs = inputs
	if o.Rate {
		if o.Interval == 0 {
			o.Interval = time.Minute
		}
		switch {
		case o.Count:
			return nil, &cli.UsageError{Msg: "--rate counts per interval: it cannot take -c as well"}
		case o.Last >= 0:
			return nil, &cli.UsageError{Msg: "--rate counts every interval: it cannot take -n"}
		case o.Before > 0 || o.After > 0:
			return nil, &cli.UsageError{Msg: "--rate prints counts, not lines: it cannot take -A, -B or --context"}
		case o.Show != nil:
			return nil, &cli.UsageError{Msg: "--rate prints counts, not fields: it cannot take --show"}
		}
	}
	if o.Count && (o.Follow || o.FollowRotate) {
		return nil, &cli.UsageError{Msg: "-c counts to the end of the log and cannot follow it"}
	}
	if o.Count && o.Format != FormatRaw {
		return nil, &cli.UsageError{Msg: "-c prints a number, not lines: it cannot take -t, -r or -j"}
	}
	return o, nil
}

// declare gives optionTable to the command layer's parser, each option
// setting its field of o as it is met.
func declare(o *Options) []cli.Option {
	opts := make([]cli.Option, len(optionTable))
	for i, t := range optionTable {
		opts[i] = cli.Option{Letter: t.short, Long: t.long, Arg: t.arg, Help: t.help}
		if t.set != nil {
			opts[i].Set = func(string) error { t.set(o); return nil }
		} else {
			opts[i].Set = func(v string) error { return t.value(o, v) }
		}
	}
	return opts
}

// Usage writes the usage message (after the mistake, if any) and returns
// cli.ExitUsage.
func Usage(w io.Writer, mistake error) int {
	return cli.Usage(w, "logcat", Synopsis, declare(&Options{}), mistake)
}
