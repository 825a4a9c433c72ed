#!/usr/bin/env python3
"""A short, bounded libFuzzer run of tests/fuzz's target over the checked-in
corpus (suite fuzz; ./workbook test). New inputs go to a temporary folder,
never into the corpus. Skipped (exit 77) when the target was not built
because clang++ with libFuzzer is missing.

    fuzz_smoke.py FUZZER|"" CORPUS DICT SECONDS

A longer run, by hand (new inputs kept in .workbook/fuzz/):
    mkdir -p .workbook/fuzz
    build/tests/fuzz/http-request-fuzzer -dict=tests/fuzz/http.dict -max_total_time=600 \\
        .workbook/fuzz tests/fuzz/corpus/http_request"""
import os
import subprocess
import sys
import tempfile


def main():
    fuzzer, corpus, dictionary, seconds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    if not fuzzer:
        print("SKIP: the fuzz target was not built: clang++ with libFuzzer was not found when meson configured "
              "(sudo apt-get install clang, then meson setup --reconfigure; ./workbook test installs it)")
        return 77
    with tempfile.TemporaryDirectory(prefix="workbook-fuzz-") as fresh:
        command = [fuzzer, f"-dict={dictionary}", f"-max_total_time={seconds}", "-timeout=10", "-rss_limit_mb=2048",
                   "-print_final_stats=1", fresh, corpus]
        print("$", " ".join(command), flush=True)
        result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                timeout=seconds + 60)
        print(result.stdout[-6000:])
        if result.returncode != 0:
            print(f"FAIL: the fuzzer found a crash or a broken property (exit status {result.returncode}); "
                  "the input that did it is named above (crash-..., leak-...): run the fuzzer on that file to see it")
            return 1
    print(f"ok: {seconds} s of fuzzing over {len(os.listdir(corpus))} corpus files, no crash")
    return 0


if __name__ == "__main__":
    sys.exit(main())
