#!/bin/sh
# Container entrypoint for qa.
#
#   (no arguments), or options   build the index if there is none, then
#                                `qa serve --host $QA_HOST --port $QA_PORT [options]`
#   serve [options]              the same
#   any other qa command         `qa COMMAND ...` as it is (index, add, rm, docs, ask, cite, ...)
#
# The index is built only when $QA_INDEX_DIR has no CURRENT file (no index yet): from the
# files in $QA_DOCS_DIR when it holds any, else from the seed article bundled in the
# image ($QA_SEEDS_DIR). An index that exists is left alone: add documents with
# `qa add` or POST /v1/documents, or remove the index to rebuild it from $QA_DOCS_DIR.
# With $QA_STORE set (an index in Milvus) the store is asked instead (`qa docs`), and a
# build goes there.
set -eu

QA_INDEX_DIR="${QA_INDEX_DIR:-/data/index}"
QA_DOCS_DIR="${QA_DOCS_DIR:-/data/docs}"
QA_SEEDS_DIR="${QA_SEEDS_DIR:-/app/seeds}"
export QA_INDEX_DIR

say() {
    printf 'entrypoint: %s\n' "$*" >&2
}

has_files() {
    # Whether folder $1 holds at least one regular file that is not hidden.
    [ -d "$1" ] && [ -n "$(find "$1" -type f ! -name '.*' 2>/dev/null | head -n 1)" ]
}

has_index() {
    if [ -n "${QA_STORE:-}" ]; then
        qa docs --json >/dev/null 2>&1
    else
        [ -f "$QA_INDEX_DIR/CURRENT" ]
    fi
}

ensure_index() {
    where="${QA_STORE:-$QA_INDEX_DIR}"
    if has_index; then
        say "using the index at $where"
        return 0
    fi
    if has_files "$QA_DOCS_DIR"; then
        src="$QA_DOCS_DIR"
        say "no index at $where; building it from $src"
    elif has_files "$QA_SEEDS_DIR"; then
        src="$QA_SEEDS_DIR"
        say "no index at $where and no files in $QA_DOCS_DIR; building it from the bundled seed article ($src)"
    else
        say "no index at $where and no files in $QA_DOCS_DIR or $QA_SEEDS_DIR to build one from"
        exit 1
    fi
    if [ -n "${QA_STORE:-}" ]; then
        set -- index "$src" --store "$QA_STORE"
    else
        set -- index "$src" --index "$QA_INDEX_DIR"
    fi
    if ! qa "$@"; then
        say "building the index from $src failed (see above); not serving"
        exit 1
    fi
}

serve() {
    ensure_index
    say "serving on ${QA_HOST:-0.0.0.0}:${QA_PORT:-8000}"
    exec qa serve --host "${QA_HOST:-0.0.0.0}" --port "${QA_PORT:-8000}" "$@"
}

if [ "$#" -eq 0 ]; then
    serve
fi
case "$1" in
    serve)
        shift
        serve "$@"
        ;;
    -*)
        serve "$@"
        ;;
    *)
        exec qa "$@"
        ;;
esac
