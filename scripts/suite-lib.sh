# suite-lib.sh — how a runner script judges a test suite (sourced by
# scripts/tsan-authd.sh; checked by tests/scripts/run.sh).
#
# A suite passes only when it exits 0 AND its closing "N passed, N failed"
# line is there AND counts no failure. Each of the three alone has let a
# failing suite through somewhere: a pipe into tail reports tail's status,
# a runner that dies prints no line, a runner may exit 0 after failures.

# suite_line FILE: the suite's closing line ("name: " may prefix it), or "".
suite_line() {
    grep -E '^([A-Za-z-]+: )?[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1
}

# suite_ok RC LINE: true when the suite passed.
suite_ok() {
    [ "$1" -eq 0 ] && [ -n "$2" ] && grep -qE '(^|[^0-9])0 failed' <<<"$2"
}

# run_suite NAME CMD...: run a suite with its output in a file, show its
# failing checks and closing line; set status=1 when it did not pass.
run_suite() {
    local name=$1 out rc line
    shift
    out=$(mktemp)
    "$@" >"$out" 2>&1
    rc=$?
    grep -E '^(FAIL|not ok)' "$out" | head -n 40
    line=$(suite_line "$out")
    echo "${line:-$name: no closing line (exit $rc)}"
    if ! suite_ok "$rc" "$line"; then
        echo "$name FAILED (exit $rc); last lines:"
        tail -n 15 "$out"
        status=1
    fi
    rm -f "$out"
}
