#!/bin/sh
# vm/relua.1.sh RELUA: prints the man page relua.1, made from `RELUA --help`, so that the
# usage message, --help and the man page say the same thing.
set -eu
relua=$1
version=$("$relua" -v | cut -d' ' -f1-2)
cat <<HEAD
.TH RELUA 1 "" "$version" "User Commands"
.SH NAME
relua \- an interactive REPL and scripting language for neural nets
.SH SYNOPSIS
.B relua
[\fIoptions\fR] [\fIscript\fR [\fIargs\fR]]
HEAD
"$relua" --help | awk '
  function esc(s) { gsub(/\\/, "\\\\", s); gsub(/-/, "\\-", s); return s }
  /^usage:/ { next }
  /^Options:$/ { print ".SH OPTIONS"; part = "options"; next }
  /^Environment:$/ { print ".SH ENVIRONMENT"; part = "env"; next }
  /^$/ { if (part == "options") { print ".SH DESCRIPTION"; part = "text" } next }
  /^  / && part != "text" {
    line = substr($0, 3)
    if (match(line, /  +/)) {
      print ".TP"; print "\\fB" esc(substr(line, 1, RSTART - 1)) "\\fR"
      print esc(substr(line, RSTART + RLENGTH))
    } else { print ".TP"; print "\\fB" esc(line) "\\fR" }
    next
  }
  { print esc($0) }'
cat <<TAIL
.SH FILES
~/.relua_history (the REPL's history).
.SH SEE ALSO
.BR lua5.4 (1);
inside relua, help() lists every function of nn and viz.
TAIL
