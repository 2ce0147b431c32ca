#!/bin/sh
# `gantry job logs` against a real `gantry server`: which log, the defaults
# taken from the job detail, --tail, -f until the task attempt ends, Ctrl-C,
# and the errors. Task attempts 7/3 get files written here (no executor
# reaches them); with an executor, a real job is followed to its end too.
set -u
G=${GANTRY:-build/gantry}
case $G in /*) ;; *) G=$PWD/$G ;; esac
T=$(mktemp -d)
PID=
FPID=
cleanup() {
	[ -n "$FPID" ] && kill "$FPID" 2>/dev/null
	if [ -n "$PID" ]; then
		kill "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
pass=0
fail=0

unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy GANTRY_TOKEN GANTRY_SERVER
export HOME="$T/home" XDG_CONFIG_HOME="$T/xdg" TZ=UTC
mkdir -p "$HOME"

ok() { pass=$((pass + 1)); echo "ok   $1"; }
no() { fail=$((fail + 1)); echo "FAIL $1"; [ -f "$T/out" ] && sed 's/^/     | /' "$T/out" | head -20; }
run() {
	"$@" >"$T/stdout" 2>"$T/stderr"
	rc=$?
	cat "$T/stdout" "$T/stderr" >"$T/out"
}
expect_rc() { [ "$rc" -eq "$1" ] && ok "$2 (exit $1)" || no "$2: exit $rc, want $1"; }
expect_out() { grep -q -- "$1" "$T/out" && ok "$2" || no "$2: no '$1' in output"; }
# expect_stdout FILE LABEL: stdout is exactly FILE's bytes
expect_stdout() { cmp -s "$1" "$T/stdout" && ok "$2" || no "$2: stdout differs from $1"; }
# wait_for CMD...: up to 10 s
wait_for() {
	i=0
	while ! "$@" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	"$@" 2>/dev/null
}

DATA="$T/data"
GANTRY_ADMIN_PASSWORD=admin-pass-1 "$G" server --data "$DATA" --listen 127.0.0.1:0 --quiet >"$T/server.log" 2>&1 &
PID=$!
if ! wait_for test -s "$DATA/listen"; then
	echo "FAIL the server did not start"
	sed 's/^/     | /' "$T/server.log"
	echo "0 passed, 1 failed"
	exit 1
fi
URL="http://$(cat "$DATA/listen")"
echo admin-pass-1 | "$G" login --server "$URL" --user admin --password-stdin >/dev/null || { echo "FAIL login"; echo "0 passed, 1 failed"; exit 1; }
executor=$(curl -s "$URL/api/v2/info" | python3 -c 'import json,sys; print(json.load(sys.stdin)["gantry"].get("capabilities", {}).get("executor") or "")' 2>/dev/null)

job() {   # job NAME ROLE COMMAND: a one-task CPU job
	cat >"$T/$1.yaml" <<EOF
protocolVersion: 2
name: $1
type: job
prerequisites:
  - {name: img, type: dockerimage, uri: 'ubuntu:22.04'}
taskRoles:
  $2:
    instances: 2
    dockerImage: img
    resourcePerInstance: {cpu: 1, memoryMB: 256, gpu: 0}
    commands:
      - $3
EOF
	"$G" job submit "$T/$1.yaml" >/dev/null
}

# ---- files written here, in task attempt 7/3 ------------------------------------------

job hand Trainer_1 "sleep 0"
D="$DATA/logs/admin~hand/7/Trainer_1-1/3"
mkdir -p "$D"
printf 'out 1\nout 2\n' >"$D/user.pai.stdout"
printf 'err 1\n' >"$D/user.pai.stderr"
printf 'out 1\nerr 1\nout 2\n' >"$D/user.pai.all"
python3 -c 'import sys; sys.stdout.write("".join("line %d %s\n" % (i, "z" * (i % 70)) for i in range(3000)))' >"$T/big"
A="--attempt 7 --task-attempt 3 --index 1"

run "$G" job logs hand $A
expect_rc 0 "logs: all by default";       expect_stdout "$D/user.pai.all" "the whole of user.pai.all"
run "$G" job logs admin~hand $A --stdout
expect_stdout "$D/user.pai.stdout" "--stdout"
run "$G" job logs hand $A --stderr
expect_stdout "$D/user.pai.stderr" "--stderr"
run "$G" job logs hand $A --role trainer1 --stderr
expect_stdout "$D/user.pai.stderr" "--role by the detail's (converted) name"
run "$G" job logs hand $A --role Trainer_1 --stderr
expect_stdout "$D/user.pai.stderr" "--role as written in the job"
cp "$T/big" "$D/user.pai.all"
run "$G" job logs hand $A --tail
tail -c 16384 "$T/big" >"$T/big.tail"
expect_rc 0 "--tail";                     expect_stdout "$T/big.tail" "--tail is the last 16 KiB exactly"

# -f: what is there, then appends as they come, until exit.json
"$G" job logs hand $A --stdout -f >"$T/follow" 2>"$T/follow.err" &
FPID=$!
wait_for grep -q "out 2" "$T/follow" && ok "-f prints what is there" || no "-f printed nothing"
echo "out 3" >>"$D/user.pai.stdout"
wait_for grep -q "out 3" "$T/follow" && ok "-f prints an append" || no "-f missed an append"
printf 'last' >>"$D/user.pai.stdout"
echo '{"exitCode": 0}' >"$D/exit.json.tmp" && mv "$D/exit.json.tmp" "$D/exit.json"
i=0
while kill -0 "$FPID" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 "$FPID" 2>/dev/null; then
	no "-f did not exit when the task attempt ended"
else
	wait "$FPID"
	frc=$?
	[ "$frc" -eq 0 ] && ok "-f exits 0 at the end" || no "-f exit $frc: $(cat "$T/follow.err")"
	cmp -s "$D/user.pai.stdout" "$T/follow" && ok "-f printed every byte, the last ones too" || no "-f output differs"
fi
FPID=

# Ctrl-C stops following at once, quietly, with 130
D2="$DATA/logs/admin~hand/7/Trainer_1-0/3"
mkdir -p "$D2"
echo "waiting" >"$D2/user.pai.all"
"$G" job logs hand --attempt 7 --task-attempt 3 -f >"$T/follow2" 2>"$T/follow2.err" &
FPID=$!
wait_for grep -q waiting "$T/follow2"
kill -INT "$FPID"
i=0
while kill -0 "$FPID" 2>/dev/null && [ $i -lt 20 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 "$FPID" 2>/dev/null; then
	no "Ctrl-C did not stop -f within 2 s"
else
	wait "$FPID"
	frc=$?
	[ "$frc" -eq 130 ] && ok "Ctrl-C: exit 130" || no "Ctrl-C: exit $frc"
	[ ! -s "$T/follow2.err" ] && ok "Ctrl-C: nothing on stderr" || no "Ctrl-C printed: $(cat "$T/follow2.err")"
fi
FPID=

# errors
run "$G" job logs hand --role nope
expect_rc 1 "an unknown role";            expect_out "has no task role 'nope' (it has: trainer1)" "names the roles"
run "$G" job logs hand --index 5
expect_rc 1 "an index past the role";     expect_out "has 2 tasks: no index 5" "says how many"
run "$G" job logs hand --attempt 9 --task-attempt 9
expect_rc 1 "an attempt that never ran";  expect_out "^gantry: NoTaskLogError: " "the server's NoTaskLogError"
run "$G" job logs nosuchjob
expect_rc 1 "an unknown job";             expect_out "^gantry: NoJobError: " "the server's NoJobError"
run "$G" job logs hand --stdout --stderr
expect_rc 2 "--stdout with --stderr";     expect_out "exclude each other" "usage error"
run "$G" job logs hand --index -1
expect_rc 2 "a negative index";           expect_out "must be a number" "usage error"
run "$G" job logs
expect_rc 2 "no job"
run "$G" job logs --help
expect_rc 0 "--help";                     expect_out "follow" "help mentions -f"

# ---- a real job, when this server runs jobs ---------------------------------------------

if [ -n "$executor" ]; then
	job ticks worker 'for i in 1 2 3 4 5 6; do echo "tick $i"; sleep 0.25; done; echo oops >&2'
	# the task attempt's directory appears once the task is launched
	wait_for sh -c "'$G' job logs ticks >/dev/null 2>&1"
	"$G" job logs ticks -f >"$T/ticks" 2>"$T/ticks.err" &
	FPID=$!
	wait_for grep -q "tick 1" "$T/ticks"
	grep -q "tick 6" "$T/ticks" && no "-f only printed once the job was over" || ok "-f prints a real task's output as it runs"
	i=0
	while kill -0 "$FPID" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	if kill -0 "$FPID" 2>/dev/null; then
		no "-f on a real job did not end with it"
	else
		wait "$FPID"
		[ $? -eq 0 ] && ok "-f on a real job ends with it, exit 0" || no "-f: $(cat "$T/ticks.err")"
		printf 'tick 1\ntick 2\ntick 3\ntick 4\ntick 5\ntick 6\noops\n' >"$T/ticks.want"
		cmp -s "$T/ticks" "$T/ticks.want" && ok "-f: all of it, stdout and stderr" || no "-f: $(cat "$T/ticks")"
	fi
	FPID=
	run "$G" job logs ticks --stderr
	expect_rc 0 "a real job's stderr";    expect_out "^oops$" "its stderr"
	run "$G" job logs ticks --index 1 --stdout
	expect_out "^tick 6$" "the second task's stdout (defaults: its latest attempt)"
else
	echo "skip a real job: this server has no executor"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
