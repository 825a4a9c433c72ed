#!/usr/bin/env bash
# The heartbeat of the workbook: how long from saving an exercise file to the
# verdict of `./workbook check`. Saves lesson 02's exercise file with a trivial
# change (a fresh comment line, written to a temporary file and renamed over
# the old one, as editors do), runs the check, and reports the median.
#
#   tools/bench/check-latency.sh [--runs N] [--content solution|stub|current] [--lesson NN]
#
# Measures twice: through the launcher (./workbook check NN: bash, the layout
# check, ninja's no-op for the CLI) and directly (build/tools/workbook/workbook
# check NN). --content solution (the default) measures a finished file, which
# includes what a learner's real file includes; stub measures the pristine stub.
#
# The exercise file and .workbook/progress.json are put back as they were on
# exit, but this works in the repository's build/ folder: run it in a clone
# of your own if other people share this checkout.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
runs=11
content=solution
lesson=02
while [[ $# -gt 0 ]]; do
    case "$1" in
        --runs) runs="$2"; shift 2 ;;
        --content) content="$2"; shift 2 ;;
        --lesson) lesson="$2"; shift 2 ;;
        -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

cd "$ROOT"
name="$(basename "$(ls -d exercises/"$lesson"-*/ | head -1)")"
exercise_dir="exercises/$name"
file="$(ls "$exercise_dir"/*.cpp | head -1)"
solution="solutions/$name/$(basename "$file")"
progress=".workbook/progress.json"
case "$content" in
    solution) base="$(cat "$solution")"; expect="passed" ;;
    stub) base="$(git show "HEAD:$file")"; expect="not started" ;;
    current) base="$(cat "$file")"; expect="" ;;
    *) echo "--content must be solution, stub or current" >&2; exit 2 ;;
esac

keep="$(mktemp -d)"
cp -p "$file" "$keep/exercise"
[[ -f "$progress" ]] && cp -p "$progress" "$keep/progress"
restore() {
    # A fresh mtime, not the saved one (no -p): the build now holds a binary made
    # from the probe's content, and only a newer file makes ninja rebuild it.
    cp "$keep/exercise" "$file"
    if [[ -f "$keep/progress" ]]; then cp -p "$keep/progress" "$progress"; else rm -f "$progress"; fi
    rm -rf "$keep"
}
trap restore EXIT

save() {  # save N: the file as an editor writes it
    printf '%s\n// latency probe %s\n' "$base" "$1" >"$exercise_dir/.latency-probe.tmp"
    mv "$exercise_dir/.latency-probe.tmp" "$file"
}

now_ms() { date +%s%3N; }

measure() {  # measure LABEL COMMAND...: prints each run and the median
    local label="$1"; shift
    local times=() i started output
    save warm-up
    "$@" check "$lesson" >/dev/null 2>&1 || true  # builds whatever is stale first
    for ((i = 1; i <= runs; i++)); do
        save "$label $i"
        started=$(now_ms)
        output="$("$@" check "$lesson" 2>&1)" || true
        times+=($(( $(now_ms) - started )))
        if [[ -n "$expect" && "$output" != *"$expect"* ]]; then
            echo "run $i did not end in \"$expect\":" >&2
            echo "$output" >&2
            exit 1
        fi
    done
    local sorted
    sorted="$(printf '%s\n' "${times[@]}" | sort -n | tr '\n' ' ')"
    local median
    median="$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}')"
    printf '%-34s median %5d ms   (runs, sorted: %s)\n' "$label" "$median" "$sorted"
}

echo "save -> verdict for $file ($content content), $runs runs each, on $(nproc) cores"
measure "through ./workbook" ./workbook
measure "direct (build/tools/workbook/...)" build/tools/workbook/workbook
