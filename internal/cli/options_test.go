package cli

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

type parseCase struct {
	args     []string
	got      []Got
	operands []string
	err      string // the error's text; "" for none
}

func (c parseCase) check(t *testing.T, dialect string, got []Got, operands []string, err error) {
	t.Helper()
	if c.err != "" {
		var oe *OptionError
		if !errors.As(err, &oe) || err.Error() != c.err || operands != nil || !slices.Equal(got, c.got) {
			t.Errorf("%s %q: %v %q %v; want error %q after %v", dialect, c.args, got, operands, err, c.err, c.got)
		}
		return
	}
	if err != nil || !slices.Equal(got, c.got) || !reflect.DeepEqual(operands, c.operands) {
		t.Errorf("%s %q: %v %q %v; want %v %q", dialect, c.args, got, operands, err, c.got, c.operands)
	}
}

func letters(s string) []Got {
	var g []Got
	for i := 0; i < len(s); i++ {
		g = append(g, Got{Letter: s[i]})
	}
	return g
}

// TestGetopt: daemontools' getopt rules, as its programs (setlock's
// "nNxX", softlimit's "a:c:…") see them.
func TestGetopt(t *testing.T) {
	opts := Letters("nNxXo:", nil)
	o := func(v string) Got { return Got{Letter: 'o', Value: v} }
	for _, c := range []parseCase{
		{args: nil, operands: nil},
		{args: []string{}, operands: []string{}},
		{args: []string{"child", "-n"}, operands: []string{"child", "-n"}},
		{args: []string{"-n", "f", "p"}, got: letters("n"), operands: []string{"f", "p"}},
		// letters group
		{args: []string{"-nx", "-X", "f"}, got: letters("nxX"), operands: []string{"f"}},
		// a value joined, or the next word whatever it is
		{args: []string{"-o5", "c"}, got: []Got{o("5")}, operands: []string{"c"}},
		{args: []string{"-o", "5", "c"}, got: []Got{o("5")}, operands: []string{"c"}},
		{args: []string{"-o", "", "c"}, got: []Got{o("")}, operands: []string{"c"}},
		{args: []string{"-o", "--", "c"}, got: []Got{o("--")}, operands: []string{"c"}},
		{args: []string{"-o=", "c"}, got: []Got{o("=")}, operands: []string{"c"}},
		{args: []string{"-no", "-x", "c"}, got: []Got{{Letter: 'n'}, o("-x")}, operands: []string{"c"}},
		{args: []string{"-nox", "c"}, got: []Got{{Letter: 'n'}, o("x")}, operands: []string{"c"}},
		// "--" ends the options, and so does any word starting with it
		{args: []string{"--", "-n"}, operands: []string{"-n"}},
		{args: []string{"-n", "--foo", "-n"}, got: letters("n"), operands: []string{"-n"}},
		// "-" and "" are operands; options stop at the first operand
		{args: []string{"-n", "-", "-n"}, got: letters("n"), operands: []string{"-", "-n"}},
		{args: []string{"", "-n"}, operands: []string{"", "-n"}},
		{args: []string{"-n", "f", "-x"}, got: letters("n"), operands: []string{"f", "-x"}},
		// mistakes, worded as getopt words them, after what came before
		{args: []string{"-q"}, err: "illegal option -- q"},
		{args: []string{"-nq", "f", "p"}, got: letters("n"), err: "illegal option -- q"},
		{args: []string{"-:"}, err: "illegal option -- :"},
		{args: []string{"-n", "-o"}, got: letters("n"), err: "option requires an argument -- o"},
		{args: []string{"-no"}, got: letters("n"), err: "option requires an argument -- o"},
		// getopt writes the byte as it is: here the first of é's two
		{args: []string{"-é"}, err: "illegal option -- \xc3"},
	} {
		got, operands, err := Getopt(c.args, opts)
		c.check(t, "Getopt", got, operands, err)
	}
}

