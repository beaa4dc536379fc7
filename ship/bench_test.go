package ship

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/taikit/taikit/internal/servertest"
	"github.com/taikit/taikit/rotate"
	"github.com/taikit/taikit/tai64n"
)

// benchLines is the size of the directory shipped: the corpus of the
// issue, a million lines.
const benchLines = 1_000_000

// benchDir writes benchLines stamped lines (about 95 bytes each) into a
// log directory of 16 MB files, as multilog s16777215 would cut them,
// and returns it and its plain text (for rsyslog's imfile).
func benchDir(b *testing.B) (dir, plain string, size int64) {
	b.Helper()
	root := b.TempDir()
	dir, plain = filepath.Join(root, "log"), filepath.Join(root, "plain.log")
	w, err := rotate.Open(dir, rotate.Options{MaxSize: 16777215, Keep: 1 << 20})
	if err != nil {
		b.Fatal(err)
	}
	pf, err := os.Create(plain)
	if err != nil {
		b.Fatal(err)
	}
	var buf []byte
	for i := range benchLines {
		buf = tai64n.FromUnix(1764900000+int64(i/1000), uint32(i%1000)*1e6, tai64n.Daemontools).Append(buf[:0])
		buf = fmt.Appendf(buf, " worker-%d: job=%d queue=mail state=done took=%dms\n", i%16, i, i%997)
		w.Write(buf)
		pf.Write(buf[tai64n.StampLen+1:])
		size += int64(len(buf))
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	pf.Close()
	return dir, plain, size
}

func cpu() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkShip ships the million-line directory to each server on
// loopback, once per iteration (run with -benchtime 1x), and reports
// lines/s and the shipper's CPU per million lines (this process; the
// server's is its own). The servers run on the same shared machine.
func BenchmarkShip(b *testing.B) {
	dir, _, size := benchDir(b)
	for _, c := range []struct {
		name  string
		start func(b *testing.B) (url func(i int) string, received func(i int) int)
	}{
		{"nats", func(b *testing.B) (func(int) string, func(int) int) {
			srv := servertest.NATS(b)
			return func(i int) string { return "nats://" + srv.Addr + "/bench" + strconv.Itoa(i) }, nil
		}},
		{"redis", func(b *testing.B) (func(int) string, func(int) int) {
			srv := servertest.Redis(b)
			b.Cleanup(func() { redisStats(b, srv.Addr) })
			return func(i int) string { return "redis://" + srv.Addr + "/bench" + strconv.Itoa(i) }, nil
		}},
		{"redis-everysec", func(b *testing.B) (func(int) string, func(int) int) {
			srv := servertest.RedisFsync(b, "everysec")
			b.Cleanup(func() { redisStats(b, srv.Addr) })
			return func(i int) string { return "redis://" + srv.Addr + "/bench" + strconv.Itoa(i) }, nil
		}},
		{"relp", func(b *testing.B) (func(int) string, func(int) int) {
			srv := servertest.RsyslogRELP(b)
			return func(int) string { return "relp://" + srv.Addr }, nil
		}},
		{"syslog+tcp", func(b *testing.B) (func(int) string, func(int) int) {
			srv := servertest.RsyslogTCP(b, nil)
			return func(int) string { return "syslog+tcp://" + srv.Addr }, nil
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			url, _ := c.start(b)
			b.SetBytes(size)
			ctx := context.Background()
			var used time.Duration
			i := 0
			for b.Loop() {
				o := Origin{Host: "bench", Name: "svc", Dir: dir}
				sink, err := Open(ctx, url(i), o, SinkOptions{})
				if err != nil {
					b.Fatal(err)
				}
				st, _ := OpenState("")
				s := &Shipper{Dir: dir, Origin: o, Sink: sink, State: st}
				c0 := cpu()
				if err := s.Run(ctx); err != nil {
					b.Fatal(err)
				}
				used += cpu() - c0
				sink.Close()
				if s.Shipped != benchLines {
					b.Fatalf("shipped %d lines", s.Shipped)
				}
				i++
			}
			b.ReportMetric(float64(benchLines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
			b.ReportMetric(used.Seconds()*1000/float64(b.N), "cpu-ms/op")
		})
	}
}

// BenchmarkRsyslogForward is the way a user ships a log today: rsyslog's
// imfile reading the same lines from a file, forwarding them with omrelp
// to another rsyslogd's imrelp. An iteration ends when the receiver has
// written every line (its output reaches the size of the lines).
func BenchmarkRsyslogForward(b *testing.B) {
	const rsyslogd = "/usr/sbin/rsyslogd"
	if _, err := os.Stat("/usr/lib/x86_64-linux-gnu/rsyslog/omrelp.so"); err != nil {
		b.Skip("omrelp is not installed: apt-get install rsyslog-relp")
	}
	_, plain, _ := benchDir(b)
	st, _ := os.Stat(plain)
	for b.Loop() {
		recv := servertest.RsyslogRELP(b)
		// The receiver writes "%structured-data% %msg%\n": "- " and the
		// line as imfile read it (and omrelp's format may add a space).
		want := st.Size() + 2*benchLines
		dir := b.TempDir()
		conf := fmt.Sprintf(`global(workDirectory=%q)
module(load="imfile")
module(load="omrelp")
input(type="imfile" File=%q Tag="svc" freshStartTail="off")
action(type="omrelp" target="127.0.0.1" port=%q)
`, dir, plain, recv.Addr[len("127.0.0.1:"):])
		os.WriteFile(filepath.Join(dir, "fwd.conf"), []byte(conf), 0o644)
		b.ResetTimer()
		fwd := exec(b, rsyslogd, "-n", "-f", filepath.Join(dir, "fwd.conf"), "-i", filepath.Join(dir, "pid"))
		// rsyslog takes longer than testref's patience: a bound of its
		// own.
		deadline := time.Now().Add(10 * time.Minute)
		for {
			fi, err := os.Stat(recv.Out)
			if err == nil && fi.Size() >= want*99/100 {
				data, _ := os.ReadFile(recv.Out)
				if bytes.Count(data, []byte("\n")) >= benchLines {
					break
				}
			}
			if time.Now().After(deadline) {
				b.Fatalf("rsyslog forwarded %d of %d bytes in 10 minutes", fi.Size(), want)
			}
			time.Sleep(10 * time.Millisecond)
		}
		b.StopTimer()
		fwd.Process.Kill()
		recv.Kill()
		b.StartTimer()
	}
	b.ReportMetric(float64(benchLines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// redisStats logs what the server spent: its CPU and the time XADD took
// in it (INFO cpu, commandstats), to tell the server's share from the
// client's.
func redisStats(b *testing.B, addr string) {
	rdb := redis.NewClient(&redis.Options{Addr: addr, Protocol: 2, DisableIdentity: true})
	defer rdb.Close()
	if lat, err := rdb.Do(context.Background(), "LATENCY", "LATEST").Result(); err == nil {
		b.Logf("redis LATENCY LATEST (event, last, ms, max ms): %v", lat)
	}
	for _, section := range []string{"cpu", "commandstats", "persistence"} {
		info, err := rdb.Info(context.Background(), section).Result()
		if err != nil {
			b.Logf("INFO %s: %v", section, err)
			continue
		}
		for _, l := range strings.Split(info, "\r\n") {
			if strings.HasPrefix(l, "used_cpu_") || strings.HasPrefix(l, "cmdstat_xadd") ||
				strings.HasPrefix(l, "aof_delayed_fsync") || strings.HasPrefix(l, "cmdstat_xrange") {
				b.Logf("redis %s", l)
			}
		}
	}
}
