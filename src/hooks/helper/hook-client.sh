#!/usr/bin/env bash
# Recovery Points' client of its resident helper ("recovery-points hook-helper"), on Linux and macOS:
#   bash hook-client.sh NODE CLI hook --agent AGENT [options]   an agent's hook, as "hooks install" writes it
#   recovery-points COMMAND [options]                            the tool (dist/recovery-points sources this)
# Hands the hook's payload, or the command, to the helper over a loopback connection and prints its
# answer: a bash start instead of a Node start and a store opened cold. Without a helper of this
# install (or with RECOVERY_POINTS_HELPER=off), when one does not answer with its secret, or for a
# command the helper does not run, Node runs it as before; started so, it starts a helper for the
# hooks and commands after it. A hook never fails the agent's action: it exits 0.
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

# a payload bash has read the start of: Node reads it and the rest, much faster than bash would
node_hook_with_rest() {
  exec 3>&-
  exec "$node" "$cli" "${args[@]}" < <(printf '%s' "$payload" && exec cat)
}

start_helper_with_node_hook() {
  [[ $RECOVERY_POINTS_HELPER == off ]] || export RECOVERY_POINTS_HELPER=start
  node_hook
}

# the commands the helper runs (SERVED_COMMANDS in hookHelper.ts)
case ${args[0]} in
  hook) kind=hook ;;
  snapshot | list | show | diff | log | stats) kind=cli ;;
  *) node_hook ;;
