package logcat

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// Fields of logfmt and JSON lines as their writers write them, escapes
// included, and what is not a field.
func TestField(t *testing.T) {
	cases := []struct {
		text, key string
		want      string
		found     bool
	}{
		// logfmt, as go-logfmt, logrus and slog's TextHandler write it.
		{`level=error msg="disk full" ms=512`, "level", "error", true},
		{`level=error msg="disk full" ms=512`, "msg", "disk full", true},
		{`level=error msg="disk full" ms=512`, "ms", "512", true},
		{`level=error msg="disk full" ms=512`, "path", "", false},
		{`time=2026-11-21T13:24:17Z msg="say \"hi\"\n\tback\\slash"`, "msg", "say \"hi\"\n\tback\\slash", true},
		{`msg="\u00e9t\u00e9 \ud83d\ude00" a=1`, "msg", "été 😀", true},
		{`msg="lone \ud83d" a=1`, "msg", "lone \ufffd", true},
		{`err="x=1 y=2" y=3`, "x", "", false},
		{`err="x=1 y=2" y=3`, "y", "3", true},
		{`worker 3: job=17 state=failed`, "state", "failed", true},
		{`worker 3: job=17 state=failed`, "worker", "", false},
		{`empty= next=1`, "empty", "", true},
		{`quoted="" next=1`, "quoted", "", true},
		{`a=1 a=2`, "a", "2", true},
		{`unclosed="abc`, "unclosed", "", false},
		{`escaped="abc\"`, "escaped", "", false},
		{`"a quoted word with k=v" k=w`, "k", "w", true},
		{`"quoted"k=v k=w`, "k", "w", true},
		{`an "unclosed quote k=v`, "k", "v", true},
		{`http.status=503 ms=12.5`, "http.status", "503", true},
		{`tab	sep=1	x=2`, "sep", "1", true},
		// JSON, as zap, slog's JSONHandler and bunyan write it.
		{`{"level":"error","msg":"disk full","ms":512}`, "ms", "512", true},
		{`{"level":"error","msg":"disk full","ms":512}`, "msg", "disk full", true},
		{`{"msg":"say \"hi\"\n\u00e9\ud83d\ude00 \/x"}`, "msg", "say \"hi\"\né😀 /x", true},
		{`{"http":{"status":503,"path":"/x"},"ms":1.5e3}`, "http.status", "503", true},
		{`{"http":{"status":503,"path":"/x"},"ms":1.5e3}`, "ms", "1.5e3", true},
		{`{"http":{"status":503}}`, "http", `{"status":503}`, true},
		{`{"http.status":"flat","http":{"status":1}}`, "http.status", "1", true},
		{`{"ok":true,"v":null,"list":[1,{"a":2},"x"]}`, "list", `[1,{"a":2},"x"]`, true},
		{`{"ok":true,"v":null}`, "v", "null", true},
		{`{"k\u0065y":"escaped name"}`, "key", "escaped name", true},
		{`{"a":1,"a":2}`, "a", "2", true},
		{` {"a":1} `, "a", "1", true},
		{`{"a":1} trailing`, "a", "", false},
		{`{"a":1,}`, "a", "", false},
		{`{"a":"raw` + "\n" + `control"}`, "a", "", false},
		{`{"a":01}`, "a", "", false},
		{`{"a":"x"`, "a", "", false},
		{`{"a":"x=1"} x=2`, "x", "2", true}, // not JSON: logfmt
		{`{"a":"x=1"}`, "x", "", false},
		{`{worker-1} job=5`, "job", "5", true},
	}
	for _, c := range cases {
		got, found := Field([]byte(c.text), c.key, nil)
		if found != c.found || string(got) != c.want {
			t.Errorf("%s in %q: %q %v, want %q %v", c.key, c.text, got, found, c.want, c.found)
		}
	}
}

// Field allocates nothing when scratch has room.
func TestFieldAllocations(t *testing.T) {
	scratch := make([]byte, 0, 256)
	for _, text := range []string{`a=1 msg="x \"y\"" b=2`, `{"x":{"y":"\u00e9"},"msg":"q\"uote"}`} {
		b := []byte(text)
		if n := testing.AllocsPerRun(100, func() {
			Field(b, "msg", scratch)
		}); n != 0 {
			t.Errorf("%q: %v allocations", text, n)
		}
	}
}

