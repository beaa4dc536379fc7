package supervise_test

import (
	"errors"
	"fmt"
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
