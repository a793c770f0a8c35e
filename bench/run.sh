#!/usr/bin/env bash
# Whole-process benchmark of `automlops compile` against kfp 2.17.3's Python compiler.
#
#   AUTOMLOPS=target/release/automlops bash bench/run.sh
#
# For every notebook shape and syntax (bench/gen_notebook.py) and N components it measures:
#   - the wall time of `automlops compile NOTEBOOK -o DIR` as a whole process (hyperfine -N,
#     into a fresh directory each run: --prepare deletes it and runs `sync`, so that no run
#     pays for the write-back or the deletion of the one before),
#   - its peak RSS and exit status (one run under /usr/bin/time -v),
#   - the size of the output (du -sb, the bytes of its files, the number of files),
#   - the floor: `cp -r` of that output tree into a fresh directory (hyperfine -N, --prepare
#     deletes the copy and runs `sync`), i.e. the cost of writing the same bytes and files,
#   - kfp's Python compile of the same pipeline: the compiler writes pipelines/pipeline.py,
#     timed as `python -m pipelines.pipeline --output FILE` from the output directory, with
#     its peak RSS; and, in the same hyperfine call, `python -c "import kfp.compiler"`
#     (Python's start-up and kfp's import), which the table subtracts in a second column.
# plus the examples/training_custom and examples/training_kfp notebooks (3 components each).
#
# Raw results (hyperfine --export-json, /usr/bin/time -v output, the case metadata) go to
# $RESULTS (default bench/results/<timestamp>/, gitignored); the markdown tables are printed
# and written to $RESULTS/tables.md by bench/summarize.py.
#
# Environment:
#   AUTOMLOPS    the binary (default target/release/automlops)
#   NS           the sizes (default "10 100 1000 10000")
#   COMBOS       syntax:shape pairs (default "custom:chain kfp:chain kfp:fanout kfp:layered";
#                the custom syntax only has chains, see gen_notebook.py --help)
#   BENCH_DIR    scratch directory for notebooks and output trees (default
#                /tmp/automlops-bench; put it on tmpfs, e.g. /dev/shm/automlops-bench,
#                to take the disk out of the measurement)
#   RESULTS      where results go (default bench/results/<timestamp>)
#   KFP          0 to skip kfp entirely (default 1)
#   KFP_MAX_N    largest N for which kfp runs in every combo (default 1000)
#   KFP_FULL     combos in which kfp also runs above KFP_MAX_N (default "kfp:chain"; empty
#                for none)
#   KFP_TIMEOUT  seconds after which one kfp compile is stopped and reported as "> T s"
#                (default 60; kfp takes about 6 minutes for 10,000 components here)
#   ORACLES_HOME where the kfp venv lives (default ~/.cache/automlops-oracles; the venv is
#                $ORACLES_HOME/kfp-venv, created with kfp==2.17.3 if missing)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$PWD

