package control_test

import (
	"context"
	"fmt"
	"time"

	"github.com/taikit/taikit/supervise/control"
)

// Starting one service and waiting until it is ready, as svcstart does.
func ExampleDo() {
	r := control.Do(context.Background(), "/service/web", control.Start, control.Options{Timeout: time.Minute})
	switch {
	case r.OK():
		fmt.Printf("%s: %s (pid %d) in %v\n", r.Dir, r.Done, r.PID, r.Took)
	case r.Temporary():
		fmt.Println("try again later:", r.Err) // for instance "supervise not running"
	default:
		fmt.Println("failed:", r.Err) // for instance "run exited 1 before it was ready ...; brought it down again"
	}
}

// Stopping every service of a scan directory, loggers last, and listing
// what could not be stopped.
func ExampleDoAll() {
	dirs, err := control.Services("/service")
	if err != nil {
		fmt.Println(err)
		return
	}
	results := control.DoAll(context.Background(), dirs, control.Stop, control.Options{Kill: true}, 0, nil)
	for _, r := range control.Failed(results) {
		fmt.Printf("%s: %v\n", r.Dir, r.Err)
	}
}

// Starting a web server and what it needs (/service/web/needs/db names
// /service/db): db first, web once db is ready, as svctl start does.
func ExampleWithNeeds() {
	dirs := control.WithNeeds([]string{"/service/web"}, control.Start)
	for _, r := range control.DoAll(context.Background(), dirs, control.Start, control.Options{}, 0, nil) {
		if !r.OK() {
			fmt.Printf("%s: %v\n", r.Dir, r.Err) // "needs /service/db, which did not start; ..."
		}
	}
}
