package chain

import (
	"fmt"
	"strings"
)

// OptionError is a command-line option daemontools' getopt rejects. Its
// text is the line getopt prints before the program's usage line, without
// the program name: ": illegal option -- q".
type OptionError struct {
	Letter  byte
	Missing bool // the option takes an argument and none was left
}

func (e *OptionError) Error() string {
	if e.Missing {
		return fmt.Sprintf("option requires an argument -- %c", e.Letter)
	}
	return fmt.Sprintf("illegal option -- %c", e.Letter)
}

// Message returns the complete line getopt writes to standard error for e
// when the program was invoked as argv0: getopt names the program by the
// last part of argv0, whatever it is ("weird: illegal option -- q" when
// softlimit runs through a link named weird).
func (e *OptionError) Message(argv0 string) string {
	if i := strings.LastIndexByte(argv0, '/'); i >= 0 {
		argv0 = argv0[i+1:]
	}
	return argv0 + ": " + e.Error() + "\n"
}

// Option is one option found on a command line, with its argument if its
// letter takes one.
type Option struct {
	Letter byte
	Arg    string
}

// Getopt parses args (the command line without the program name) as
// daemontools' getopt does with spec, a list of letters each followed by
// ':' if it takes an argument. It returns the options in order and the
// operands that follow them.
//
// The rules are daemontools', which differ from POSIX getopt in places
// users rely on: letters group ("-nx"); an argument is the rest of its
// word or, when that is empty, the next word ("-o5", "-o 5", and "-o ”"
// giving an empty argument); options end at the first word that does not
// start with '-', at a lone "-" (which stays an operand), and at any word
// starting with "--" (which is dropped, so "--foo" ends options as "--"
// does).
func Getopt(args []string, spec string) ([]Option, []string, error) {
	var opts []Option
	i := 0
	for i < len(args) {
		word := args[i]
		if len(word) < 2 || word[0] != '-' {
			break
		}
		if word[1] == '-' {
			i++
			break
		}
		i++
		for pos := 1; pos < len(word); pos++ {
			c := word[pos]
			takesArg, known := optionSpec(spec, c)
			if !known {
				return opts, nil, &OptionError{Letter: c}
			}
			if !takesArg {
				opts = append(opts, Option{Letter: c})
				continue
			}
			if pos+1 < len(word) {
				opts = append(opts, Option{Letter: c, Arg: word[pos+1:]})
				break
			}
			if i >= len(args) {
				return opts, nil, &OptionError{Letter: c, Missing: true}
			}
			opts = append(opts, Option{Letter: c, Arg: args[i]})
			i++
			break
		}
	}
	return opts, args[i:], nil
}

// optionSpec looks c up in a getopt spec: whether c is an option and
// whether it takes an argument. ':' is never an option letter.
func optionSpec(spec string, c byte) (takesArg, known bool) {
	for j := 0; j < len(spec); j++ {
		if spec[j] == ':' {
			continue
		}
		if spec[j] == c {
			return j+1 < len(spec) && spec[j+1] == ':', true
		}
	}
	return false, false
}
