#!/bin/sh
# Black-box tests of `gantry sim`: the replay of the HiveD scenarios, the
# simulator on the shipped examples, and the errors for bad input.
set -u
G=${GANTRY:-build/gantry}
H=tests/data/hived
E=examples
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0

ok() { pass=$((pass + 1)); echo "ok   $1"; }
no() { fail=$((fail + 1)); echo "FAIL $1"; [ -f "$T/out" ] && sed 's/^/     | /' "$T/out" | head -20; }
run() { "$@" >"$T/stdout" 2>"$T/stderr"; rc=$?; cat "$T/stdout" "$T/stderr" >"$T/out"; }
expect_rc() { [ "$rc" -eq "$1" ] && ok "$2 (exit $1)" || no "$2: exit $rc, want $1"; }
expect_out() { grep -q -- "$1" "$T/out" && ok "$2" || no "$2: no '$1' in output"; }
expect_no() { grep -q -- "$1" "$T/out" && no "$2: '$1' in output" || ok "$2"; }

# ---- replay ----
run "$G" sim replay "$H/hived-cases.json"
expect_rc 0 "replay of HiveD's scenarios"
for c in normal_operations suggested_nodes stateful_preemption bad_nodes_doomed_cells reconfiguration \
         invalid_initial_assignment; do
	expect_out "^PASS $c\$" "PASS $c"
done
expect_out "^107 passed, 0 failed\$" "replay counts 107 asserting steps"
expect_no "^FAIL" "no FAIL line"

run "$G" sim replay --strict "$H/hived-cases.json" "$H/extra-cases.json"
expect_rc 0 "strict replay, against everything HiveD was observed doing"
expect_out "^PASS backtracking\$" "PASS backtracking"
expect_out "^PASS safe_relaxed_buddy_alloc\$" "PASS safe_relaxed_buddy_alloc"
expect_out "^PASS intra_vc_preemption\$" "PASS intra_vc_preemption"
expect_out "^128 passed, 0 failed\$" "two files: one total line"

# a wrong expectation must be caught, named and counted
python3 - "$H/hived-cases.json" "$T/wrong.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["cases"] = [c for c in d["cases"] if c["name"] == "normal_operations"]
d["cases"][0]["steps"][0]["expect"]["leaf_cell_isolation"] = [1]
json.dump(d, open(sys.argv[2], "w"))
EOF
run "$G" sim replay "$T/wrong.json"
expect_rc 1 "a failing scenario exits 1"
expect_out "^FAIL normal_operations: step 0: " "FAIL names the case and the step"
expect_out "expected bind 0.0.1.0 \[1\], got bind 0.0.1.0 \[0\]" "FAIL says expected and got"
expect_out "^[0-9]* passed, 1 failed\$" "the failed step is counted"

run "$G" sim replay
expect_rc 2 "replay without a file is a usage error"
run "$G" sim replay --bogus "$H/hived-cases.json"
expect_rc 2 "unknown replay option"
run "$G" sim replay "$T/none.json"
expect_rc 1 "missing scenario file"
echo '{"cases": 1}' >"$T/notcases.json"
run "$G" sim replay "$T/notcases.json"
expect_rc 1 "a JSON file that is not a scenario file"
expect_out "not a scenario file" "says it is not a scenario file"
run "$G" sim replay --help
expect_rc 0 "replay --help"

# ---- run ----
run "$G" sim run --config "$E/sched-gpu-cluster.yaml" --trace "$E/sched-gpu-trace.csv"
expect_rc 0 "simulate the GPU example"
expect_out "wait p95" "reports queueing delay percentiles"
expect_out "GPU utilization" "reports utilization"
expect_out "preemptions:" "reports preemptions"
expect_out "too-big-for-students" "names a job that can never fit"
expect_out "can never hold" "says why it never fits"

run "$G" sim run --config "$E/sched-cpu-cluster.json" --trace "$E/sched-cpu-trace.csv" --json
expect_rc 0 "simulate the CPU example as JSON"
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["vcs"] and "queue_delay_s" in d["vcs"][0] and "utilization" in d' "$T/stdout" 2>/dev/null; then
	ok "--json output parses and has the fields"
else
	no "--json output parses and has the fields"
fi

run "$G" sim run --config "$E/sched-gpu-cluster.yaml" --trace "$E/sched-gpu-trace.csv" --until 3600 --json
expect_rc 0 "--until stops early"

