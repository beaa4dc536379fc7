// Command svcrestart is svctl restart: it restarts services under supervise and
// waits until that has really happened. See doc/man8/svctl.8.
package main

import "github.com/taikit/taikit/internal/cli/svctl"

func main() { svctl.Main("svcrestart") }
