package chain

import (
	"errors"
	"reflect"
	"testing"
)

func TestGetopt(t *testing.T) {
	for _, c := range []struct {
		args     []string
		opts     []Option
		operands []string
		err      string
	}{
		{args: []string{}, operands: []string{}},
		{args: []string{"child", "-n"}, operands: []string{"child", "-n"}},
		{args: []string{"-n", "f", "p"}, opts: []Option{{Letter: 'n'}}, operands: []string{"f", "p"}},
		{args: []string{"-nx", "-X", "f"}, opts: []Option{{Letter: 'n'}, {Letter: 'x'}, {Letter: 'X'}}, operands: []string{"f"}},
		{args: []string{"-o5", "c"}, opts: []Option{{Letter: 'o', Arg: "5"}}, operands: []string{"c"}},
		{args: []string{"-o", "5", "c"}, opts: []Option{{Letter: 'o', Arg: "5"}}, operands: []string{"c"}},
		{args: []string{"-o", "", "c"}, opts: []Option{{Letter: 'o', Arg: ""}}, operands: []string{"c"}},
		{args: []string{"-no", "-x", "c"}, opts: []Option{{Letter: 'n'}, {Letter: 'o', Arg: "-x"}}, operands: []string{"c"}},
		{args: []string{"-nox", "c"}, opts: []Option{{Letter: 'n'}, {Letter: 'o', Arg: "x"}}, operands: []string{"c"}},
		{args: []string{"--", "-n"}, operands: []string{"-n"}},
		{args: []string{"--foo", "-n"}, operands: []string{"-n"}},
		{args: []string{"-n", "-", "-n"}, opts: []Option{{Letter: 'n'}}, operands: []string{"-", "-n"}},
		{args: []string{"", "-n"}, operands: []string{"", "-n"}},
		{args: []string{"-q"}, err: "illegal option -- q"},
		{args: []string{"-nq", "f", "p"}, err: "illegal option -- q"},
		{args: []string{"-:"}, err: "illegal option -- :"},
		{args: []string{"-n", "-o"}, err: "option requires an argument -- o"},
	} {
		opts, operands, err := Getopt(c.args, "nNxXo:")
		if c.err != "" {
			var oe *OptionError
			if !errors.As(err, &oe) || err.Error() != c.err {
				t.Errorf("%q: error %v, want %q", c.args, err, c.err)
			}
			continue
		}
		if err != nil || len(opts) != len(c.opts) || (len(opts) > 0 && !reflect.DeepEqual(opts, c.opts)) || !reflect.DeepEqual(operands, c.operands) {
			t.Errorf("%q: %v %q %v; want %v %q", c.args, opts, operands, err, c.opts, c.operands)
		}
	}
}

func TestOptionErrorMessageNamesTheProgramAsInvoked(t *testing.T) {
	e := &OptionError{Letter: 'q'}
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