run "$G" sim run --trace "$E/sched-gpu-trace.csv"
expect_rc 2 "run without --config is a usage error"
run "$G" sim run --config "$E/sched-gpu-cluster.yaml" --trace "$E/sched-gpu-trace.csv" --what
expect_rc 2 "unknown run option"
run "$G" sim run --config "$T/none.yaml" --trace "$E/sched-gpu-trace.csv"
expect_rc 1 "missing config file"
printf 'physicalCluster:\n  cellTypes:\n    NODE: {childCellType: GPU, childCellNumber: 4, isNodeLevel: true}\n  physicalCells:\n  - cellType: RACK\n' >"$T/bad.yaml"
run "$G" sim run --config "$T/bad.yaml" --trace "$E/sched-gpu-trace.csv"
expect_rc 1 "a bad config is refused"
expect_out "physicalCluster.physicalCells\[0\].cellType: unknown cell type 'RACK'" "the error names the path"
printf 'submit,vc\n1,a\n' >"$T/bad.csv"
run "$G" sim run --config "$E/sched-gpu-cluster.yaml" --trace "$T/bad.csv"
expect_rc 1 "a trace without required columns is refused"
expect_out "no 'duration' column" "names the missing column"
printf 'submit,duration,vc,priority,instances,gpu\n0,10,research,100,1,eight\n' >"$T/bad2.csv"
run "$G" sim run --config "$E/sched-gpu-cluster.yaml" --trace "$T/bad2.csv"
expect_rc 1 "a bad number in the trace is refused"
expect_out "bad2.csv:2:" "names the line"
# empty optional fields keep their columns (sku after an empty pinned), and
# line numbers count blank lines
cat >"$T/mixed.yaml" <<'EOF'
skuTypes:
  V100: {gpu: 1, cpu: 4, memory: 8192}
  K80: {gpu: 1, cpu: 2, memory: 4096}
physicalCluster:
  cellTypes:
    V100-NODE: {childCellType: V100, childCellNumber: 8, isNodeLevel: true}
    K80-NODE: {childCellType: K80, childCellNumber: 4, isNodeLevel: true}
  physicalCells:
  - {cellType: V100-NODE, cellAddress: v1}
  - {cellType: K80-NODE, cellAddress: k1}
  - {cellType: K80-NODE, cellAddress: k2, pinnedCellId: k80-pin}
virtualClusters:
  product: {virtualCells: [{cellType: V100-NODE, cellNumber: 1}, {cellType: K80-NODE, cellNumber: 1}]}
  students: {pinnedCells: [{pinnedCellId: k80-pin}]}
EOF
printf 'name,submit,duration,vc,priority,instances,gpu,pinned,sku\nA,0,10,product,100,1,4,,K80\n\nB,5,10,students,100,1,4,k80-pin,\n' >"$T/empty.csv"
run "$G" sim run --config "$T/mixed.yaml" --trace "$T/empty.csv" --json
expect_rc 0 "empty optional fields (pinned, sku) are allowed"
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); v={x["name"]: x for x in d["vcs"]}; assert v["product"]["started"] == 1 and v["students"]["started"] == 1, v' "$T/stdout" 2>"$T/out"; then
	ok "both jobs start: A on its K80 cells, B on its pinned cell"
else
	no "both jobs start: A on its K80 cells, B on its pinned cell"
fi
printf 'name,submit,duration,vc,priority,instances,gpu,pinned,sku\nA,0,10,product,100,1,4,,K80\n\n\nB,x,10,product,100,1,4,,\n' >"$T/blank.csv"
run "$G" sim run --config "$T/mixed.yaml" --trace "$T/blank.csv"
expect_rc 1 "a bad number after blank lines is refused"
expect_out "blank.csv:5: 'x' is not a valid" "the line number counts the blank lines"
printf 'submit,duration,vc,priority,instances,gpu\n0,10,product,100,1\n' >"$T/short.csv"
run "$G" sim run --config "$T/mixed.yaml" --trace "$T/short.csv"
expect_rc 1 "a row with fewer fields than the header is refused"
expect_out "short.csv:2: 5 fields, the header has 6" "says how many fields"
printf 'submit,duration,vc,priority,instances,gpu\n0,,product,100,1,4\n' >"$T/nodur.csv"
run "$G" sim run --config "$T/mixed.yaml" --trace "$T/nodur.csv"
expect_rc 1 "an empty required field is refused"
expect_out "nodur.csv:2: the 'duration' field is empty" "names the empty field"
run "$G" sim run --help
expect_rc 0 "run --help"
run "$G" sim
expect_rc 2 "sim alone lists its commands"
expect_out "sim replay" "lists sim replay"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
