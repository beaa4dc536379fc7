package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// Option declares one option of a command, once: what Getopt and Parse
// accept, and the line Usage prints for it. The constructors Bool, Count,
// String, Strings, Help and Letters declare the usual kinds; a literal
// with its own Set declares the rest (a value checked as it is met).
type Option struct {
	Letter byte   // -x; 0 for an option with a long name only
	Long   string // --name, read by Parse only; "" for none
	// Arg names the option's value in the help ("secs"); an option with
	// an Arg takes a value, one without is a flag.
	Arg  string
	Help string // its line in the help; "" leaves it out
	// Set, when not nil, is called as the option is met, in the order of
	// the command line, with its value ("" for a flag). An error stops
	// the parse and is returned as it is: a value's own mistake, or
	// ErrHelp.
	Set func(value string) error
}

// Got is one option met on a command line. Getopt and Parse return them
// in order, for commands whose options are steps (svc's commands,
// softlimit's limits) or where the last of several counts (setlock's -n
// and -N).
type Got struct {
	Letter byte   // the option's letter, however it was given; 0 if it has none
	Long   string // the option's long name, however it was given; "" if it has none
	Value  string // its value; "" for a flag
}

// OptionError is an option a command line gets wrong: unknown, missing
// its value, or given a value it does not take.
type OptionError struct {
	Letter   byte   // the letter as given, or 0 for a long option
	Long     string // a long option's name as given, without "--" and "=value"
	Missing  bool   // the option takes a value and none was left
	Unwanted bool   // a long option that takes no value was given one: --leap=1
	// Getopt: refused by Getopt, and worded as daemontools' getopt words
	// it ("illegal option -- q"); otherwise as taikit's tools word it
	// ("unknown option -q").
	Getopt bool
}

func (e *OptionError) Error() string {
	if e.Getopt {
		// getopt writes the byte as it is, the first byte of a UTF-8
		// letter included.
		if e.Missing {
			return "option requires an argument -- " + string([]byte{e.Letter})
		}
		return "illegal option -- " + string([]byte{e.Letter})
	}
	name := "--" + e.Long
	if e.Letter != 0 {
		name = "-" + string(rune(e.Letter)) // as fmt's %c: a byte above 0x7f as the rune
	}
	switch {
	case e.Missing:
		return "option " + name + " needs a value"
	case e.Unwanted:
		return "option " + name + " takes no value"
	}
	return "unknown option " + name
}

// Message returns the whole line daemontools' getopt writes to standard
// error for e when the program was invoked as argv0, before the program
// writes its usage: getopt names the program by the last part of argv0,
// whatever it is ("weird: illegal option -- q" when softlimit runs through
// a link named weird).
func (e *OptionError) Message(argv0 string) string {
	if i := strings.LastIndexByte(argv0, '/'); i >= 0 {
		argv0 = argv0[i+1:]
	}
	return argv0 + ": " + e.Error() + "\n"
}

// ErrHelp is what an option declared by Help returns from Set, and so
// what Parse returns when it meets -h or --help: the command then prints
// its usage on standard output and exits 0.
var ErrHelp = errors.New("help asked for")

// Getopt reads args (the command line without the program's name) as
// daemontools' getopt does, for the programs that replace daemontools'
// own. It returns the options met, in order, and the operands after them.
//
// The rules are daemontools', which differ from POSIX getopt in places
// users rely on: letters group ("-nx"); a value is the rest of its word
// or, when that is empty, the next word, whatever it is ("-o5", "-o 5",
// "-o -x", and "-o ”" giving an empty value); options end at the first
// word that does not start with '-' (the empty word included), at a lone
// "-" (which stays an operand), and at any word starting with "--", which
// is dropped: "--foo" ends the options as "--" does. ':' is never an
// option. On an error, the options met before it are returned with it.
func Getopt(args []string, opts []Option) ([]Got, []string, error) {
	return parse(args, opts, false)
}

// Parse reads args as Getopt does, with GNU-style long options too, for
// taikit's own tools: "--name", "--name=value" and "--name value" ("--"
// alone ends the options; any other word starting with "--" is a long
// option), and errors worded as those tools word them. Options still end
// at the first operand: arguments are never permuted.
func Parse(args []string, opts []Option) ([]Got, []string, error) {
	return parse(args, opts, true)
}

