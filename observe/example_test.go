package observe_test

import (
	"fmt"

	"github.com/taikit/taikit/observe"
)

// Listing every service of /service, with its readiness and restarts
// where taikit's supervise tells them.
func ExampleTree_Snapshot() {
	tree := &observe.Tree{ScanDirs: []string{"/service"}}
	snap := tree.Snapshot()
	for _, s := range snap.Services {
		switch {
		case s.Error != "":
			fmt.Printf("%s: %s\n", s.Name, s.Error)
		case s.Extra:
			fmt.Printf("%s: up %v, %s, %d restarts\n", s.Name, s.Up, s.Readiness, s.Restarts)
		default:
			fmt.Printf("%s: up %v\n", s.Name, s.Up)
		}
	}
	for _, d := range snap.LogDirs {
		fmt.Printf("%s: %d bytes in %d archives and current\n", d.Name, d.Bytes, d.Archives)
	}
}
