#!/bin/sh
# Black-box tests of the client commands against a real `gantry server`:
# login and logout, job submit|list|show|config|events|stop, the admin
# commands (user, group, vc, node), tokens, and the exit codes and messages
# of errors (the server's own, transport, usage).
set -u
G=${GANTRY:-build/gantry}
case $G in /*) ;; *) G=$PWD/$G ;; esac
D=$PWD/tests/data/spec
T=$(mktemp -d)
PID=
cleanup() {
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

# the client must talk to our server directly, whatever this machine's setup
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy GANTRY_TOKEN GANTRY_SERVER
export HOME="$T/home" XDG_CONFIG_HOME="$T/xdg" TZ=UTC
mkdir -p "$HOME"
CONFIG="$XDG_CONFIG_HOME/gantry/config.json"

ok() { pass=$((pass + 1)); echo "ok   $1"; }
no() { fail=$((fail + 1)); echo "FAIL $1"; [ -f "$T/out" ] && sed 's/^/     | /' "$T/out" | head -20; }
# run CMD...: stdout in $T/stdout, both in $T/out (and $T/all), status in $rc
run() {
	"$@" >"$T/stdout" 2>"$T/stderr"
	rc=$?
	cat "$T/stdout" "$T/stderr" >"$T/out"
	cat "$T/out" >>"$T/all"
}
expect_rc() { [ "$rc" -eq "$1" ] && ok "$2 (exit $1)" || no "$2: exit $rc, want $1"; }
expect_out() { grep -q -- "$1" "$T/out" && ok "$2" || no "$2: no '$1' in output"; }
expect_no() { grep -q -- "$1" "$T/out" && no "$2: '$1' in output" || ok "$2"; }
# py EXPR: evaluate a Python expression over the JSON on stdout (as d)
py() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($1) else 1)" "$T/stdout"; }
expect_py() { py "$1" && ok "$2" || no "$2: not ($1)"; }
saved_token() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("token", ""))' "$CONFIG"; }

GANTRY_ADMIN_PASSWORD=admin-pass-1 "$G" server --data "$T/data" --listen 127.0.0.1:0 --quiet \
	>"$T/server.log" 2>&1 &
PID=$!
i=0
while [ ! -s "$T/data/listen" ] && [ $i -lt 200 ]; do
	sleep 0.1
	i=$((i + 1))
done
if [ ! -s "$T/data/listen" ]; then
	echo "FAIL the server did not start"
	sed 's/^/     | /' "$T/server.log"
	echo "0 passed, 1 failed"
	exit 1
fi
URL="http://$(cat "$T/data/listen")"

# ---- logging in ------------------------------------------------------------------

run "$G" job list
expect_rc 1 "before login";          expect_out "not logged in to http://127.0.0.1:9186" "says where it is not logged in"
run sh -c "echo wrong-password | '$G' login --server '$URL' --user admin --password-stdin"
expect_rc 1 "wrong password";        expect_out "^gantry: IncorrectPasswordError: Password is incorrect.$" "the server's message"
[ ! -f "$CONFIG" ] && ok "a failed login saves nothing" || no "config written after a failed login"
run sh -c "echo some-password | '$G' login --server '$URL' --user nobody --password-stdin"
expect_rc 1 "unknown user";          expect_out "NoUserError: User nobody is not found." "unknown user message"
run "$G" login --server "$URL" --user admin </dev/null
expect_rc 2 "no terminal and no --password-stdin"; expect_out "password-stdin" "tells how to pass the password"
run sh -c "echo admin-pass-1 | '$G' login --server '$URL' --user admin --password-stdin"
expect_rc 0 "login";                 expect_out "^Logged in to $URL as admin (admin)$" "login says who and where"
[ "$(stat -c %a "$CONFIG" 2>/dev/null)" = 600 ] && ok "config file mode 0600" || no "config mode $(stat -c %a "$CONFIG")"
[ "$(stat -c %a "$XDG_CONFIG_HOME/gantry")" = 700 ] && ok "config directory mode 0700" || no "config dir mode"
TOKEN1=$(saved_token)
[ ${#TOKEN1} -ge 32 ] && ok "the token is saved" || no "no token in $CONFIG"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["server"]==sys.argv[2] and d["user"]=="admin" and d["admin"] is True' \
	"$CONFIG" "$URL" && ok "config holds server, user, admin" || no "config content"

# ---- jobs -------------------------------------------------------------------------

cat >"$T/cpu.yaml" <<'EOF'
protocolVersion: 2
name: cpu-job
type: job
prerequisites:
  - type: dockerimage
    uri: 'ubuntu:22.04'
    name: img
taskRoles:
  worker:
    instances: 2
    dockerImage: img
    resourcePerInstance:
      cpu: 1
      memoryMB: 512
      gpu: 0
    commands:
      - echo hello
      - sleep 300
EOF
# cpu-job runs until stopped; cpu-job-2 ends at once
sed 's/^name: cpu-job$/name: cpu-job-2/; s/instances: 2/instances: 1/; s/sleep 300/exit 0/' "$T/cpu.yaml" >"$T/cpu2.yaml"

run "$G" vc show default -o json
gpus=$(python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["resourcesTotal"]["gpu"]))' "$T/stdout" 2>/dev/null || echo 0)
run "$G" job submit "$D/valid/hello-world-job.yaml"
if [ "$gpus" -eq 0 ]; then
	expect_rc 1 "GPU job on a cluster without GPUs"
	expect_out "^gantry: InvalidProtocolError: .*requests 1 GPU, but SKU does not configure GPU" "the server's 400 message"
else
	expect_rc 0 "GPU job on a cluster with GPUs"
	expect_out "^submitted admin~hello-world-job$" "GPU job submitted"
fi
run "$G" job submit "$T/cpu.yaml"
expect_rc 0 "submit";                expect_out "^submitted admin~cpu-job$" "submit names USER~NAME"
run "$G" job submit "$T/cpu.yaml"
expect_rc 1 "the same name again";   expect_out "^gantry: ConflictJobError: " "duplicate: the server's 409 code and message"
run sh -c "'$G' job submit - <'$T/cpu2.yaml'"
expect_rc 0 "submit from stdin";     expect_out "^submitted admin~cpu-job-2$" "stdin job named"
run "$G" job submit "$T/missing.yaml"
expect_rc 1 "missing job file";      expect_out "missing.yaml: No such file" "missing file message"
run "$G" job submit
expect_rc 2 "submit without a file"

run "$G" job list
expect_rc 0 "list"
head -n1 "$T/stdout" | grep -Eq '^NAME +USER +VC +STATE +GPUS +TASKS +SUBMITTED$' && ok "list header" || no "list header"
grep -Eq '^cpu-job +admin +default +[A-Z]+ +0 +2 +20[0-9]{2}-[0-9]{2}-[0-9]{2} [0-9:]{8}$' "$T/stdout" \
	&& ok "list row: name, user, vc, state, gpus, tasks, local time" || no "list row"
[ "$(sed -n 2p "$T/stdout" | cut -d' ' -f1)" = cpu-job-2 ] && ok "newest first, as the server sorts" || no "list order"
# aligned: every row starts its USER column at the header's offset
col=$(head -n1 "$T/stdout" | awk '{ print index($0, "USER") }')
bad=$(awk -v c="$col" 'NR > 1 && substr($0, c, 5) != "admin" { n++ } END { print n + 0 }' "$T/stdout")
[ "$bad" -eq 0 ] && ok "columns aligned" || no "columns not aligned"
run "$G" job list -o json
expect_rc 0 "list -o json"
expect_py 'isinstance(d, list) and {j["name"] for j in d} >= {"cpu-job", "cpu-job-2"}' "list -o json is the server's JSON"
run "$G" job list --limit 1 -o json
expect_py 'len(d) == 1' "--limit"
run "$G" job list --vc nosuch -o json
expect_py 'd == []' "--vc filters"
run "$G" job list --state STOPPED -o json
expect_py 'd == []' "--state filters"
run "$G" job list --limit 0;          expect_rc 2 "--limit 0"
run "$G" job list --all --user admin; expect_rc 2 "--all with --user"

run "$G" job show cpu-job
expect_rc 0 "show"
expect_out "^Job: *admin~cpu-job$" "show names the job"
expect_out "^Virtual cluster: *default$" "show gives the VC"
grep -Eq '^ROLE +INDEX +STATE +NODE +LEAF CELLS$' "$T/stdout" && ok "task table header" || no "task table header"
[ "$(grep -c '^worker ' "$T/stdout")" -eq 2 ] && ok "one row per task" || no "task rows"
run "$G" job show admin~cpu-job -o json
expect_py 'd["name"] == "cpu-job" and d["jobStatus"]["username"] == "admin" and "worker" in d["taskRoles"]' "show -o json"
run "$G" job show admin~no-such-job
expect_rc 1 "show a missing job";    expect_out "^gantry: NoJobError: Job admin~no-such-job is not found.$" "404 message"
run "$G" job show
expect_rc 2 "show without a job"

run "$G" job config cpu-job
expect_rc 0 "config"
cmp -s "$T/stdout" "$T/cpu.yaml" && ok "config is the file as submitted" || no "config differs"

run "$G" job events cpu-job
expect_rc 0 "events"
head -n1 "$T/stdout" | grep -Eq '^TIME +TYPE +REASON +MESSAGE$' && ok "events header" || no "events header"
s=$(grep -n ' Submitted ' "$T/stdout" | cut -d: -f1)
p=$(grep -n ' Placed ' "$T/stdout" | cut -d: -f1)
[ -n "$s" ] && [ -n "$p" ] && [ "$s" -lt "$p" ] && ok "events oldest first" || no "events order"
run "$G" job events cpu-job -o json
expect_py 'd["totalCount"] >= 1 and d["data"][0]["reason"]' "events -o json"

run "$G" job stop cpu-job
expect_rc 0 "stop";                  expect_out "^stopped admin~cpu-job$" "stop names the job"
# its tasks get SIGTERM: STOPPING, then STOPPED once they are gone
for i in $(seq 1 100); do
	"$G" job list --state STOPPED -o json >"$T/stopped.json" 2>/dev/null
	grep -q cpu-job "$T/stopped.json" && break
	sleep 0.1
done
run "$G" job list --state STOPPED -o json
expect_py '[j["name"] for j in d] == ["cpu-job"]' "the stopped job is STOPPED"
run "$G" job events admin~cpu-job
[ "$(tail -n1 "$T/stdout" | awk '{ print $4 }')" = Stopped ] && ok "Stopped is the last event" || no "no Stopped event last"

# ---- the cluster --------------------------------------------------------------------

run "$G" vc list
expect_rc 0 "vc list";               expect_out "^default  *running " "vc list row"
run "$G" vc show default
expect_rc 0 "vc show";               expect_out "^quotaLeafCells: *[0-9]" "vc show fields"
run "$G" vc show nosuch
expect_rc 1 "vc show unknown";       expect_out "NoVirtualClusterError: Virtual cluster nosuch is not found." "vc 404"
run "$G" node list
expect_rc 0 "node list"
head -n1 "$T/stdout" | grep -Eq '^NODE +ADDRESS +HEALTHY' && ok "node list header" || no "node header"
[ "$(wc -l <"$T/stdout")" -ge 2 ] && ok "at least one node" || no "no node"
run "$G" node list -o json
expect_py 'isinstance(d, list) and d[0]["name"]' "node list -o json"

# ---- users and groups ---------------------------------------------------------------

run sh -c "echo bob-pass-1 | '$G' user create bob --password-stdin --vc default --email bob@example.org"
expect_rc 0 "user create";           expect_out "^created user bob$" "user create says so"
run sh -c "echo bob-pass-1 | '$G' user create bob --password-stdin"
expect_rc 1 "user create twice";     expect_out "ConflictUserError: User name bob already exists." "409 message"
run sh -c "echo x | '$G' user create shorty --password-stdin"
expect_rc 1 "too short a password";  expect_out "InvalidParametersError: \"password\" length must be" "400 message"
run "$G" user create carol </dev/null
expect_rc 2 "user create without a terminal or --password-stdin"
run "$G" user list
expect_rc 0 "user list";             expect_out "^bob  *no  *default  *default  *bob@example.org$" "user list row"
run "$G" user show bob
expect_rc 0 "user show";             expect_out "^Email: *bob@example.org$" "user show"
run "$G" user show bob -o json
expect_py 'd["username"] == "bob" and d["admin"] is False' "user show -o json"
run "$G" user set-vcs bob default
expect_rc 0 "user set-vcs"
run "$G" user set-vcs bob nosuch
expect_rc 1 "set-vcs unknown VC";    expect_out "NoVirtualClusterError" "set-vcs 400 message"
run "$G" user set-vcs bob
expect_rc 2 "set-vcs without VCs"

run "$G" group create team1 --vc default --description "Team one"
expect_rc 0 "group create";          expect_out "^created group team1$" "group create says so"
run "$G" group list
expect_rc 0 "group list";            expect_out "^team1  *no  *default  *Team one$" "group list row"
run "$G" group show team1
expect_rc 0 "group show";            expect_out "^Description: *Team one$" "group show"
run "$G" group show team1 -o json
expect_py 'd["extension"]["acls"]["virtualClusters"] == ["default"]' "group show -o json"
run "$G" group delete admingroup
expect_rc 1 "built-in group";        expect_out "ForbiddenUserError: Group admingroup is built in" "403 message"

# bob, in a home of his own
BOBCFG="$T/xdg-bob"
bob() { env XDG_CONFIG_HOME="$BOBCFG" "$@"; }
run sh -c "echo bob-pass-1 | XDG_CONFIG_HOME='$BOBCFG' '$G' login --server '$URL' --user bob --password-stdin"
expect_rc 0 "login as a user";       expect_out "^Logged in to $URL as bob$" "no (admin) for a user"
run sh -c "echo carol-pass-1 | XDG_CONFIG_HOME='$BOBCFG' '$G' user create carol --password-stdin"
expect_rc 1 "a user creating users"; expect_out "^gantry: ForbiddenUserError: Non-admin is not allow to do this operation.$" "the server's 403 message"
run bob "$G" job stop admin~cpu-job-2
expect_rc 1 "a user stopping another's job"; expect_out "ForbiddenUserError: User bob is not allowed to do operation on job admin~cpu-job-2." "job 403 message"
run bob "$G" job list -o json
expect_py 'd == []' "a user's own list is theirs"
run bob "$G" job list --all -o json
expect_py 'len(d) >= 2' "--all lists everyone's"
run sh -c "printf 'bob-pass-1\nbob-pass-2\n' | XDG_CONFIG_HOME='$BOBCFG' '$G' user passwd --password-stdin"
expect_rc 0 "passwd, own";           expect_out "^changed the password of bob$" "passwd says so"
run bob "$G" job list
expect_rc 1 "the old session ended"; expect_out "not logged in" "token forgotten after passwd"
run sh -c "echo bob-pass-3 | '$G' user passwd bob --password-stdin"
expect_rc 0 "admin resets a password"
run sh -c "echo bob-pass-3 | XDG_CONFIG_HOME='$BOBCFG' '$G' login --password-stdin"
expect_rc 0 "login again, the user remembered"; expect_out "as bob$" "same user as before"

run bob "$G" user set-admin bob yes
expect_rc 1 "a user making themself admin"; expect_out "ForbiddenUserError: Non-admin is not allow to do this operation." "set-admin 403"
run sh -c "echo carol-pass-1 | XDG_CONFIG_HOME='$BOBCFG' '$G' user create carol --password-stdin"
expect_rc 1 "bob, not admin yet, cannot create users"
run "$G" user set-admin bob yes
expect_rc 0 "user set-admin yes";    expect_out "^bob is now an administrator$" "set-admin says so"
run "$G" user show bob -o json
expect_py 'd["admin"] is True' "bob is admin"
run sh -c "echo carol-pass-1 | XDG_CONFIG_HOME='$BOBCFG' '$G' user create carol --password-stdin"
expect_rc 0 "the new admin's session has the rights at once"
run "$G" user set-admin bob maybe
expect_rc 2 "set-admin neither yes nor no"; expect_out "'maybe' is not yes or no" "names the bad value"
run "$G" user set-admin nosuch yes
expect_rc 1 "set-admin unknown user"; expect_out "NoUserError: User nosuch is not found." "set-admin 404"
run "$G" user set-admin admin no
expect_rc 1 "an admin dropping their own rights"; expect_out "Admins cannot remove their own admin rights." "set-admin self 403"
run "$G" user set-admin bob no
expect_rc 0 "user set-admin no";     expect_out "^bob is no longer an administrator$" "set-admin no says so"
run "$G" user show bob -o json
expect_py 'd["admin"] is False' "bob is no longer admin"
run sh -c "echo dave-pass-1 | XDG_CONFIG_HOME='$BOBCFG' '$G' user create dave --password-stdin"
expect_rc 1 "rights gone at once";   expect_out "ForbiddenUserError" "403 again"
run "$G" user delete carol
expect_rc 0 "carol deleted"

run "$G" user delete bob
expect_rc 0 "user delete";           expect_out "^deleted user bob$" "user delete says so"
run "$G" user show bob
expect_rc 1 "deleted user is gone"
run "$G" group delete team1
expect_rc 0 "group delete"

# ---- tokens ------------------------------------------------------------------------

run "$G" token create
expect_rc 0 "token create"
APP=$(cat "$T/stdout")
[ ${#APP} -ge 32 ] && ok "token create prints the token" || no "token create output"
run env GANTRY_TOKEN="$APP" "$G" job list --all -o json
expect_rc 0 "GANTRY_TOKEN is used"
run "$G" token list
expect_rc 0 "token list"
[ "$(grep -c '^sha256:[0-9a-f]\{64\} ' "$T/stdout")" -ge 2 ] && ok "token list shows handles" || no "token handles"
[ "$(grep -c ' yes$' "$T/stdout")" -eq 1 ] && ok "one token is this session's" || no "current token"
expect_no "$APP" "token list never shows a token"
run "$G" token revoke "$APP"
expect_rc 0 "revoke by token";       expect_out "^revoked sha256:" "revoke names the handle"
run env GANTRY_TOKEN="$APP" "$G" job list
expect_rc 1 "a revoked token";       expect_out "^gantry: UnauthorizedUserError: Your token is invalid.$" "401 message"
run "$G" token create
APP2=$(cat "$T/stdout")
run "$G" token list -o json
H=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["tokens"][-1])' "$T/stdout")
run "$G" token revoke "$H"
expect_rc 0 "revoke by handle"
run env GANTRY_TOKEN="$APP2" "$G" job list
expect_rc 1 "revoked by handle"
run "$G" token revoke sha256:0000000000000000000000000000000000000000000000000000000000000000
expect_rc 1 "revoke an unknown token"; expect_out "NoTokenError" "unknown token message"

# ---- errors ---------------------------------------------------------------------------

run "$G" frobnicate;                  expect_rc 2 "unknown command"
run "$G" user frob;                   expect_rc 2 "unknown user subcommand"
run "$G" job list --bogus;            expect_rc 2 "unknown option"; expect_out "unknown option '--bogus'" "names the option"
run "$G" job list -o yaml;            expect_rc 2 "bad -o"
run "$G" job list extra;              expect_rc 2 "unexpected argument"
run "$G" user show;                   expect_rc 2 "user show without a name"
run "$G" login --user;                expect_rc 2 "option without its value"
for c in "login" "logout" "job submit" "job list" "job show" "job stop" "job config" "job events" \
	"user list" "user show" "user create" "user delete" "user passwd" "user set-vcs" "user set-admin" \
	"group list" "group show" "group create" "group delete" "vc list" "vc show" "node list" \
	"token list" "token create" "token revoke"; do
	# shellcheck disable=SC2086
	run "$G" $c --help
	[ "$rc" -eq 0 ] && grep -q "^usage: gantry $c" "$T/stdout" && ok "$c --help" || no "$c --help"
done
run "$G" help
expect_out "job submit" "help lists the client commands"

run env GANTRY_TOKEN=x "$G" job list --server http://127.0.0.1:1
expect_rc 1 "server down";           expect_out "^gantry: cannot reach http://127.0.0.1:1: " "cannot reach message"
run "$G" job list --server 127.0.0.1:1
expect_rc 1 "another server";        expect_out "not logged in to http://127.0.0.1:1" "the saved token stays with its server"
run "$G" job list --server ftp://x;  expect_rc 2 "a URL that is not http"

# ---- logout ---------------------------------------------------------------------------

TOKEN=$(saved_token)
run "$G" logout
expect_rc 0 "logout";                expect_out "^Logged out of $URL$" "logout says so"
[ -z "$(saved_token)" ] && ok "logout removes the token" || no "token still saved"
run env GANTRY_TOKEN="$TOKEN" "$G" job list
expect_rc 1 "the logged-out token is revoked"
run "$G" job list
expect_rc 1 "after logout";          expect_out "not logged in" "not logged in after logout"
run "$G" logout
expect_rc 0 "logout twice";          expect_out "not logged in" "logout twice says so"

# the saved tokens never appeared in any output
for t in "$TOKEN1" "$TOKEN"; do
	grep -qF -- "$t" "$T/all" && no "a saved token was printed" || ok "the saved token was never printed"
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