automlops=${AUTOMLOPS:-target/release/automlops}
[[ $automlops == /* ]] || automlops=$repo/$automlops
[[ -x $automlops ]] || { echo "error: $automlops is not an executable (set AUTOMLOPS or run cargo build --release)" >&2; exit 2; }
ns=${NS:-"10 100 1000 10000"}
combos=${COMBOS:-"custom:chain kfp:chain kfp:fanout kfp:layered"}
bench_dir=${BENCH_DIR:-/tmp/automlops-bench}
results=${RESULTS:-bench/results/$(date -u +%Y%m%d-%H%M%S)}
[[ $results == /* ]] || results=$repo/$results
run_kfp=${KFP:-1}
kfp_max_n=${KFP_MAX_N:-1000}
kfp_full=${KFP_FULL-"kfp:chain"}
kfp_timeout=${KFP_TIMEOUT:-60}
oracles_home=${ORACLES_HOME:-$HOME/.cache/automlops-oracles}
venv=$oracles_home/kfp-venv
kfp_version=2.17.3
export PYTHONDONTWRITEBYTECODE=1  # keep __pycache__ out of the output trees

log() { printf '==> %s\n' "$*" >&2; }

# --- tools -------------------------------------------------------------------------------------
missing=()
command -v hyperfine >/dev/null || missing+=(hyperfine)
[[ -x /usr/bin/time ]] || missing+=(time)
if ((${#missing[@]})); then
  log "installing ${missing[*]}"
  apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
fi

has_kfp() {
  [[ -x $venv/bin/python ]] && "$venv/bin/python" -c '
import sys
from importlib.metadata import version
sys.exit(version("kfp") != sys.argv[1])' "$kfp_version" 2>/dev/null
}
if [[ $run_kfp == 1 ]] && ! has_kfp; then
  log "installing kfp==$kfp_version into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "kfp==$kfp_version"
  has_kfp || { echo "error: $venv still lacks kfp==$kfp_version" >&2; exit 2; }
fi
py=$venv/bin/python

mkdir -p "$results" "$bench_dir/nb" "$bench_dir/out"
log "results in $results, scratch in $bench_dir"

# --- the machine -------------------------------------------------------------------------------
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "cpu: $(lscpu | sed -n 's/^Model name: *//p' | head -1)"
  echo "cores: $(nproc)"
  echo "memory: $(free -g | awk '/^Mem:/ {print $2 " GiB"}')"
  # shellcheck source=/dev/null
  echo "os: $(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r)"
  echo "filesystem of $bench_dir: $(df -T "$bench_dir" | awk 'NR==2 {print $2}')"
  echo "automlops: $automlops ($(stat -c %s "$automlops") bytes)"
  echo "hyperfine: $(hyperfine --version)"
  [[ $run_kfp == 1 ]] && echo "kfp: $("$py" -c 'import kfp; print(kfp.__version__)'), $("$py" --version)"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$results/machine.txt"
cat "$results/machine.txt" >&2

# hyperfine with the runs for size N: many for fast cases, fewer for slow ones. On a shared
# machine a few runs give medians that move with its load, so even N = 10,000 gets five.
runs_for() {
  case $1 in
    10 | 3) echo "--warmup 5 --min-runs 40" ;;
    100) echo "--warmup 3 --min-runs 30" ;;
    1000) echo "--warmup 2 --runs 20" ;;
    *) echo "--warmup 1 --runs 5" ;;
  esac
}
kfp_runs_for() {
  case $1 in
    10 | 3) echo "--warmup 1 --runs 10" ;;
    100) echo "--warmup 1 --runs 3" ;;
    1000) echo "--runs 2" ;;
    *) echo "--runs 1" ;;
  esac
}
hf() { hyperfine -N --style basic "$@" >&2; }

