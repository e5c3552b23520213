#!/usr/bin/env bash
# The command-line tool's launcher against git, as whole processes started by bash (no Node parent, no
# /usr/bin/time around them: what a shell script or an agent's shell pays), and the floor under the
# launcher (#14 target 2): bash's start, with and without the exec of `env` that the launcher's
# `#!/usr/bin/env bash` costs (a script that runs `bash dist/recovery-points`, as the hooks run their
# client, saves it), and the launcher's own floor: `show latest` against a stand-in helper that speaks
# the helper's protocol and answers at once with the real helper's answer (bash, the client, the
# connection and the exchange of secrets, without the helper's work). Makes a workspace of FILES small
# files (default 10000), its store with 20 points and a git repository with 20 commits, starts the
# resident helper with an address folder of its own, and prints the median of RUNS runs (default 40)
# of each command, in turns.
#   bash bench/launcherFloor.sh [FILES] [RUNS]
set -euo pipefail
files=${1:-10000}
runs=${2:-40}
repo=$(cd -P -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
tool=$repo/dist/recovery-points
[[ -x $tool ]] || { echo "dist/recovery-points is missing: run npm run build" >&2; exit 1; }
tmp=$(mktemp -d /tmp/rp-launcher-floor-XXXXXX)
export RECOVERY_POINTS_HELPER_DIR=$tmp/helper XDG_CACHE_HOME=$tmp/cache
standin_pid=
cleanup() {
  node "$repo/dist/cli.js" hook-helper stop >/dev/null 2>&1 || true
  [[ -z $standin_pid ]] || kill "$standin_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
ws=$tmp/ws
for ((i = 0; i < files; i++)); do
  d=$ws/d$((i % 100))
  [[ -d $d ]] || mkdir -p "$d"
  printf 'export const value%d = %d;\n' "$i" "$i" >"$d/f$i.ts"
done
git -C "$ws" init -q
git -C "$ws" -c user.email=b@e -c user.name=bench add -A
git -C "$ws" -c user.email=b@e -c user.name=bench commit -qm c0
store=$tmp/store
node "$repo/dist/cli.js" snapshot --workspace "$ws" --store "$store" >/dev/null
for ((i = 1; i < 20; i++)); do
  printf '// edit %d\n' "$i" >>"$ws/d$i/f$i.ts"
  node "$repo/dist/cli.js" snapshot --workspace "$ws" --store "$store" --changed "$ws/d$i/f$i.ts" >/dev/null
  git -C "$ws" -c user.email=b@e -c user.name=bench commit -qam "c$i"
done
git -C "$ws" status >/dev/null
# started by the first command through the launcher (Node), as a person meets it
"$tool" list --workspace "$ws" --store "$store" >/dev/null
for _ in {1..100}; do [[ -s $RECOVERY_POINTS_HELPER_DIR/address ]] && break; sleep 0.05; done
sleep 0.5
# the stand-in: the client's secret, then its request (verb, folder, terminal, the 4 values of
# SERVED_ENV, the argument count and the arguments), answered with $tmp/answer and exit code 0; the
# answer's last line tells it from Node's
{ "$tool" show latest --workspace "$ws" --store "$store" && echo "(the stand-in)"; } >"$tmp/answer"
mkdir -p "$tmp/standin"
STANDIN_DIR=$tmp/standin STANDIN_ANSWER=$tmp/answer STANDIN_CLI=$repo/dist/cli.js node -e '
const net = require("node:net"), fs = require("node:fs");
const answer = fs.readFileSync(process.env.STANDIN_ANSWER);
const reply = Buffer.concat([Buffer.from(`o ${answer.length}\n`), answer, Buffer.from("x 0\n")]);
const server = net.createServer((socket) => {
  socket.setNoDelay(true);
  let text = "", lines = 0, needed = -1;
  socket.on("data", (data) => {
    text += data;
    for (let at = text.indexOf("\n"); at >= 0; at = text.indexOf("\n")) {
      const line = text.slice(0, at);
      text = text.slice(at + 1);
      if (++lines === 1) socket.write("standin\n");
      if (lines === 9) needed = 9 + Number(line);
      if (lines === needed) socket.end(reply);
    }
  });
});
server.listen(0, "127.0.0.1", () => fs.writeFileSync(`${process.env.STANDIN_DIR}/address`, `${server.address().port} standin standin ${process.pid} ${process.env.STANDIN_CLI}\n`));
' &
standin_pid=$!
for _ in {1..100}; do [[ -s $tmp/standin/address ]] && break; sleep 0.05; done
# (a stand-in that no longer reads the client's request as the helper does would leave it waiting)
RECOVERY_POINTS_HELPER_DIR=$tmp/standin timeout 10 "$tool" show latest --workspace "$ws" --store "$store" | cmp -s - "$tmp/answer" ||
  { echo "the stand-in helper did not answer as the helper" >&2; exit 1; }

declare -A label=(
  [bash]='bash -c true'
  [envbash]='/usr/bin/env bash -c true'
  [list]='dist/recovery-points list'
  [bashlist]='bash dist/recovery-points list'
  [log]='git log --oneline'
  [show]='dist/recovery-points show latest'
  [standin]='dist/recovery-points show latest, a stand-in helper answering at once'
  [difftree]='git diff-tree --name-status -r HEAD'
  [snapshot]='dist/recovery-points snapshot --changed FILE'
  [commit]='git commit -qam (one file edited)'
)
order=(bash envbash list bashlist log show standin difftree snapshot commit)
declare -A samples
n=0
one() {
  case $1 in
    bash) bash -c true ;;
    envbash) /usr/bin/env bash -c true ;;
    list) "$tool" list --workspace "$ws" --store "$store" >/dev/null ;;
    bashlist) bash "$tool" list --workspace "$ws" --store "$store" >/dev/null ;;
    log) git -C "$ws" log --oneline >/dev/null ;;
    show) "$tool" show latest --workspace "$ws" --store "$store" >/dev/null ;;
    standin) RECOVERY_POINTS_HELPER_DIR=$tmp/standin "$tool" show latest --workspace "$ws" --store "$store" >/dev/null ;;
    difftree) git -C "$ws" diff-tree --name-status -r HEAD >/dev/null ;;
    snapshot) "$tool" snapshot --workspace "$ws" --store "$store" --changed "$ws/d1/f1.ts" >/dev/null ;;
    commit) git -C "$ws" -c user.email=b@e -c user.name=bench commit -qam "r$n" >/dev/null ;;
  esac
}
for ((r = 0; r < runs; r++)); do
  for key in "${order[@]}"; do
    [[ $key == snapshot || $key == commit ]] && printf '// run %d\n' "$((n++))" >>"$ws/d1/f1.ts"
    start=$EPOCHREALTIME
    one "$key"
    end=$EPOCHREALTIME
    samples[$key]+="$(((${end/./} - ${start/./})))"$'\n'
  done
done
printf '| Whole process, started by bash (%d files, %d runs) | Median | Min |\n| --- | ---: | ---: |\n' "$files" "$runs"
for key in "${order[@]}"; do
  sorted=$(sort -n <<<"${samples[$key]%$'\n'}")
  median=$(sed -n "$(((runs + 1) / 2))p" <<<"$sorted")
  min=$(head -1 <<<"$sorted")
  printf '| `%s` | %d.%02d ms | %d.%02d ms |\n' "${label[$key]}" $((median / 1000)) $((median % 1000 / 10)) $((min / 1000)) $((min % 1000 / 10))
done