func TestParseField(t *testing.T) {
	good := []struct {
		expr, key string
		op        FieldOp
		value     string
	}{
		{"level=error", "level", FieldEq, "error"},
		{"level==error", "level", FieldEq, "error"},
		{"level!=info", "level", FieldNe, "info"},
		{"ms>500", "ms", FieldGt, "500"},
		{"ms>=500", "ms", FieldGe, "500"},
		{"ms<1.5", "ms", FieldLt, "1.5"},
		{"ms<=-3", "ms", FieldLe, "-3"},
		{"took>1.5s", "took", FieldGt, "1.5s"},
		{"msg=a b=c", "msg", FieldEq, "a b=c"},
		{"empty=", "empty", FieldEq, ""},
	}
	for _, c := range good {
		f, err := ParseField(c.expr)
		if err != nil || f.Key != c.key || f.Op != c.op || f.Value != c.value {
			t.Errorf("%q: %+v %v", c.expr, f, err)
		}
	}
	for _, expr := range []string{"", "level", "=x", "ms>", "ms>abc", "ms>inf", "ms<0x10", "a!b", ">5"} {
		if f, err := ParseField(expr); err == nil {
			t.Errorf("%q: %+v, no error", expr, f)
		}
	}
}

func TestFieldCondHolds(t *testing.T) {
	cases := []struct {
		expr, value string
		want        bool
	}{
		{"ms>500", "512", true},
		{"ms>500", "500", false},
		{"ms>=500", "500", true},
		{"ms>500", "5e3", true},
		{"ms<500", "12.5", true},
		{"ms<500", "fast", false},
		{"ms<=500", "", false},
		{"took>1s", "1.5s", true},
		{"took>1s", "900ms", false},
		{"took>1s", "2", false},
		{"level=error", "error", true},
		{"level=error", "ERROR", false},
		{"level!=error", "warn", true},
		{"level!=error", "error", false},
	}
	for _, c := range cases {
		f, err := ParseField(c.expr)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.holds([]byte(c.value)); got != c.want {
			t.Errorf("%s on %q: %v", c.expr, c.value, got)
		}
	}
}

// Any text: Field never panics; on a JSON object encoding/json decodes,
// it finds every member encoding/json finds, with the same value.
func FuzzFieldJSON(f *testing.F) {
	for _, s := range []string{`{"a":"b"}`, `{"msg":"say \"hi\"\n\u00e9\ud83d\ude00","ms":512}`, `{"a":{"b":[1,2]},"c":null}`, `{"\u0061":"\ud800"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(text), &m); err != nil || !strings.HasPrefix(strings.TrimLeft(text, " \t"), "{") {
			Field([]byte(text), "a", nil)
			return
		}
		for k, raw := range m {
			if k == "" || strings.Contains(k, ".") {
				continue // no key, or a path when nested objects share its start
			}
			got, found := Field([]byte(text), k, nil)
			if !found {
				t.Fatalf("%q: %q not found", text, k)
			}
			var want string
			if err := json.Unmarshal(raw, &want); err != nil || string(raw) == "null" {
				want = string(raw) // not a string: its text
			}
			if string(got) != want {
				t.Fatalf("%q: %q is %q, encoding/json says %q", text, k, got, want)
			}
		}
	})
}

// A logfmt line made of a key and any value, among other words (without
// quotes, which could pair with the value's): Field gives the value back.
func FuzzFieldLogfmt(f *testing.F) {
	f.Add("msg", "disk full", "worker 3:")
	f.Add("k", `say "hi"`+"\n", `"k=no"`)
	f.Add("a.b", "", "a.b=first")
	f.Fuzz(func(t *testing.T, key, value, around string) {
		if key == "" || strings.ContainsAny(key, " \t\"=") || strings.ContainsFunc(key, func(r rune) bool { return r < ' ' }) || !utf8.ValidString(value) || strings.Contains(around, `"`) {
			return
		}
		line := appendLogfmt([]byte(around+" "), key, []byte(value))
		line = append(line, " tail=1"...)
		got, found := Field(line, key, nil)
		if !found || !bytes.Equal(got, []byte(value)) {
			t.Fatalf("%q: %q is %q (%v), want %q", line, key, got, found, value)
		}
	})
}

// Any expression: ParseField never panics, and what it parses reads back
// the same from its String.
func FuzzParseField(f *testing.F) {
	for _, s := range []string{"level=error", "ms>500", "took<=1.5s", "a!=b", "x==y", "k>=-1e3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		c, err := ParseField(expr)
		if err != nil {
			return
		}
		again, err := ParseField(c.String())
		if err != nil || again.Key != c.Key || again.Op != c.Op || again.Value != c.Value {
			t.Fatalf("%q: %+v, then %q: %+v %v", expr, c, c.String(), again, err)
		}
	})
}

