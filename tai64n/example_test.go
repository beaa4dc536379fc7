package tai64n_test

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/taikit/taikit/tai64n"
	"github.com/taikit/taikit/tzlocal"
)

func ExampleFromTime() {
	t := time.Date(1999, 8, 24, 4, 4, 5, 787492500, time.UTC)
	fmt.Println(tai64n.FromTime(t, tai64n.Daemontools))
	fmt.Println(tai64n.FromTime(t, tai64n.LeapAware))
	// Output:
	// @4000000037c219bf2ef02e94
	// @4000000037c219d52ef02e94
}

func ExampleParse() {
	l, err := tai64n.Parse([]byte("@4000000037c219bf2ef02e94"))
	if err != nil {
		panic(err)
	}
	fmt.Println(l.Time(tai64n.Daemontools))
	_, err = tai64n.Parse([]byte("@4000000037c219bf"))
	fmt.Println(err)
	// Output:
	// 1999-08-24 04:04:05.7874925 +0000 UTC
	// tai64n: malformed TAI64N stamp "@4000000037c219bf": want 24 hex digits, have 16 at byte 17
}

func ExampleFormatter() {
	berlin := tzlocal.Load("Europe/Berlin", true, tzlocal.SystemSource())
	l, _ := tai64n.ParsePrefix([]byte("@4000000037c219bf2ef02e94 hello"))
	for _, layout := range []tai64n.Layout{tai64n.LayoutTAI64NLocal, tai64n.LayoutRFC3339} {
		out, ok := tai64n.NewFormatter(berlin, tai64n.Daemontools, layout).Append(nil, l)
		fmt.Println(string(out), ok)
	}
	// Output:
	// 1999-08-24 06:04:05.787492500 true
	// 1999-08-24T06:04:05.787492500+02:00 true
}

func ExampleLocation() {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		panic(err)
	}
	l, _ := tai64n.ParsePrefix([]byte("@4000000037c219bf2ef02e94"))
	out, _ := tai64n.NewFormatter(tai64n.Location(tokyo), tai64n.Daemontools, tai64n.LayoutRFC3339).Append(nil, l)
	fmt.Println(string(out))
	// Output:
	// 1999-08-24T13:04:05.787492500+09:00
}

func ExampleConverter() {
	in := strings.NewReader("@4000000037c219bf2ef02e94 started\nplain line\n")
	c := tai64n.NewConverter(tai64n.NewFormatter(nil, tai64n.Daemontools, tai64n.LayoutRFC3339))
	if _, err := c.Copy(os.Stdout, in); err != nil {
		panic(err)
	}
	// Output:
	// 1999-08-24T04:04:05.787492500Z started
	// plain line
}

func ExampleStamper() {
	clock := func() time.Time { return time.Date(2026, 11, 21, 12, 0, 0, 5, time.UTC) }
	s := tai64n.NewStamper(clock, tai64n.Daemontools)
	if _, err := s.Copy(os.Stdout, strings.NewReader("one\ntwo\n")); err != nil {
		panic(err)
	}
	// Output:
	// @400000006b0187ca00000005 one
	// @400000006b0187ca00000005 two
}
