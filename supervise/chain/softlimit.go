package chain

import (
	"fmt"
	"math"
	"syscall"

	"github.com/taikit/taikit/errtext"
)

// softlimitResources says which limits each softlimit option sets, in the
// order daemontools sets them. -m is "all memory": data, stack, locked
// memory and address space.
var softlimitResources = map[byte][]int{
	'a': {syscall.RLIMIT_AS},
	'c': {syscall.RLIMIT_CORE},
	'd': {syscall.RLIMIT_DATA},
	'f': {syscall.RLIMIT_FSIZE},
	'l': {rlimitMEMLOCK},
	'm': {syscall.RLIMIT_DATA, syscall.RLIMIT_STACK, rlimitMEMLOCK, syscall.RLIMIT_AS},
	'o': {syscall.RLIMIT_NOFILE},
	'p': {rlimitNPROC},
	'r': {rlimitRSS},
	's': {syscall.RLIMIT_STACK},
	't': {syscall.RLIMIT_CPU},
}

// Limit is one soft resource limit to set.
type Limit struct {
	Resource int    // RLIMIT_*
	ToHard   bool   // raise (or lower) the soft limit to the hard limit: "="
	Value    uint64 // the soft limit wanted, lowered to the hard limit if above it
}

// BadValueError is a softlimit option whose value is neither "=" nor a
// number. softlimit answers it with its usage line only.
type BadValueError struct {
	Letter byte
	Value  string
}

func (e *BadValueError) Error() string {
	return fmt.Sprintf("option -%c wants a number or =, not %q", e.Letter, e.Value)
}

// SoftLimits returns the limits softlimit's option -letter sets with
// value, in the order daemontools sets them (-m sets four), and none for a
// letter softlimit does not have. A value that is neither "=" nor digits
// is a *BadValueError.
func SoftLimits(letter byte, value string) ([]Limit, error) {
	v, toHard, ok := ParseLimitValue(value)
	if !ok {
		return nil, &BadValueError{Letter: letter, Value: value}
	}
	var limits []Limit
	for _, r := range softlimitResources[letter] {
		limits = append(limits, Limit{Resource: r, ToHard: toHard, Value: v})
	}
	return limits, nil
}

// ParseLimitValue parses a softlimit value: "=" for the hard limit, or
// decimal digits, as daemontools reads them — no sign, no spaces, and the
// empty string meaning 0. A number too large for 64 bits means unlimited
// (daemontools wraps it around modulo 2^64 instead).
func ParseLimitValue(s string) (value uint64, toHard, ok bool) {
	if s == "=" {
		return 0, true, true
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false, false
		}
		d := uint64(c - '0')
		if value > (math.MaxUint64-d)/10 {
			value = math.MaxUint64
			continue
		}
		value = value*10 + d
	}
	return value, false, true
}

// Set sets the soft limit l asks for, keeping the hard limit: "=" makes
// it the hard limit, and a value above the hard limit is lowered to it,
// so that softlimit never fails for asking too much. Errors are *errtext.Error
// worded as softlimit's.
func (l Limit) Set() error {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(l.Resource, &r); err != nil {
		return &errtext.Error{Op: "getrlimit failed", Err: err, NoPath: true}
	}
	r.Cur = min(l.Value, r.Max)
	if l.ToHard {
		r.Cur = r.Max
	}
	// syscall.Setrlimit also tells the Go runtime that the program has
	// chosen its own RLIMIT_NOFILE, which the runtime raises at start-up
	// and otherwise puts back before an exec.
	if err := syscall.Setrlimit(l.Resource, &r); err != nil {
		return &errtext.Error{Op: "setrlimit failed", Err: err, NoPath: true}
	}
	return nil
}