// fieldLog is a log with logfmt and JSON lines, escapes in both, and lines
// without fields.
func fieldLog(t *testing.T) (path string, lines []string) {
	lines = []string{
		stamped(1, `level=info msg="GET /orders" ms=12 path=/orders`),
		stamped(2, `{"level":"error","msg":"disk \"sda\" full","ms":512,"path":"/upload"}`),
		stamped(3, `level=error msg="timeout after 900ms" ms=900.5 path="/search?q=a b"`),
		stamped(4, `worker 3: restarting`),
		stamped(5, `{"level":"warn","ms":"fast","http":{"status":503}}`),
		`  unstamped level=error ms=2000`,
	}
	path = filepath.Join(t.TempDir(), "log")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, lines
}

// --field selects on logfmt and JSON lines alike; a line without the field
// is not selected, not even by !=; -v inverts the whole selection, as it
// does patterns.
func TestFieldSelection(t *testing.T) {
	path, l := fieldLog(t)
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"--field", "level=error"}, []string{l[1], l[2], l[5]}},
		{[]string{"--field", "ms>500"}, []string{l[1], l[2], l[5]}},
		{[]string{"--field", "ms>500", "--field", "ms<1000"}, []string{l[1], l[2]}},
		{[]string{"--field", "ms<=12"}, []string{l[0]}},
		{[]string{"--field", "level!=error"}, []string{l[0], l[4]}},
		{[]string{"--field", "path=/search?q=a b"}, []string{l[2]}},
		{[]string{"--field", `msg=disk "sda" full`}, []string{l[1]}},
		{[]string{"--field", "http.status>=500"}, []string{l[4]}},
		{[]string{"--field", "level=error", "-E", "disk"}, []string{l[1]}},
		{[]string{"-v", "--field", "level=error"}, []string{l[0], l[3], l[4]}},
		{[]string{"--field", "nope=1"}, nil},
	}
	for _, c := range cases {
		out, errs, code := runLogcat(append(c.args, path)...)
		want := ""
		for _, w := range c.want {
			want += w + "\n"
		}
		wantCode := 0
		if want == "" {
			wantCode = 1
		}
		if out != want || code != wantCode {
			t.Errorf("%q: exit %d %s, got\n%s\nwant\n%s", c.args, code, errs, out, want)
		}
	}
}

// --show writes the fields asked for, in that order, after the stamp: as
// logfmt (quoted again where needed), in JSON as an object.
func TestFieldShow(t *testing.T) {
	path, _ := fieldLog(t)
	out, errs, code := runLogcat("--field", "level=error", "--show", "ms,path,msg", path)
	want := label(2).String() + ` ms=512 path=/upload msg="disk \"sda\" full"` + "\n" +
		label(3).String() + ` ms=900.5 path="/search?q=a b" msg="timeout after 900ms"` + "\n" +
		"ms=2000\n"
	if out != want || code != 0 {
		t.Errorf("exit %d %s, got\n%s\nwant\n%s", code, errs, out, want)
	}
	out, _, _ = runLogcat("-u", "-j", "--field", "ms>=900", "--show", "path,ms", path)
	want = `{"time":"1970-01-01T00:00:03.000000000Z","tai64n":"` + label(3).String() + `","fields":{"path":"/search?q=a b","ms":"900.5"}}` + "\n" +
		`{"time":null,"tai64n":null,"fields":{"ms":"2000"}}` + "\n"
	if out != want {
		t.Errorf("-j: got\n%s\nwant\n%s", out, want)
	}
	for _, args := range [][]string{{"--field", "ms>x"}, {"--field", "=1"}, {"--show", "a,,b"}} {
		if _, _, code := runLogcat(append(args, path)...); code != 100 {
			t.Errorf("%q: exit %d, want 100", args, code)
		}
	}
}

// Comparing a field costs no allocation a line, with a number or a
// duration (a busy log's --field 'took>1s' would otherwise feed the
// garbage collector a string a line).
func TestFieldCompareNoAllocs(t *testing.T) {
	for _, expr := range []string{"took>1s", "ms>=500", "level=error", "level!=debug"} {
		c, err := ParseField(expr)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []string{"1.5s", "512.25", "error", "not a number"} {
			b := []byte(v)
			if n := testing.AllocsPerRun(100, func() { c.holds(b) }); n != 0 {
				t.Errorf("%s on %q: %v allocations", expr, v, n)
			}
		}
	}
}