// TestParse: the same rules with GNU-style long options, for taikit's
// own tools.
func TestParse(t *testing.T) {
	opts := []Option{
		{Letter: 'l', Long: "leap"},
		{Letter: 'w', Long: "wait", Arg: "secs"},
		{Long: "allow-gaps"},
		{Letter: 'j', Arg: "n"},
	}
	l := Got{Letter: 'l', Long: "leap"}
	w := func(v string) Got { return Got{Letter: 'w', Long: "wait", Value: v} }
	for _, c := range []parseCase{
		{args: []string{"--leap", "x"}, got: []Got{l}, operands: []string{"x"}},
		{args: []string{"--wait=5", "x"}, got: []Got{w("5")}, operands: []string{"x"}},
		{args: []string{"--wait", "5", "x"}, got: []Got{w("5")}, operands: []string{"x"}},
		{args: []string{"--wait=", "x"}, got: []Got{w("")}, operands: []string{"x"}},
		{args: []string{"--wait", "-1h"}, got: []Got{w("-1h")}, operands: []string{}},
		{args: []string{"--wait=a=b"}, got: []Got{w("a=b")}, operands: []string{}},
		{args: []string{"--allow-gaps", "-j5"}, got: []Got{{Long: "allow-gaps"}, {Letter: 'j', Value: "5"}}, operands: []string{}},
		// letters as with Getopt: grouped, values joined or not
		{args: []string{"-lw5", "x"}, got: []Got{l, w("5")}, operands: []string{"x"}},
		{args: []string{"-lw", "5", "-l"}, got: []Got{l, w("5"), l}, operands: []string{}},
		{args: []string{"--", "--leap"}, operands: []string{"--leap"}},
		{args: []string{"-", "-l"}, operands: []string{"-", "-l"}},
		{args: []string{"x", "--leap"}, operands: []string{"x", "--leap"}}, // no permutation
		// mistakes, worded as taikit's tools word them
		{args: []string{"-q"}, err: "unknown option -q"},
		{args: []string{"-lq"}, got: []Got{l}, err: "unknown option -q"},
		{args: []string{"-w"}, err: "option -w needs a value"},
		{args: []string{"--wait"}, err: "option --wait needs a value"},
		{args: []string{"--nope"}, err: "unknown option --nope"},
		{args: []string{"--nope=1"}, err: "unknown option --nope"},
		{args: []string{"--leap=1"}, err: "option --leap takes no value"},
		{args: []string{"--leap="}, err: "option --leap takes no value"},
		{args: []string{"--j"}, err: "unknown option --j"},
		{args: []string{"--l"}, err: "unknown option --l"}, // no abbreviations
		{args: []string{"---"}, err: "unknown option ---"},
		{args: []string{"--=x"}, err: "unknown option --"},
		{args: []string{"-:"}, err: "unknown option -:"},
		{args: []string{"-é"}, err: "unknown option -Ã"}, // as fmt's %c words the byte
	} {
		got, operands, err := Parse(c.args, opts)
		c.check(t, "Parse", got, operands, err)
	}
}

// TestKinds: each kind of option, and Set called in the order of the
// command line.
func TestKinds(t *testing.T) {
	var (
		leap    bool
		verbose int
		since   string
		res     []string
		order   []string
	)
	opts := []Option{
		Bool('l', "leap", &leap, ""),
		Count('v', "verbose", &verbose, ""),
		String('S', "since", "time", &since, ""),
		Strings('E', "regexp", "re", &res, ""),
		{Letter: 'o', Arg: "n", Set: func(v string) error { order = append(order, "o"+v); return nil }},
		{Letter: 'x', Set: func(string) error { order = append(order, "x"); return nil }},
	}
	args := []string{"-vv", "-S", "1h", "--regexp=a", "-o1", "-x", "-Eb", "--verbose", "--since", "2h", "-lo", "2", "-E", "", "file"}
	got, operands, err := Parse(args, opts)
	if err != nil || !leap || verbose != 3 || since != "2h" || !slices.Equal(res, []string{"a", "b", ""}) ||
		!slices.Equal(order, []string{"o1", "x", "o2"}) || !slices.Equal(operands, []string{"file"}) || len(got) != 12 {
		t.Fatalf("%v %v; leap %v verbose %d since %q res %q order %q operands %q", got, err, leap, verbose, since, res, order, operands)
	}
}

// TestOrder: svc's options are commands, carried out in the order given;
// and a value checked as it is met stops the parse before a later
// mistake, as daemontools' softlimit dies on a bad value before getopt
// sees the next option.
func TestOrder(t *testing.T) {
	got, dirs, err := Getopt([]string{"-ud", "-u", "-kx", "a", "-d"}, Letters("udopchaitkx", nil))
	if err != nil || !slices.Equal(got, letters("uduk"+"x")) || !slices.Equal(dirs, []string{"a", "-d"}) {
		t.Errorf("svc: %v %q %v", got, dirs, err)
	}
	bad := errors.New("bad value")
	var seen []string
	set := func(letter byte, v string) error {
		seen = append(seen, string(letter)+v)
		if v == "5x" {
			return bad
		}
		return nil
	}
	got, _, err = Getopt([]string{"-o", "5", "-c5x", "-q", "child"}, Letters("c:o:", set))
	if err != bad || !slices.Equal(got, []Got{{Letter: 'o', Value: "5"}}) || !slices.Equal(seen, []string{"o5", "c5x"}) {
		t.Errorf("softlimit: %v %v %q", got, err, seen)
	}
}