esac
[[ $RECOVERY_POINTS_HELPER == off ]] && node_hook
file=${RECOVERY_POINTS_HELPER_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/recovery-points/hook-helper}/address
# the helper's address is trusted only in a file of this user's
[[ -O $file ]] || start_helper_with_node_hook
IFS=" " read -r port client_secret helper_secret _pid helper_cli 2>/dev/null <"$file" || start_helper_with_node_hook
[[ $helper_cli == "$cli" && $port =~ ^[0-9]+$ ]] || start_helper_with_node_hook
{ exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || start_helper_with_node_hook

# bash 4.1 and later read a count of bytes at once (read -N), where a line from a socket is read a byte
# at a time (with a select before each when there is a timeout); older ones (macOS's 3.2) read up to a
# NUL, which the helper never sends. Bytes, not characters: the C locale.
if ((BASH_VERSINFO[0] > 4 || (BASH_VERSINFO[0] == 4 && BASH_VERSINFO[1] >= 1))); then
  counted=(-N)
else
  counted=(-d '' -n)
fi
# read_bytes COUNT [-t SECONDS]: that many bytes of the helper's answer into $chunk
read_bytes() {
  local LC_ALL=C
  IFS= read -r "${counted[@]}" "$@" chunk <&3
}
# all of standard input, at once. One of 1 MiB or more (Claude Code's PostToolUse of an edit carries
# the whole file) goes to Node: bash takes ~60 ns a byte to read, copy and send it, over a second for
# 20 MB, where Node takes a fraction of that. So does one whose end has not come within the hook's
# budget (an agent that never closes the hook's standard input, or is slow to write it): Node reads
# the rest within its own budget, and says so when it gives up.
read_payload() {
  local LC_ALL=C
  if [[ $counted == -N ]]; then
    IFS= read -r -N 1048576 -t "$budget_seconds" payload
    (($? <= 128 && ${#payload} < 1048576)) || node_hook_with_rest
  else
    payload=$(cat_within_budget)
    (($? == 0)) || node_hook_with_rest
  fi
}
# bash before 4.1 (macOS's 3.2): not $(cat), which waits for an end that an agent that never closes
# the hook's standard input never gives, nor read -t, which takes whole seconds there and drops what it
# read when its time runs out. cat passes each piece on as it comes; a timer stops it at the end of the
# hook's budget (exit status not 0 then) and the rest stays for Node. The timer, and its sleep, end
# with it; neither holds the output, the agent's pipes or the helper's socket.
cat_within_budget() {
  local cat_pid timer status
  cat <&0 3>&- &
  cat_pid=$!
  {
    trap '[[ $! == "$cat_pid" ]] || kill $! 2>/dev/null; exit 0' TERM
    sleep "$budget_seconds" &
    wait $!
    kill "$cat_pid"
  } </dev/null >/dev/null 2>&1 3>&- &
  timer=$!
  wait "$cat_pid"
  status=$?
  kill "$timer" 2>/dev/null
  return "$status"
}
build_hook_request() {
  local LC_ALL=C arg
  printf -v request 'hook\n%s\n%s\n%s\n' "$PWD" "${RECOVERY_POINTS_HOOK_BUDGET_MS-}" "${#args[@]}"
  for arg in "${args[@]}"; do request+=$arg$'\n'; done
  request+=${#payload}$'\n'$payload
}
# the folder, whether standard error is a terminal, what the helper compares with its own environment
# (SERVED_ENV in hookHelper.ts), the arguments; one with a line break in it goes to Node
build_command_request() {
  local arg name
  request=cli$'\n'$PWD$'\n'
  if [[ -t 2 ]]; then request+=1$'\n'; else request+=0$'\n'; fi
  for name in HOME XDG_CONFIG_HOME XDG_DATA_HOME RECOVERY_POINTS_USER_DATA_DIRS; do
    if [[ -n ${!name+set} ]]; then request+=1${!name}$'\n'; else request+=0$'\n'; fi
  done
  request+=${#args[@]}$'\n'
  for arg in "${args[@]}"; do request+=$arg$'\n'; done
  [[ $PWD$HOME$XDG_CONFIG_HOME$XDG_DATA_HOME$RECOVERY_POINTS_USER_DATA_DIRS${args[*]} != *$'\n'* ]]
}

if [[ $kind == hook ]]; then
  # the helper answers within the hook's budget and its grace
  budget=${RECOVERY_POINTS_HOOK_BUDGET_MS:-2000}
  for ((i = 0; i < ${#args[@]}; i++)); do
    [[ ${args[i]} == --budget ]] && budget=${args[i + 1]}
    [[ ${args[i]} == --budget=* ]] && budget=${args[i]#--budget=}
  done
  [[ $budget =~ ^[0-9]+$ ]] && ((budget > 0)) || budget=2000
  printf -v budget_seconds '%d.%03d' "$((budget / 1000))" "$((budget % 1000))"
fi

# the helper proves itself before it is given anything; the request is made while it answers
printf '%s\n' "$client_secret" >&3 2>/dev/null || start_helper_with_node_hook
if [[ $kind == hook ]]; then
  # not $(</dev/stdin): an agent started by Node gives its hook a socket, which cannot be opened by name
  read_payload
  build_hook_request
else
  build_command_request || node_hook
fi
read_bytes "$((${#helper_secret} + 1))" -t 5 || start_helper_with_node_hook
[[ $chunk == "$helper_secret"$'\n' ]] || start_helper_with_node_hook

# one %s: bash's printf writes it at once up to 4 KiB, in pieces past it (each of which the helper
# acknowledges at once with an empty line, which the loop below skips). A helper that hangs up before
# the whole request is in (it is ending, the payload is over its limit) makes the write fail instead
# of ending this script: Node then runs it.
trap '' PIPE
printf '%s' "$request" >&3 2>/dev/null || node_hook
trap - PIPE
if [[ $kind == hook ]]; then
  # a helper that hangs is not waited for long
  wait=$((budget / 1000 + 5))
else
  # a command (a first point of a large workspace) takes as long as it takes
  wait=86400
fi
# the answer: `o COUNT` or `e COUNT` and that many bytes for standard output or error, then the exit
# code; the helper writes all of it at once, so only its first line is waited for
# (a connection reset is no message of bash's for the agent to read)
answered=
while :; do
  IFS= read -r -t "$wait" line <&3 2>/dev/null
  got=$?
  ((got == 0)) || break
  case $line in
    "o "*)
      answered=1
      read_bytes "${line:2}" 2>/dev/null || break
      printf '%s' "$chunk"
      ;;
    "e "*)
      answered=1
      read_bytes "${line:2}" 2>/dev/null || break
      printf '%s' "$chunk" >&2
      ;;
    "x "*) exit "${line:2}" ;;
    "d "*)
      cat <&3
      exit "${line:2}"
      ;;
    f) node_hook ;;
  esac
done
# a helper that hung up before it answered (ending, or the request over its limit) made no point: Node makes it
[[ $kind == hook && -z $answered ]] && ((got > 0 && got <= 128)) && node_hook
if [[ $kind == hook ]]; then
  printf 'recovery-points hook: the hook helper did not answer in %s s; no point may have been made, the agent goes on.\n' "$wait" >&2
  exit 0
fi
printf 'recovery-points: the helper (hook-helper) stopped before it answered; the command may or may not have run. Run it again (RECOVERY_POINTS_HELPER=off runs it without the helper).\n' >&2
exit 1
