#!/usr/bin/env bash
# Recovery Points: an agent's hook, as "recovery-points hooks install" writes it on Linux and macOS:
#   bash hook-client.sh NODE CLI hook --agent AGENT [options]
# Hands the payload (standard input) to the resident helper ("recovery-points hook-helper") over a
# loopback connection and prints its answer: a bash start instead of a Node start and a store opened
# cold. Without a helper of this install (or with RECOVERY_POINTS_HELPER=off), or when one does not
# answer with its secret, Node runs the hook as before; started so, it starts a helper for the hooks
# after it. Like the hook itself, this never fails the agent's action: it exits 0.
node=$1
cli=$2
shift 2
args=("$@")

node_hook() {
  exec 3>&-
  if [[ -n ${payload+set} ]]; then
    exec "$node" "$cli" "${args[@]}" <<<"$payload"
  fi
  exec "$node" "$cli" "${args[@]}"
}

start_helper_with_node_hook() {
  [[ $RECOVERY_POINTS_HELPER == off ]] || export RECOVERY_POINTS_HELPER=start
  node_hook
}

[[ $RECOVERY_POINTS_HELPER == off || ${args[0]} != hook ]] && node_hook
file=${RECOVERY_POINTS_HELPER_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/recovery-points/hook-helper}/address
# the helper's address is trusted only in a file of this user's
[[ -O $file ]] || start_helper_with_node_hook
IFS=" " read -r port client_secret helper_secret _pid helper_cli 2>/dev/null <"$file" || start_helper_with_node_hook
[[ $helper_cli == "$cli" && $port =~ ^[0-9]+$ ]] || start_helper_with_node_hook
{ exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || start_helper_with_node_hook

# the helper proves itself before it is given anything
printf '%s\n' "$client_secret" >&3 2>/dev/null || start_helper_with_node_hook
IFS= read -r -t 5 reply <&3 || start_helper_with_node_hook
[[ $reply == "$helper_secret" ]] || start_helper_with_node_hook

# cat, not $(</dev/stdin): an agent started by Node gives its hook a socket, which cannot be opened by name
payload=$(cat)
# written by cat, in one piece: bash's printf writes line by line, and each piece after the first
# would wait for the helper's delayed acknowledgement (~40 ms)
build_request() {
  local LC_ALL=C arg
  printf -v request 'hook\n%s\n%s\n%s\n' "$PWD" "${RECOVERY_POINTS_HOOK_BUDGET_MS-}" "${#args[@]}"
  for arg in "${args[@]}"; do request+=$arg$'\n'; done
  request+=${#payload}$'\n'$payload
}
build_request
cat <<<"$request" >&3 2>/dev/null || node_hook

# the helper answers within the hook's budget and its grace; a helper that hangs is not waited for long
budget=${RECOVERY_POINTS_HOOK_BUDGET_MS:-2000}
for ((i = 0; i < ${#args[@]}; i++)); do
  [[ ${args[i]} == --budget ]] && budget=${args[i + 1]}
done
[[ $budget =~ ^[0-9]+$ ]] || budget=2000
wait=$((budget / 1000 + 5))
while IFS= read -r -t "$wait" line <&3; do
  case $line in
    "o "*) printf '%s\n' "${line:2}" ;;
    "e "*) printf '%s\n' "${line:2}" >&2 ;;
    "x "*) exit 0 ;;
    f) node_hook ;;
  esac
done
printf 'recovery-points hook: the hook helper did not answer in %s s; no point may have been made, the agent goes on.\n' "$wait" >&2
exit 0
