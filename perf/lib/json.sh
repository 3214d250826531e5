# json.sh - read and write the little JSON the harness needs, without jq or
# python (neither is guaranteed on a fresh Debian 12): sourced by perf/bench.sh.
#
# DESIGN: json_flat turns any JSON document into one "path<TAB>value" line per
# scalar, paths joined with dots and array elements numbered from 0:
#
#   {"run": {"counters": {"sent": 5}, "samples": [{"t_s": 1.0}]}}
#   ->  run.counters.sent	5
#       run.samples.0.t_s	1.0
#
# so a field is one exact-match lookup (json_get) however the producer indents
# or orders its output. The parser is a small recursive descent in awk (mawk
# and gawk both run it); strings keep their escapes except \" and \\, which is
# enough for the numbers and names read here. Writing goes through json_str,
# which quotes a shell string.

# shellcheck shell=bash

# json_flat FILE: print "path<TAB>value" for every scalar in FILE.
json_flat() {
	awk '
	function ws() {
		while (pos <= n && index(" \t\r\n", substr(s, pos, 1)) > 0)
			pos++
	}
	function str(   out, c) {
		out = ""
		pos++                           # opening quote
		while (pos <= n) {
			c = substr(s, pos, 1)
			if (c == "\\") {
				c = substr(s, pos + 1, 1)
				out = out (c == "\"" || c == "\\" ? c : "\\" c)
				pos += 2
				continue
			}
			pos++
			if (c == "\"")
				return out
			out = out c
		}
		bad = 1
		return out
	}
	function value(path,   c, key, i, lit) {
		ws()
		c = substr(s, pos, 1)
		if (c == "{") {
			pos++; ws()
			if (substr(s, pos, 1) == "}") { pos++; return }
			while (!bad && pos <= n) {
				ws()
				if (substr(s, pos, 1) != "\"") { bad = 1; return }
				key = str(); ws()
				if (substr(s, pos, 1) != ":") { bad = 1; return }
				pos++
				value(path == "" ? key : path "." key)
				ws(); c = substr(s, pos++, 1)
				if (c == "}") return
				if (c != ",") { bad = 1; return }
			}
		} else if (c == "[") {
			pos++; ws()
			if (substr(s, pos, 1) == "]") { pos++; return }
			for (i = 0; !bad && pos <= n; i++) {
				value(path == "" ? i : path "." i)
				ws(); c = substr(s, pos++, 1)
				if (c == "]") return
				if (c != ",") { bad = 1; return }
			}
		} else if (c == "\"") {
			print path "\t" str()
		} else {
			lit = ""
			while (pos <= n && index(",}] \t\r\n", substr(s, pos, 1)) == 0)
				lit = lit substr(s, pos++, 1)
			if (lit == "") { bad = 1; return }
			print path "\t" lit
		}
	}
	{ s = s $0 "\n" }
	END {
		n = length(s); pos = 1; bad = 0
		value("")
		if (bad) { print "json_flat: malformed JSON near byte " pos > "/dev/stderr"; exit 1 }
	}' "$1"
}

# json_get FLATFILE PATH: the value at PATH in a json_flat output, or nothing.
json_get() {
	awk -F '\t' -v p="$2" '$1 == p { print $2; found = 1; exit } END { exit !found }' "$1"
}

# json_str S: S as a JSON string literal (our own names and messages: no
# control characters expected, but tabs and newlines are escaped anyway).
json_str() {
	local s=${1//\\/\\\\}
	s=${s//\"/\\\"}
	s=${s//$'\t'/\\t}
	s=${s//$'\n'/\\n}
	printf '"%s"' "$s"
}
