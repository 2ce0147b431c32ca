#!/bin/sh
# Black-box tests of the gantry command line: help, version, usage errors,
# and `gantry job validate` output, exit codes, JSON and limits.
set -u
G=${GANTRY:-build/gantry}
D=tests/data/spec
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0

ok() { pass=$((pass + 1)); echo "ok   $1"; }
no() { fail=$((fail + 1)); echo "FAIL $1"; [ -f "$T/out" ] && sed 's/^/     | /' "$T/out" | head -20; }
# run CMD...: stdout+stderr in $T/out, stdout in $T/stdout, status in $rc
run() { "$@" >"$T/stdout" 2>"$T/stderr"; rc=$?; cat "$T/stdout" "$T/stderr" >"$T/out"; }
expect_rc() { [ "$rc" -eq "$1" ] && ok "$2 (exit $1)" || no "$2: exit $rc, want $1"; }
expect_out() { grep -q -- "$1" "$T/out" && ok "$2" || no "$2: no '$1' in output"; }
expect_no() { grep -q -- "$1" "$T/out" && no "$2: '$1' in output" || ok "$2"; }

run "$G" help;                       expect_rc 0 "help";        expect_out "job validate" "help lists job validate"
run "$G" --help;                     expect_rc 0 "--help"
run "$G" -h;                         expect_rc 0 "-h"
run "$G";                            expect_rc 2 "no command";  expect_out "usage: gantry" "no command prints usage"
run "$G" version;                    expect_rc 0 "version"
grep -Eq '^gantry [0-9]+\.[0-9]+\.[0-9]+ \(commit [0-9a-f]{7,}|unknown\)' "$T/stdout" && ok "version names the commit" || no "version format"
run "$G" --version;                  expect_rc 0 "--version"
run "$G" version --help;             expect_rc 0 "version --help"
run "$G" version extra;              expect_rc 2 "version with an argument"
run "$G" frobnicate;                 expect_rc 2 "unknown command"
expect_out "gantry: unknown command 'frobnicate'" "unknown command names it"
[ ! -s "$T/stdout" ] && ok "usage errors go to stderr" || no "usage error on stdout"
run "$G" help job validate;          expect_rc 0 "help job validate"; expect_out "FILE:LINE:COL" "help explains the output"
run "$G" job;                        expect_rc 2 "job without subcommand"; expect_out "job validate" "job lists its commands"
run "$G" job --help;                 expect_rc 0 "job --help"
run "$G" job frob;                   expect_rc 2 "unknown job subcommand"; expect_out "unknown command 'frob'" "names the subcommand"
run "$G" job validate --help;        expect_rc 0 "job validate --help"; expect_out "usage: gantry job validate" "validate usage"
run "$G" job validate;               expect_rc 2 "validate without files"
run "$G" job validate --bogus x;     expect_rc 2 "unknown option"; expect_out "unknown option '--bogus'" "names the option"
run "$G" job validate --user;        expect_rc 2 "option without value"

# every valid file, one line each
run "$G" job validate "$D"/valid/*.yaml
expect_rc 0 "all valid files"
n=$(ls "$D"/valid/*.yaml | wc -l)
[ "$(grep -c ': ok$' "$T/stdout")" -eq "$n" ] && ok "one ok line per file" || no "ok lines"

# mixed: errors with positions, ok for the good file, exit 1
run "$G" job validate "$D"/invalid/instances-zero.yaml "$D"/valid/hello-world-job.yaml
expect_rc 1 "one invalid file fails the run"
expect_out "^$D/invalid/instances-zero.yaml:10:16: error: .taskRoles\['w'\].instances should be >= 1$" "error line format"
expect_out "^$D/valid/hello-world-job.yaml: ok$" "the valid file still reported"
run "$G" job validate "$D"/invalid/empty-file.yaml
expect_out "^$D/invalid/empty-file.yaml: error: should be object$" "error without position"
run "$G" job validate "$D"/invalid/many-errors.yaml
[ "$(grep -c ': error: ' "$T/stdout")" -ge 8 ] && ok "every schema error reported" || no "all errors"
run "$G" job validate "$T/missing.yaml"
expect_rc 1 "missing file"; expect_out "missing.yaml: error: cannot open: No such file" "missing file message"

# stdin
run sh -c "'$G' job validate - < '$D/valid/caffe-mnist.yaml'"
expect_rc 0 "stdin"; expect_out "^<stdin>: ok$" "stdin named <stdin>"

# --json: the normalized job, secrets masked
run "$G" job validate --json --user alice "$D"/render/secret-auth.yaml
expect_rc 0 "--json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["taskRoles"][0]["entrypoint"].endswith("exit"); assert d["secrets"]=="******"' "$T/stdout" \
	&& ok "--json is the normalized job" || no "--json content"
expect_no "testpass" "--json hides the registry password"
expect_no "testuser" "--json hides secret-rendered user names"
expect_no "s3cr3t" "--json never shows secrets"
run "$G" job validate --json --user alice "$D"/valid/tensorflow-cifar10.yaml
expect_out '"affinityGroup": "alice~tensorflow_cifar10/default"' "--user names the affinity group"

# limits
head -c 1100000 /dev/zero | tr '\0' 'a' > "$T/big.yaml"
run "$G" job validate "$T/big.yaml"
expect_rc 1 "over 1 MiB"; expect_out "limit is 1048576 bytes (1 MiB)" "size limit message"
{ printf 'parameters: '; i=0; while [ $i -lt 100 ]; do printf '['; i=$((i+1)); done; echo; } > "$T/deep.yaml"
run "$G" job validate "$T/deep.yaml"
expect_rc 1 "deep nesting"; expect_out "nesting deeper than 64 levels" "depth message"
printf 'a: "\\x00\xff"\n\x01\n' > "$T/bin.yaml"
run "$G" job validate "$T/bin.yaml"
expect_rc 1 "binary garbage is an error, not a crash"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
