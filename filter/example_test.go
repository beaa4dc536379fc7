package filter_test

import (
	"fmt"
	"math/bits"

	"github.com/taikit/taikit/filter"
)

// Each star stops at the first occurrence of the byte after it: "*pid*"
// stops at the "p" of "tcpsvd", "*10.0.0.1" at the "1" of "1977", and
// "*from*" at the "f" of "info".
func ExampleMatch() {
	line := []byte("tcpsvd: info: pid 1977 from 10.0.0.1")
	for _, p := range []string{"tcpsvd", "tcpsvd: *", "*: *: pid *", "*pid*", "*10.0.0.1", "*from*", "*: *: * from *"} {
		fmt.Printf("%-16q %v\n", p, filter.Match([]byte(p), line))
	}
	// Output:
	// "tcpsvd"         false
	// "tcpsvd: *"      true
	// "*: *: pid *"    true
	// "*pid*"          false
	// "*10.0.0.1"      false
	// "*from*"         false
	// "*: *: * from *" false
}

func ExampleCompileGlob() {
	g, err := filter.CompileGlob("*pid [0-9]*")
	if err != nil {
		fmt.Println(err)
		return
	}
	line := []byte("tcpsvd: info: pid 1977 from 10.0.0.1")
	fmt.Println("glob:   ", g.Match(line))
	fmt.Println("pattern:", filter.Match([]byte("*pid *"), line))

	_, err = filter.CompileGlob("[0-9a-f]*")
	fmt.Println(err != nil)
	// Output:
	// glob:    true
	// pattern: false
	// true
}

// ExampleWalk evaluates multilog -*debug* ./all '-*' '+*: *: pid *' g+*error* ./pids e:
// ./all gets every line but debugging, ./pids and e get lines with a pid,
// and errors.
func ExampleWalk() {
	g, _ := filter.CompileGlob("*error*")
	w := filter.NewWalk([]filter.Step{
		{Rule: &filter.Rule{Select: false, Pattern: []byte("*debug*")}},
		{}, // ./all
		{Rule: &filter.Rule{Select: false, Pattern: []byte("*")}},
		{Rule: &filter.Rule{Select: true, Pattern: []byte("*: *: pid *")}},
		{Rule: &filter.Rule{Select: true, Glob: g}},
		{}, // ./pids
		{}, // e
	})
	sel := make([]bool, 0, w.Marks())
	for _, line := range []string{
		"tcpsvd: info: pid 1977 from 10.0.0.1",
		"debug: cache hit",
		"disk error on sda",
		"started",
	} {
		sel = w.Eval([]byte(line), sel[:0])
		fmt.Printf("%-38q %v\n", line, sel)
	}
	fmt.Println("trivial:", w.Trivial())
	// Output:
	// "tcpsvd: info: pid 1977 from 10.0.0.1" [true true true]
	// "debug: cache hit"                     [false false false]
	// "disk error on sda"                    [true true true]
	// "started"                              [true false false]
	// trivial: false
}

// ExampleWalk_EvalText evaluates stamped lines as multilog t does, with
// the stamp worked out once for every line that shares it: the walk then
// looks only at each line's own bytes, which need not be copied behind
// the stamp.
func ExampleWalk_EvalText() {
	w := filter.NewWalk([]filter.Step{
		{Rule: &filter.Rule{Select: false, Pattern: []byte("* kernel: *")}},
		{}, // ./main
		{Rule: &filter.Rule{Select: false, Pattern: []byte("*")}},
		{Rule: &filter.Rule{Select: true, Pattern: []byte("* worker: job * failed*")}},
		{}, // =status
	})
	var p filter.Prefix
	w.Prepare(&p, []byte("@4000000065a1b2c3d4e5f607 "))
	fmt.Println("in place:", p.OK())
	sel := make([]bool, 0, w.Marks())
	for _, line := range []string{
		"kernel: eth0 up",
		"worker: job 3 failed",
		"worker: job 4 done",
	} {
		sel = w.EvalText(&p, []byte(line), sel[:0])
		fmt.Printf("%-24q %v\n", line, sel)
	}
	// Output:
	// in place: true
	// "kernel: eth0 up"        [false false]
	// "worker: job 3 failed"   [true true]
	// "worker: job 4 done"     [true false]
}

// ExampleWalk_EvalTextBits acts only on the actions that selected a line,
// as multilog does: the selections come as the bits of a word, bit k for
// mark k, and the loop goes through the set bits alone.
func ExampleWalk_EvalTextBits() {
	actions := []string{"./main", "=status"}
	w := filter.NewWalk([]filter.Step{
		{Rule: &filter.Rule{Select: false, Pattern: []byte("* kernel: *")}},
		{}, // ./main
		{Rule: &filter.Rule{Select: false, Pattern: []byte("*")}},
		{Rule: &filter.Rule{Select: true, Pattern: []byte("* worker: job * failed*")}},
		{}, // =status
	})
	var p filter.Prefix
	w.Prepare(&p, []byte("@4000000065a1b2c3d4e5f607 "))
	for _, line := range []string{
		"kernel: eth0 up",
		"worker: job 3 failed",
		"worker: job 4 done",
	} {
		var to []string
		for sel := w.EvalTextBits(&p, []byte(line)); sel != 0; sel &= sel - 1 {
			to = append(to, actions[bits.TrailingZeros64(sel)])
		}
		fmt.Printf("%-24q %v\n", line, to)
	}
	// Output:
	// "kernel: eth0 up"        []
	// "worker: job 3 failed"   [./main =status]
	// "worker: job 4 done"     [./main]
}
