package ship_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"

	"github.com/taikit/taikit/rotate"
	"github.com/taikit/taikit/ship"
)

// Ship a log directory to NATS JetStream for ever, as logship does:
// resumable from the state file, stopped cleanly by a signal.
func ExampleShipper() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	o := ship.Origin{Host: "web1", Name: "nginx", Dir: "/service/nginx/log/main"}
	sink, err := ship.Open(ctx, "nats://loghost:4222/logs.{host}.{name}", o, ship.SinkOptions{})
	if err != nil {
		log.Fatal(err) // unreachable, refused, or a bad URL (*ship.URLError)
	}
	defer sink.Close()
	state, err := ship.OpenState("/var/lib/logship/state")
	if err != nil {
		log.Fatal(err)
	}
	s := &ship.Shipper{Dir: o.Dir, Origin: o, Sink: sink, State: state, URL: "nats://loghost:4222",
		Follow: true, Warn: func(err error) { log.Print(err) }}
	if err := s.Run(ctx); err != nil {
		log.Fatal(err)
	}
}

// printSink is a Sink of its own: it "acknowledges" a record by printing
// it.
type printSink struct{ o *ship.Origin }

func (p printSink) Send(ctx context.Context, recs []ship.Record) error {
	for _, r := range recs {
		fmt.Printf("%s %s\n", r.Key(p.o), r.Line)
	}
	return nil
}
func (printSink) MaxLine() int { return 1 << 20 }
func (printSink) Close() error { return nil }

// A Sink of one's own: a Shipper run twice with the same state sends each
// line once, with a key that stays the line's.
func ExampleSink() {
	dir, _ := os.MkdirTemp("", "ship-example")
	defer os.RemoveAll(dir)
	logDir := filepath.Join(dir, "log")
	w, _ := rotate.Open(logDir, rotate.Options{})
	fmt.Fprintln(w, "first")
	fmt.Fprintln(w, "second")
	w.Rotate()
	fmt.Fprintln(w, "third")

	o := ship.Origin{Host: "web1", Name: "app", Dir: logDir}
	state, _ := ship.OpenState(filepath.Join(dir, "state"))
	s := &ship.Shipper{Dir: logDir, Origin: o, Sink: printSink{&o}, State: state}
	s.Run(context.Background())

	fmt.Fprintln(w, "fourth")
	w.Close()
	state, _ = ship.OpenState(filepath.Join(dir, "state"))
	s = &ship.Shipper{Dir: logDir, Origin: o, Sink: printSink{&o}, State: state}
	s.Run(context.Background())
	// Output:
	// web1/app/1 first
	// web1/app/2 second
	// web1/app/3 third
	// web1/app/4 fourth
}
