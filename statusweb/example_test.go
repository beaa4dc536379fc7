package statusweb_test

import (
	"context"
	"net"
	"os"
	"os/signal"

	"github.com/taikit/taikit/observe"
	"github.com/taikit/taikit/statusweb"
)

// Serving /service's metrics, JSON and page on the default loopback
// address until SIGINT.
func ExampleServer_Serve() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ln, err := net.Listen("tcp", statusweb.DefaultAddr)
	if err != nil {
		return
	}
	srv := &statusweb.Server{Tree: &observe.Tree{ScanDirs: []string{"/service"}}, Log: os.Stderr}
	srv.Serve(ctx, ln)
}

// Writing the metrics once, for node_exporter's textfile collector.
func ExampleWriteMetrics() {
	problems, err := statusweb.WriteMetrics(os.Stdout, &observe.Tree{ScanDirs: []string{"/service"}})
	if err != nil || len(problems) > 0 {
		os.Exit(111) // the textfile is not to be trusted
	}
}
