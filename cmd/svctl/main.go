// Command svctl starts, stops, resets and restarts services under
// supervise and waits until that has really happened, alone or for a
// whole scan directory. Linked or copied as svcstart, svcstop, svcreset or
// svcrestart it takes the verb from its name; `go install ./cmd/...`
// installs those four too. See doc/man8/svctl.8.
package main

import (
	"os"

	svctlcmd "github.com/taikit/taikit/internal/cli/svctl"
)

func main() { svctlcmd.Main(os.Args[0]) }