// TestHelp: -h and --help stop the parse as soon as they are met.
func TestHelp(t *testing.T) {
	var leap bool
	opts := []Option{Bool('l', "leap", &leap, "leap"), Help("print this help")}
	for _, c := range []struct {
		args []string
		err  string
	}{
		{[]string{"-h"}, ErrHelp.Error()},
		{[]string{"--help", "--nope"}, ErrHelp.Error()},
		{[]string{"-lhz"}, ErrHelp.Error()},
		{[]string{"-h", "file"}, ErrHelp.Error()},
		{[]string{"-z", "-h"}, "unknown option -z"},
		{[]string{"--help=1"}, "option --help takes no value"},
		{[]string{"file", "-h"}, ""},
	} {
		_, _, err := Parse(c.args, opts)
		if c.err == "" && err != nil || c.err != "" && (err == nil || err.Error() != c.err) {
			t.Errorf("%q: %v, want %q", c.args, err, c.err)
		}
	}
}

func TestOptionErrorMessageNamesTheProgramAsInvoked(t *testing.T) {
	e := &OptionError{Letter: 'q', Getopt: true}
	for argv0, want := range map[string]string{
		"softlimit":          "softlimit: illegal option -- q\n",
		"/usr/bin/softlimit": "softlimit: illegal option -- q\n",
		"../bin/weird":       "weird: illegal option -- q\n",
		"a/b/":               ": illegal option -- q\n",
		"":                   ": illegal option -- q\n",
	} {
		if got := e.Message(argv0); got != want {
			t.Errorf("%q: %q, want %q", argv0, got, want)
		}
	}
}

// TestUsageLayout: the help is generated from the declarations, its
// column at the next multiple of ten after the longest name.
func TestUsageLayout(t *testing.T) {
	var b strings.Builder
	var x bool
	Usage(&b, "p", "p [-lx] [-S time] [file ...]", []Option{
		Bool('l', "leap", &x, "leap-aware"),
		{Letter: 'S', Long: "since", Arg: "time", Help: "from time on"},
		{Long: "allow-gaps", Help: "go on after a gap"},
		{Letter: 'j', Arg: "n", Help: "n at once"},
		{Letter: 'x', Long: "hidden"},
		Help("print this help"),
	}, nil)
	want := `p: usage: p [-lx] [-S time] [file ...]
  -l, --leap       leap-aware
  -S, --since time from time on
      --allow-gaps go on after a gap
  -j    n          n at once
  -h, --help       print this help
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	Usage(&b, "p", "p", []Option{{Letter: 'F', Long: "follow-rotate", Help: "follow"}}, &UsageError{"unknown option -q"})
	if want := "p: fatal: unknown option -q\np: usage: p\n  -F, --follow-rotate        follow\n"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

// FuzzParse: whatever the command line, Getopt and Parse neither panic
// nor lose a word: the operands are the end of args, a mistake is an
// *OptionError, and the options met, written out again one to a word
// ("-x value", or "--name=value") before "--" and the operands, read back
// the same.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"-nx\x00-o\x005\x00file", "-o5\x00--\x00-n", "--foo\x00-n", "-\x00-n", "\x00-n", "-nq", "-n\x00-o",
		"--leap\x00--wait=5\x00--wait\x00-1h\x00x", "--leap=1", "--nope", "---", "--=", "-lw5\x00-l", "-é",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	opts := []Option{
		{Letter: 'n'}, {Letter: 'x'}, {Letter: 'o', Arg: "n"},
		{Letter: 'l', Long: "leap"}, {Letter: 'w', Long: "wait", Arg: "secs"}, {Long: "allow-gaps"}, {Long: "cursor", Arg: "file"},
	}
	takes := map[Got]bool{}
	for _, o := range opts {
		takes[Got{Letter: o.Letter, Long: o.Long}] = o.Arg != ""
	}
	f.Fuzz(func(t *testing.T, s string, long bool) {
		args := strings.Split(s, "\x00")
		read, dialect := Getopt, "Getopt"
		if long {
			read, dialect = Parse, "Parse"
		}
		got, operands, err := read(args, opts)
		var oe *OptionError
		switch {
		case err != nil && (!errors.As(err, &oe) || operands != nil || oe.Getopt == long):
			t.Fatalf("%s %q: %v %q %#v", dialect, args, got, operands, err)
		case err == nil && !slices.Equal(operands, args[len(args)-len(operands):]):
			t.Fatalf("%s %q: operands %q are not the end of the line", dialect, args, operands)
		}
		for _, longNames := range []bool{false, long} {
			var again []string
			for _, g := range got {
				value := takes[Got{Letter: g.Letter, Long: g.Long}]
				switch {
				case g.Letter != 0 && (!longNames || g.Long == ""):
					again = append(again, "-"+string([]byte{g.Letter}))
					if value {
						again = append(again, g.Value)
					}
				case value:
					again = append(again, "--"+g.Long+"="+g.Value)
				default:
					again = append(again, "--"+g.Long)
				}
			}
			again = append(append(again, "--"), operands...)
			got2, operands2, err2 := read(again, opts)
			if err2 != nil || !slices.Equal(got2, got) || !slices.Equal(operands2, operands) {
				t.Fatalf("%s %q: %v %q; again %q: %v %q %v", dialect, args, got, operands, again, got2, operands2, err2)
			}
		}
	})
}
