package supervise

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/taikit/taikit/tai64n"
)

func TestStatusRoundTrip(t *testing.T) {
	raw, _ := hex.DecodeString("400000006b019f7606698" + "09c" + "a57c0000" + "0075")
	st, err := DecodeStatus(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := Status{When: tai64n.Label{Sec: 0x400000006b019f76, Nano: 0x0669809c}, PID: 31909, Want: WantUp}
	if st != want {
		t.Fatalf("decoded %+v, want %+v", st, want)
	}
	if got := st.Append(nil); !bytes.Equal(got, raw) {
		t.Fatalf("encoded %x, want %x", got, raw)
	}
	for _, s := range []Status{
		{PID: 0x7fffffff, Paused: true, Want: WantDown},
		{When: readyLabel(time.Unix(1700000000, 999999999)), Want: WantNone},
	} {
		if got, err := DecodeStatus(s.Append(nil)); err != nil || got != s {
			t.Errorf("%+v came back as %+v, %v", s, got, err)
		}
	}
}

func TestStatusShortAndLong(t *testing.T) {
	if _, err := DecodeStatus(make([]byte, 17)); !errors.Is(err, ErrBadFormat) {
		t.Errorf("17 bytes: %v, want ErrBadFormat", err)
	}
	long := append(Status{PID: 5}.Append(nil), "trailing"...)
	if st, err := DecodeStatus(long); err != nil || st.PID != 5 {
		t.Errorf("trailing bytes: %+v %v; svstat ignores them", st, err)
	}
}

func TestStatusSince(t *testing.T) {
	now := time.Unix(1700000100, 0)
	st := Status{When: readyLabel(time.Unix(1700000000, 900000000))}
	if got := st.Since(now); got != 100*time.Second {
		t.Errorf("Since = %v, want 100s (whole seconds, as svstat)", got)
	}
	if got := st.Since(time.Unix(1600000000, 0)); got != 0 {
		t.Errorf("a record from the future: %v, want 0", got)
	}
}

func TestReadStatus(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadStatus(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing: %v", err)
	}
	os.Mkdir(filepath.Join(dir, "supervise"), 0o700)
	os.WriteFile(StatusPath(dir), []byte("short"), 0o644)
	if _, err := ReadStatus(dir); !errors.Is(err, ErrBadFormat) {
		t.Fatalf("short: %v", err)
	}
	want := Status{PID: 42, Paused: true, Want: WantUp, When: readyLabel(time.Unix(1, 2))}
	os.WriteFile(StatusPath(dir), want.Append(nil), 0o644)
	if got, err := ReadStatus(dir); err != nil || got != want {
		t.Fatalf("got %+v, %v", got, err)
	}
}

func TestExtraRoundTrip(t *testing.T) {
	for _, e := range []Extra{
		{},
		{Status: readyLabel(time.Unix(1700000000, 5)), Restarts: 3, Readiness: Ready,
			ReadyWhen: readyLabel(time.Unix(1700000001, 6)), Exited: true, ExitCode: -1, Signal: 9},
		{Readiness: Checking, Exited: true, ExitCode: 2},
		{Readiness: CheckFailed},
	} {
		b := e.Append(nil)
		got, err := DecodeExtra(b)
		if err != nil || got != e {
			t.Errorf("%q came back as %+v, %v; want %+v", b, got, err, e)
		}
	}
	got, err := DecodeExtra([]byte("taikit-extra 1\nfuture thing\nrestarts 2\n"))
	if err != nil || got.Restarts != 2 {
		t.Errorf("unknown lines must be ignored: %+v %v", got, err)
	}
	for _, bad := range []string{"", "taikit-extra 2\n", "taikit-extra 1\nrestarts x\n", "taikit-extra 1\nready maybe\n", "taikit-extra 1\nstatus @12\n"} {
		if _, err := DecodeExtra([]byte(bad)); !errors.Is(err, ErrExtraFormat) {
			t.Errorf("%q: %v, want ErrExtraFormat", bad, err)
		}
	}
}