func parse(args []string, opts []Option, long bool) ([]Got, []string, error) {
	var got []Got
	for i := 0; i < len(args); i++ {
		word := args[i]
		if len(word) < 2 || word[0] != '-' {
			return got, args[i:], nil // an operand, "-" included
		}
		if word[1] == '-' {
			if word == "--" || !long {
				return got, args[i+1:], nil
			}
			name, value, hasValue := strings.Cut(word[2:], "=")
			o := findLong(opts, name)
			switch {
			case o == nil:
				return got, nil, &OptionError{Long: name}
			case o.Arg == "" && hasValue:
				return got, nil, &OptionError{Long: name, Unwanted: true}
			case o.Arg != "" && !hasValue:
				if i+1 == len(args) {
					return got, nil, &OptionError{Long: name, Missing: true}
				}
				i++
				value = args[i]
			}
			if err := met(o, value, &got); err != nil {
				return got, nil, err
			}
			continue
		}
		for j := 1; j < len(word); j++ {
			o := findLetter(opts, word[j])
			if o == nil {
				return got, nil, &OptionError{Letter: word[j], Getopt: !long}
			}
			if o.Arg == "" {
				if err := met(o, "", &got); err != nil {
					return got, nil, err
				}
				continue
			}
			value := word[j+1:]
			if value == "" {
				if i+1 == len(args) {
					return got, nil, &OptionError{Letter: word[j], Missing: true, Getopt: !long}
				}
				i++
				value = args[i]
			}
			if err := met(o, value, &got); err != nil {
				return got, nil, err
			}
			break
		}
	}
	return got, args[len(args):], nil
}

func met(o *Option, value string, got *[]Got) error {
	if o.Set != nil {
		if err := o.Set(value); err != nil {
			return err
		}
	}
	*got = append(*got, Got{Letter: o.Letter, Long: o.Long, Value: value})
	return nil
}

func findLong(opts []Option, name string) *Option {
	for i := range opts {
		if opts[i].Long != "" && opts[i].Long == name {
			return &opts[i]
		}
	}
	return nil
}

func findLetter(opts []Option, c byte) *Option {
	for i := range opts {
		if opts[i].Letter != 0 && opts[i].Letter != ':' && opts[i].Letter == c {
			return &opts[i]
		}
	}
	return nil
}

// Bool declares a flag that sets *p.
func Bool(letter byte, long string, p *bool, help string) Option {
	return Option{Letter: letter, Long: long, Help: help, Set: func(string) error { *p = true; return nil }}
}

// Count declares a flag counted each time it is met: -vv, or -v -v, adds
// 2 to *p.
func Count(letter byte, long string, p *int, help string) Option {
	return Option{Letter: letter, Long: long, Help: help, Set: func(string) error { *p++; return nil }}
}

// String declares an option that takes a value, stored in *p: the last
// one given counts.
func String(letter byte, long, arg string, p *string, help string) Option {
	return Option{Letter: letter, Long: long, Arg: arg, Help: help, Set: func(v string) error { *p = v; return nil }}
}

// Strings declares an option that may be repeated, each value appended
// to *p in order: -E a -E b.
func Strings(letter byte, long, arg string, p *[]string, help string) Option {
	return Option{Letter: letter, Long: long, Arg: arg, Help: help, Set: func(v string) error { *p = append(*p, v); return nil }}
}

// Help declares -h and --help, which stop the parse with ErrHelp as soon
// as they are met, whatever follows.
func Help(help string) Option {
	return Option{Letter: 'h', Long: "help", Help: help, Set: func(string) error { return ErrHelp }}
}

// Letters declares options from a getopt spec, as daemontools' programs
// write it: letters, each followed by ':' if it takes a value
// ("a:c:d:"). set, when not nil, is called with each option met and its
// value; the options come back from Getopt in order in any case.
func Letters(spec string, set func(letter byte, value string) error) []Option {
	var opts []Option
	for i := 0; i < len(spec); i++ {
		if spec[i] == ':' {
			continue
		}
		o := Option{Letter: spec[i]}
		if i+1 < len(spec) && spec[i+1] == ':' {
			o.Arg = "arg"
		}
		if set != nil {
			letter := o.Letter
			o.Set = func(v string) error { return set(letter, v) }
		}
		opts = append(opts, o)
	}
	return opts
}

// Usage writes "prog: usage: synopsis" (after "prog: fatal: mistake", if
// there is one) and the help line of each option that has one, and returns
// ExitUsage. The help is a column of "-x, --name arg" then the option's
// Help, aligned at the next multiple of ten after the longest name.
func Usage(w io.Writer, prog, synopsis string, opts []Option, mistake error) int {
	if mistake != nil {
		fmt.Fprintf(w, "%s: fatal: %v\n", prog, mistake)
	}
	fmt.Fprintf(w, "%s: usage: %s\n", prog, synopsis)
	name := func(o Option) string { return strings.TrimSpace(o.Long + " " + o.Arg) }
	width := 0
	for _, o := range opts {
		if o.Help != "" {
			width = max(width, len(name(o)))
		}
	}
	width = (width + 9) / 10 * 10
	for _, o := range opts {
		if o.Help == "" {
			continue
		}
		lead := "      --" // a long name only
		switch {
		case o.Letter != 0 && o.Long != "":
			lead = "  -" + string(rune(o.Letter)) + ", --"
		case o.Letter != 0:
			lead = "  -" + string(rune(o.Letter)) + "    "
		}
		fmt.Fprintf(w, "%s%-*s %s\n", lead, width, name(o), o.Help)
	}
	return ExitUsage
}
