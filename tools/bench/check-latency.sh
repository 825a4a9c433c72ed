#!/usr/bin/env bash
# The heartbeat of the workbook: the median time from saving an exercise file
# to the verdict, per lesson, for ./workbook check and for ./workbook watch,
# beside the time the lesson's tests alone take.
#
#   tools/bench/check-latency.sh [--runs N] [--lesson NN]... [--no-watch] [--launcher]
#
# It saves the solution into each exercise (rename-over, as editors do) and
# puts the exercise files and .workbook/progress.json back on exit, but it
# works in the repository's build/ folder: run it in a clone of your own if
# other people share this checkout. tools/bench/check_latency.py does the work.
set -euo pipefail
exec python3 "$(dirname "${BASH_SOURCE[0]}")/check_latency.py" "$@"
