// Package filter decides which lines multilog's actions see: daemontools'
// own patterns ([Match]), shell-style globs as a taikit extension ([Glob]),
// and the left-to-right walk over a script's select/deselect words that
// gives, for each action, whether a line is selected ([Walk]).
//
// # multilog's patterns
//
// [Match] is daemontools 0.76 match.c, byte for byte. A pattern is matched
// against the whole window, anchored at both ends, case-sensitively. Every
// byte but '*' matches itself; there are no escapes and no other
// metacharacters ('\', '?', '[', ']' and '+' are ordinary bytes). A '*'
// that ends the pattern matches the rest of the window, including nothing.
// A '*' followed by a byte c skips to the first following c in the window
// and matching goes on from there; if there is no c the match fails, and
// there is no backtracking to a later c. So '**' skips to the first literal
// '*' in the window and then matches anything. The empty pattern matches
// only the empty window.
//
// # Globs
//
// A [Glob] is a real glob ([github.com/gobwas/glob], compiled without
// separators), also matched against the whole window: '*' matches any run of
// bytes (backtracking as needed), '?' any one character, "[abc]", "[a-z]"
// and "[!abc]" a character in (or not in) a class, "{a,b}" either
// alternative, and '\' makes the next character literal. A class is one
// range or a list of characters, not both: "[0-9a-f]" is a syntax error
// (write "{[0-9],[a-f]}"). Characters are UTF-8: '?' and the classes take
// one rune, and an invalid byte counts as one character (U+FFFD). A star
// before a class or a group is slower than one before a literal, and a
// glob with a star inside a group is matched by Go's regexp package, in
// time linear in the window: see [Glob].
//
// multilog exposes globs under a script word of its own that daemontools
// does not have: "g+glob" selects and "g-glob" deselects, like "+pattern"
// and "-pattern". Beware that daemontools' multilog silently ignores words
// it does not know: run by the original multilog, a script with g-words
// keeps the lines it meant to drop and drops those it meant to keep.
//
// # How the two differ
//
// The same text often means something else as a pattern and as a glob:
//
//	text    line                      Match  Glob   why
//	*pid*   "tcpsvd: info: pid 1977"  false  true   the first '*' stops at the first 'p' (in "tcpsvd")
//	h*o     "hello"                   true   true
//	h*o     "hellooo"                 false  true   the '*' stops at the first 'o'; the pattern ends, the line does not
//	a*c     "abcbc"                   false  true
//	*o      "foo"                     false  true
//	**      "a*b"                     true   true   a pattern: skip to a literal '*'; a glob: "**" is "*"
//	**      "ab"                      false  true
//	?       "a"                       false  true   '?' is literal in a pattern
//	?       "?"                       true   true
//	[ab]    "a"                       false  true   brackets are literal in a pattern
//	[ab]    "[ab]"                    true   false
//	\*      "\x"                      true   false  a pattern has no escapes; a glob's "\*" is a literal '*'
//	{a,b}   "a"                       false  true
//
// A line a pattern matches is matched by the glob that quotes every byte of
// the pattern but '*' (multilog's choice of where each '*' ends is one of
// the choices a glob tries), not the other way round.
//
// # Windows
//
// Neither Match nor Glob knows about lines: each matches whatever window it
// is given. multilog matches the first [WindowSize] bytes of its line
// buffer, the time stamp and its space included when lines are stamped, so
// a pattern like "*end" cannot see the end of a longer line, and "+hello"
// never matches a stamped line (use "+* hello"). Cutting the window is the
// caller's job. A caller whose windows all begin with the same stamp can
// have the walk work the stamp out once ([Walk.Prepare]) and evaluate each
// line's own bytes where they lie ([Walk.EvalText]), with the same result
// as [Walk.Eval] on the stamp and the line joined. [Walk.EvalBits] and
// [Walk.EvalTextBits] give the selections as the bits of a word, the
// faster form for a caller that acts only on the marks a line selects.
package filter

// WindowSize is how many bytes of a line multilog's patterns, alerts and
// status files see: its line buffer, which starts with the 26-byte stamp
// and space when lines are stamped.
const WindowSize = 1000
