#!/bin/sh
# Build and run the libFuzzer targets: every tests/fuzz/fuzz_<name>.c that has
# a seed corpus in tests/fuzz/corpus/<name>/.
#
#   tools/fuzz.sh [name...]      default: every target; e.g. tools/fuzz.sh multipart
#   FUZZ_SECONDS=60              run time per target (0: build only)
#   FUZZ_ARGS="-jobs=4"          extra libFuzzer options
#   CLANG=clang                  compiler
#
# lib/ is compiled once with coverage instrumentation into an archive, so a
# target links only the objects it uses. Each run starts from a scratch copy
# of its corpus (new inputs go there, the committed corpus does not grow);
# crash, leak and timeout inputs are kept in build/fuzz/artifacts/<name>/.
# Exit status: non-zero if a target fails to build or finds anything.
set -eu

cd "$(dirname "$0")/.."
CLANG=${CLANG:-clang}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_ARGS=${FUZZ_ARGS:-}
OUT=build/fuzz

command -v "$CLANG" >/dev/null 2>&1 || {
    echo "fuzz: $CLANG not found (apt-get install clang)" >&2
    exit 2
}

CFLAGS="-std=c99 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
 -fno-sanitize-recover=undefined -Ilib \
 $(apr-1-config --cflags --cppflags --includes) $(apu-1-config --includes) \
 $(pkg-config --cflags jansson libutf8proc)"
LIBS="$(apr-1-config --link-ld --libs) $(apu-1-config --link-ld --libs) \
 $(pkg-config --libs jansson libutf8proc) -lldap -llber -lcrypto"

# lib/sd_schema.c is generated from sql/.
[ -f lib/sd_schema.c ] || make -s lib/sd_schema.c

mkdir -p "$OUT/obj"
objs=""
for src in lib/sd*.c; do
    obj="$OUT/obj/$(basename "$src" .c).o"
    if [ ! -f "$obj" ] || [ -n "$(find "$src" lib -name '*.h' -newer "$obj" -o -path "$src" -newer "$obj")" ]; then
        # A lib file someone is editing may not compile right now; targets
        # that do not need it still link (the archive supplies what is used).
        # shellcheck disable=SC2086
        if ! "$CLANG" $CFLAGS -fsanitize=fuzzer-no-link,address,undefined -c "$src" -o "$obj"; then
            echo "fuzz: warning: $src does not compile; left out" >&2
            rm -f "$obj"
            continue
        fi
    fi
    objs="$objs $obj"
done
rm -f "$OUT/libsdesk-fuzz.a"
# shellcheck disable=SC2086
ar rcs "$OUT/libsdesk-fuzz.a" $objs

if [ $# -gt 0 ]; then
    names="$*"
else
    names=""
    for src in tests/fuzz/fuzz_*.c; do
        [ -e "$src" ] || continue
        name=$(basename "$src" .c)
        name=${name#fuzz_}
        if [ -d "tests/fuzz/corpus/$name" ]; then
            names="$names $name"
        else
            echo "fuzz: skipping $src: no tests/fuzz/corpus/$name/" >&2
        fi
    done
fi
[ -n "$names" ] || { echo "fuzz: no targets" >&2; exit 2; }

scratch=$(mktemp -d "${TMPDIR:-/tmp}/sdesk-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT INT TERM

failed=""
for name in $names; do
    src="tests/fuzz/fuzz_$name.c"
    bin="$OUT/fuzz_$name"
    echo "fuzz: building $bin"
    # shellcheck disable=SC2086
    "$CLANG" $CFLAGS -fsanitize=fuzzer,address,undefined "$src" -o "$bin" \
        "$OUT/libsdesk-fuzz.a" $LIBS
    [ "$FUZZ_SECONDS" -gt 0 ] || continue

    rm -rf "$OUT/artifacts/$name"
    mkdir -p "$scratch/$name" "$OUT/artifacts/$name"
    cp -R "tests/fuzz/corpus/$name/." "$scratch/$name/"
    dict=""
    [ -f "tests/fuzz/$name.dict" ] && dict="-dict=tests/fuzz/$name.dict"
    echo "fuzz: running $name for ${FUZZ_SECONDS}s"
    # shellcheck disable=SC2086
    if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
        "$bin" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
            -print_final_stats=1 -artifact_prefix="$OUT/artifacts/$name/" \
            $dict $FUZZ_ARGS "$scratch/$name" > "$OUT/$name.log" 2>&1; then
        tail -n 12 "$OUT/$name.log" | grep -E '^(stat::|Done|#)' | tail -n 4 || true
        echo "fuzz: $name: ok ($(find "$scratch/$name" -type f | wc -l) inputs in the scratch corpus)"
    else
        tail -n 40 "$OUT/$name.log"
        echo "fuzz: $name: FAILED, see $OUT/$name.log and $OUT/artifacts/$name/" >&2
        failed="$failed $name"
    fi
done

[ -z "$failed" ] || { echo "fuzz: failures:$failed" >&2; exit 1; }
echo "fuzz: all targets passed"