# One case: compile NOTEBOOK as ID, with N components (for the run counts).
bench_case() {
  local id=$1 notebook=$2 n=$3 syntax=$4 shape=$5 with_kfp=$6
  local out=$bench_dir/out/$id scratch=$bench_dir/scratch-$id
  log "$id: compile once under /usr/bin/time -v"
  rm -rf "$out" "$scratch"
  local rc=0
  /usr/bin/time -v -o "$results/$id.time-v.txt" "$automlops" compile "$notebook" -o "$out" \
    >"$results/$id.stdout.txt" 2>"$results/$id.stderr.txt" || rc=$?
  local rss files du_bytes file_bytes warnings
  rss=$(sed -n 's/^\s*Maximum resident set size (kbytes): //p' "$results/$id.time-v.txt")
  warnings=$(grep -c '^warning' "$results/$id.stderr.txt" || true)
  if [[ $rc != 0 ]]; then
    log "$id: automlops exited $rc; see $results/$id.stderr.txt"
    sed -n '1,40p' "$results/$id.stderr.txt" >&2
    printf '{"id":"%s","syntax":"%s","shape":"%s","n":%s,"notebook_bytes":%s,"exit":%s,"rss_kb":%s,"warnings":%s}\n' \
      "$id" "$syntax" "$shape" "$n" "$(stat -c %s "$notebook")" "$rc" "${rss:-0}" "$warnings" >"$results/$id.case.json"
    return 0
  fi
  files=$(find "$out" -type f | wc -l)
  du_bytes=$(du -sb "$out" | cut -f1)
  file_bytes=$(find "$out" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
  printf '{"id":"%s","syntax":"%s","shape":"%s","n":%s,"notebook_bytes":%s,"exit":0,"rss_kb":%s,"warnings":%s,"files":%s,"du_bytes":%s,"file_bytes":%s}\n' \
    "$id" "$syntax" "$shape" "$n" "$(stat -c %s "$notebook")" "$rss" "$warnings" "$files" "$du_bytes" "$file_bytes" \
    >"$results/$id.case.json"

  log "$id: automlops compile ($files files, $file_bytes bytes)"
  # shellcheck disable=SC2046
  hf $(runs_for "$n") --prepare "sh -c 'rm -rf $scratch && sync'" --export-json "$results/$id.compile.json" \
    -n "automlops $id" "$automlops compile $notebook -o $scratch"
  log "$id: cp -r floor"
  # shellcheck disable=SC2046
  hf $(runs_for "$n") --prepare "sh -c 'rm -rf $scratch && sync'" --export-json "$results/$id.cp.json" \
    -n "cp -r $id" "cp -r $out $scratch"
  rm -rf "$scratch"

  if [[ $with_kfp == 1 ]]; then
    log "$id: kfp compile of pipelines/pipeline.py (timeout ${kfp_timeout}s)"
    # The first command is the baseline (Python's start-up and kfp's import), measured next
    # to the compile so that both see the same load. -i: a run stopped by timeout (exit 124)
    # is recorded, not fatal. /usr/bin/time writes the peak RSS of the last run; its own
    # cost is a millisecond against kfp's second.
    # shellcheck disable=SC2046
    (cd "$out" && hf $(kfp_runs_for "$n") -i --export-json "$results/$id.kfp.json" \
      -n "import kfp $id" "$py -c 'import kfp.compiler'" \
      -n "kfp $id" "/usr/bin/time -f %M -o $results/$id.kfp-rss.txt timeout $kfp_timeout $py -m pipelines.pipeline --output $bench_dir/kfp-$id.json")
    rm -f "$bench_dir/kfp-$id.json"
  fi
}

started=$SECONDS

# --- the examples with 3 components ------------------------------------------------------------
for example in training_custom/training training_kfp/training; do
  name=${example%%/*}
  bench_case "example-$name" "$repo/examples/$example.ipynb" 3 "${name#training_}" example "$run_kfp"
done

# --- the generated notebooks -------------------------------------------------------------------
for n in $ns; do
  for combo in $combos; do
    syntax=${combo%%:*} shape=${combo#*:}
    id=$syntax-$shape-$n
    notebook=$bench_dir/nb/$id.ipynb
    python3 bench/gen_notebook.py --shape "$shape" --syntax "$syntax" --n "$n" --out "$notebook"
    with_kfp=0
    if [[ $run_kfp == 1 ]] && { ((n <= kfp_max_n)) || [[ " $kfp_full " == *" $combo "* ]]; }; then
      with_kfp=1
    fi
    bench_case "$id" "$notebook" "$n" "$syntax" "$shape" "$with_kfp"
  done
  # The trees of this size are no longer needed; 10,000 components take ~130 MB each.
  for combo in $combos; do rm -rf "$bench_dir/out/${combo%%:*}-${combo#*:}-$n"; done
done

echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$results/machine.txt"
echo "total benchmark time: $((SECONDS - started)) s" >>"$results/machine.txt"
python3 bench/summarize.py "$results" | tee "$results/tables.md"
