package supervise_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/taikit/taikit/supervise"
)

// Reading a service's state, as svstat does.
func ExampleReadStatus() {
	st, err := supervise.ReadStatus("/service/web")
	if err != nil {
		fmt.Println("no status:", err)
		return
	}
	if st.Up() {
		fmt.Printf("up (pid %d) for %v\n", st.PID, st.Since(time.Now()))
	}
}

// Bringing a service down and telling when nobody supervises it, as svc -d.
func ExampleControl() {
	err := supervise.Control("/service/web", "d")
	if errors.Is(err, supervise.ErrNotRunning) {
		fmt.Println("start svscan or supervise first")
	}
}

// svstat's wording of a service.
func ExampleDescribe() {
	fmt.Println("/service/web: " + supervise.Describe("/service/web", time.Now()))
}

// Running one service from a Go program, as the supervise command does,
// until the context is cancelled (then run is brought down first), with
// this program's standard descriptors and its warnings on standard error.
func ExampleSupervisor_Run() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s := &supervise.Supervisor{Dir: "/service/web", Name: "web",
		Files: []*os.File{os.Stdin, os.Stdout, os.Stderr}, Warnings: os.Stderr}
	if err := s.Run(ctx); err != nil {
		fmt.Println(err) // for instance "unable to acquire web/supervise/lock: temporary failure"
	}
}

// Listing what a service needs and whether each is up and ready, as its
// supervisor decides before it starts run.
func ExampleNeeds() {
	names, err := supervise.Needs("/service/web")
	if err != nil {
		fmt.Println("unable to read needs/:", err)
		return
	}
	for _, n := range names {
		ready, _ := supervise.ServiceReady("/service/"+n, time.Now())
		fmt.Printf("%s: ready %v\n", n, ready)
	}
}
