#!/usr/bin/env bash
# Builds reskern (CUDA ON) and assembles the one-call GPU bundle (see scripts/gpu-bundle/README.md):
#
#   scripts/gpu-bundle/make-bundle.sh [--no-build] [--cpu-only] [OUTDIR]      (OUTDIR default: <checkout>/bundle-out)
#
# OUTDIR then holds exactly three files:
#   run.sh              the launcher: unpacks reskern-gpu.tar.xz to /tmp and runs its run.sh (the one command)
#   reskern-gpu.tar.xz  jre/ (jlink, Temurin 25), lib/ (jars), native/ (JNI + CUDA/CPU libs, libgomp, lab_*),
#                       peers/ (Python: goldens, PyTorch peer, summary), run.sh, lab-args.conf, BUNDLE.txt
#   BUNDLE.txt          commit, build facts, contents and sizes
# --no-build   reuse what the last build left under java/ tests/ benchmarks/ target/
# --cpu-only   build with -Dreskern.cuda=OFF and accept the no-CUDA stand-in of libreskern_cuda (for testing this
#              script without nvcc or CUDA sources; the bundle's GPU tests can then only skip or fail)
# Env: RESKERN_BUNDLE_JDK (default /usr/lib/jvm/temurin-25-jdk-amd64), RESKERN_BUNDLE_MAX_MIB (default 60).
set -euo pipefail

root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)"
build=1
cuda=ON
outdir=""
for a in "$@"; do
  case "$a" in
    --no-build) build=0 ;;
    --cpu-only) cuda=OFF ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    -*) echo "make-bundle: unknown option $a" >&2; exit 2 ;;
    *) outdir="$a" ;;
  esac
done
outdir="${outdir:-$root/bundle-out}"
jdk="${RESKERN_BUNDLE_JDK:-/usr/lib/jvm/temurin-25-jdk-amd64}"
max_mib="${RESKERN_BUNDLE_MAX_MIB:-60}"
work="$root/target/gpu-bundle"        # root target/ is gitignored
stage="$work/reskern-gpu"
natdir=io/reskern/nativelib/linux-x86_64
t_start=$(date +%s)
say() { echo "[bundle] $*"; }
mvnq() { mvn -B -q "$@" 2>&1 | sed -u 's/\x1b\[[0-9;]*m//g'; return "${PIPESTATUS[0]}"; }   # no colour codes
die() { echo "[bundle] ERROR: $*" >&2; exit 1; }

[ -x "$jdk/bin/jlink" ] || die "no jlink in $jdk (set RESKERN_BUNDLE_JDK to a JDK >= 21)"
version="$(grep -m1 -oP '^  <version>\K[^<]+' "$root/pom.xml" || true)"            # the parent's own version
junit_version="$(grep -m1 -oP '<junit.version>\K[^<]+' "$root/pom.xml" || true)"
[ -n "$version" ] && [ -n "$junit_version" ] || die "cannot read <version>/<junit.version> from pom.xml"
case "$junit_version" in 5.*) console_version="1.${junit_version#5.}" ;; *) console_version="$junit_version" ;; esac
dep_plugin=org.apache.maven.plugins:maven-dependency-plugin:3.8.1

# ---------------------------------------------------------------- 1. build
cd "$root"
if [ "$build" = 1 ]; then
  say "mvn package (reskern.cuda=$cuda, tests compiled, not run) ..."
  mvnq -DskipTests "-Dreskern.cuda=$cuda" package
fi
classes_nat="$root/java/target/classes/$natdir"
jar="$root/java/target/reskern-$version.jar"
[ -f "$jar" ] || die "missing $jar (run without --no-build)"
[ -d "$root/tests/target/test-classes/io/reskern/gpu" ] || die "missing tests/target/test-classes (run without --no-build)"
[ -f "$classes_nat/libreskern_cpu.so" ] && [ -f "$classes_nat/libjniCpuOps.so" ] || die "CPU native libraries missing in $classes_nat"
[ -f "$classes_nat/libreskern_cuda.so" ] && [ -f "$classes_nat/libjniCudaOps.so" ] \
  || die "libreskern_cuda.so / libjniCudaOps.so missing in $classes_nat"
# Without nvcc or without native/cuda/*.cu the build makes a stand-in libreskern_cuda ("built without CUDA"):
# a CUDA library has GPU code in an .nv_fatbin section.
cuda_kind="no-CUDA stand-in"
# (no `readelf | grep -q` under pipefail: grep exits at the first match, readelf gets SIGPIPE, the pipe "fails")
case "$(readelf -S "$classes_nat/libreskern_cuda.so" 2>/dev/null)" in *.nv_fatbin*) cuda_kind="CUDA" ;; esac
if [ "$cuda" = ON ] && [ "$cuda_kind" != CUDA ]; then
  die "libreskern_cuda.so is the no-CUDA stand-in (no nvcc, or no native/cuda/*.cu): a GPU bundle needs the real one (--cpu-only to pack it anyway)"
fi

# ---------------------------------------------------------------- 2. stage: lib/
rm -rf "$stage"
mkdir -p "$stage"/{lib,native/bin,native/lib,native/cp/$natdir,peers}
say "lib/: reskern (natives moved to native/cp), runtime deps, tests, JUnit console $console_version"
# The reskern jar without its native folder: the same .so files go to native/cp/ (a class-path directory, loaded
# by JavaCPP exactly as from the jar) and are linked from native/lib/ for the lab executables: stored once.
tmpj="$work/jar-tmp"; rm -rf "$tmpj"; mkdir -p "$tmpj"
(cd "$tmpj" && "$jdk/bin/jar" xf "$jar" && rm -rf "$natdir" && "$jdk/bin/jar" cf "$stage/lib/reskern.jar" .)
cp "$classes_nat"/*.so "$stage/native/cp/$natdir/"
for so in "$stage/native/cp/$natdir"/libreskern_*.so; do
  ln -s "../cp/$natdir/$(basename "$so")" "$stage/native/lib/$(basename "$so")"
done
# Runtime deps of the library that the GPU tests and `bench` need (xchart + its PDF/SVG deps are only for
# `reskern compare` charts; onnxruntime is not used by the GPU tests).
mvnq -pl java "$dep_plugin:copy-dependencies" -DincludeScope=runtime \
  -DincludeArtifactIds=javacpp,picocli,gson,cuda,progressbar,jline-terminal,jline-native \
  -DoutputDirectory="$stage/lib" "-Dreskern.cuda=$cuda"
# The JavaCPP CUDA presets' JNI jar holds ~30 libraries (NPP, cuFFT, ...): keep the three reskern loads (cudart's,
# because the cuDNN presets inherit it; cuBLAS; cuDNN). cuDNN / cuBLAS themselves come from the host (torch's wheels).
cjar="$(ls "$stage"/lib/cuda-*-linux-x86_64.jar 2>/dev/null | head -1)"
if [ -n "$cjar" ]; then
  ctmp="$work/cuda-jni-tmp"; rm -rf "$ctmp"; mkdir -p "$ctmp"
  (cd "$ctmp" && "$jdk/bin/jar" xf "$cjar" && find org/bytedeco/cuda -name 'libjni*.so' ! -name libjnicudart.so \
     ! -name libjnicublas.so ! -name libjnicudnn.so -delete && rm -rf META-INF/native-image && "$jdk/bin/jar" cf "$cjar" .)
  say "lib/$(basename "$cjar"): slimmed to $(cd "$ctmp" && find org -name '*.so' -printf '%f ' )"
else
  die "the JavaCPP CUDA presets jar (org.bytedeco:cuda linux-x86_64) was not copied"
fi
mvnq -N "$dep_plugin:copy" "-Dartifact=org.junit.platform:junit-platform-console-standalone:$console_version" \
  -DoutputDirectory="$stage/lib"
mv "$stage/lib/junit-platform-console-standalone-$console_version.jar" "$stage/lib/junit-console.jar"
mkdir -p "$stage/lib/test"
"$jdk/bin/jar" cf "$stage/lib/test/reskern-tests.jar" -C "$root/tests/target/test-classes" .
# The example HTTP service + its load client (the bundle's "serve" step); needs jdk.httpserver + java.net.http.
[ -d "$root/examples/target/classes/io/reskern/examples" ] || die "missing examples/target/classes (run without --no-build)"
"$jdk/bin/jar" cf "$stage/lib/reskern-examples.jar" -C "$root/examples/target/classes" .
# The classes run.sh runs, one JVM each: every test class tagged "gpu"; op-level ones before model-level ones.
gpu_classes="$(cd "$root/tests/src/test/java" && grep -rl '@Tag("gpu")' --include='*.java' . \
  | sed 's:^\./::; s:\.java$::; s:/:.:g' | sort)"
[ -n "$gpu_classes" ] || die "no test class tagged gpu under tests/src/test/java"
{ echo "# GPU test classes (made by make-bundle.sh)"; grep -v Model <<<"$gpu_classes" || true; grep Model <<<"$gpu_classes" || true; } \
  > "$stage/lib/test/gpu-test-classes.txt"
# JMH benchmarks: only when the benchmarks module has any (thin jar + jmh deps, no onnxruntime).
if [ -f "$root/benchmarks/target/classes/META-INF/BenchmarkList" ]; then
  mkdir -p "$stage/lib/jmh"
  "$jdk/bin/jar" cf "$stage/lib/jmh/reskern-benchmarks.jar" -C "$root/benchmarks/target/classes" .
  mvnq -pl benchmarks "$dep_plugin:copy-dependencies" -DincludeScope=runtime \
    -DexcludeArtifactIds=onnxruntime,reskern,javacpp,picocli,gson,xchart,cuda,progressbar,jline-terminal,jline-native \
    -DoutputDirectory="$stage/lib/jmh" "-Dreskern.cuda=$cuda"
  say "lib/jmh/: JMH benchmarks found"
else
  say "lib/jmh/: none (benchmarks/ has no JMH classes yet)"
fi

# ---------------------------------------------------------------- 3. native/: libgomp, labs
gomp="$(ldd "$classes_nat/libreskern_cpu.so" | awk '/libgomp/ {print $3}')"
[ -f "$gomp" ] || die "libgomp.so.1 not found (ldd libreskern_cpu.so)"
cp -L "$gomp" "$stage/native/lib/libgomp.so.1"
labs=()
for d in "$root/java/target/native/bin" "$root/java/target/native-build"; do
  [ -d "$d" ] || continue
  for f in "$d"/lab_*; do
    [ -f "$f" ] && [ -x "$f" ] || continue
    n="$(basename "$f")"
    [[ "$n" == *_avx512emu ]] && continue  # CI's AVX-512 emulation (native/lab/avx512emu): the host runs the real kernels
    [ -e "$stage/native/bin/$n" ] && continue
    cp "$f" "$stage/native/bin/$n"
    labs+=("$n")
  done
done
say "native/bin/: ${labs[*]:-no lab executables}"
# Anything the native code needs that a plain GPU host may lack (libstdc++ and libgcc_s are not shipped:
# torch's host has newer ones; BUNDLE.txt records the versions required).
missing="$(for f in "$stage/native/cp/$natdir"/*.so "$stage/native/bin"/*; do [ -f "$f" ] && LD_LIBRARY_PATH="$stage/native/lib" ldd "$f" 2>/dev/null | grep 'not found' | grep -v 'libcuda.so' ; done | sort -u || true)"
[ -z "$missing" ] || say "WARNING: unresolved here: $missing"

# ---------------------------------------------------------------- 4. jre/ (jlink, cached by JDK + module list)
modules=java.base,java.logging,java.xml,java.sql,java.desktop,java.management,jdk.management,jdk.unsupported,jdk.httpserver,java.net.http
jre_key="$("$jdk/bin/java" -version 2>&1 | head -2 | tr '\n' ' ')|$modules|strip"
if [ ! -x "$work/jre/bin/java" ] || [ "$(cat "$work/jre.key" 2>/dev/null)" != "$jre_key" ]; then
  say "jlink ($modules) ..."
  rm -rf "$work/jre"
  "$jdk/bin/jlink" --add-modules "$modules" --strip-debug --no-man-pages --no-header-files --compress=zip-9 \
    --output "$work/jre"
  # libjvm.so keeps a 5 MB local symbol table; dynamic symbols (all the JVM needs) stay.
  strip --strip-unneeded "$work/jre/lib/server/libjvm.so"
  echo "$jre_key" > "$work/jre.key"
fi
cp -a "$work/jre" "$stage/jre"
"$stage/jre/bin/java" -version >/dev/null 2>&1 || die "bundled jre does not start"

# ---------------------------------------------------------------- 5. scripts
cp "$root/scripts/gpu-bundle/run.sh" "$stage/run.sh"
cp "$root/scripts/gpu-bundle/lab-args.conf" "$stage/lab-args.conf"
cp "$root/scripts/gpu-bundle/summarize.py" "$root/benchmarks/peers/make_gpu_goldens.py" \
   "$root/benchmarks/peers/torch_peer.py" "$root/tests/golden/golden_models.py" "$root/tests/golden/safetensors_io.py" \
   "$stage/peers/"
chmod +x "$stage/run.sh" "$stage/native/bin/"* 2>/dev/null || true

# ---------------------------------------------------------------- 6. BUNDLE.txt
commit="$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)"
dirty="$(git -C "$root" status --porcelain 2>/dev/null | head -20)"          # untracked files count too
natfiles=("$stage/native/cp/$natdir"/*.so "$stage/native/bin"/*)
{
  echo "reskern GPU bundle"
  echo "commit:        $commit${dirty:+ (+ uncommitted changes)}"
  echo "branch:        $(git -C "$root" rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)"
  echo "built:         $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -m), $(hostname)"
  echo "version:       $version"
  echo "cuda library:  $cuda_kind (reskern.cuda=$cuda, nvcc $( (nvcc --version 2>/dev/null || /usr/local/cuda/bin/nvcc --version 2>/dev/null) | grep -o 'release [0-9.]*' || echo 'none'))"
  echo "jre:           $("$stage/jre/bin/java" -version 2>&1 | head -1) modules $modules"
  echo "junit console: $console_version"
  echo "labs:          ${labs[*]:-none}"
  echo "needs (glibc): $(objdump -T "${natfiles[@]}" "$stage/native/lib/libgomp.so.1" 2>/dev/null | grep -oE 'GLIBC_[0-9.]+' | sort -uV | tail -1)"
  echo "needs (c++):   $(objdump -T "${natfiles[@]}" 2>/dev/null | grep -oE 'GLIBCXX_[0-9.]+' | sort -uV | tail -1), $(objdump -T "${natfiles[@]}" 2>/dev/null | grep -oE 'CXXABI_[0-9.]+' | sort -uV | tail -1)"
  [ -n "$dirty" ] && { echo "uncommitted:"; echo "$dirty" | sed 's/^/  /'; }
  echo
  echo "contents (bytes, unpacked):"
  (cd "$stage" && find . \( -type f -o -type l \) ! -path './jre/*' -printf '  %10s  %p\n' | sort -k2)
  echo "  $(du -sb "$stage/jre" | cut -f1)  ./jre/ (total)"
} > "$stage/BUNDLE.txt"

# ---------------------------------------------------------------- 7. pack
mkdir -p "$outdir"
rm -f "$outdir/run.sh" "$outdir/reskern-gpu.tar.xz" "$outdir/BUNDLE.txt"
others="$(find "$outdir" -mindepth 1 -maxdepth 1 | head -5)"
[ -z "$others" ] || say "WARNING: $outdir holds other files (they travel with it too): $others"
say "packing (tar + xz) ..."
tar -C "$work" --owner=0 --group=0 --numeric-owner -cf - reskern-gpu | xz -6 -T0 > "$outdir/reskern-gpu.tar.xz"
cp "$root/scripts/gpu-bundle/launcher.sh" "$outdir/run.sh"
chmod +x "$outdir/run.sh"
cp "$stage/BUNDLE.txt" "$outdir/BUNDLE.txt"

# ---------------------------------------------------------------- 8. sizes and the device command
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
unpacked=$(du -sb "$stage" | cut -f1)
packed=$(du -sb "$outdir" | cut -f1)
say "unpacked $(mib "$unpacked") (jre $(mib "$(du -sb "$stage/jre" | cut -f1)"), lib $(mib "$(du -sb "$stage/lib" | cut -f1)"), native $(mib "$(du -sbL "$stage/native" | cut -f1)"))"
say "bundle $outdir: $(mib "$packed") (limit $max_mib MiB) in $(( $(date +%s) - t_start )) s"
[ "$packed" -le $((max_mib * 1048576)) ] || die "bundle is $(mib "$packed"), over $max_mib MiB"
# What the device tool sends: the checkout holding OUTDIR (tracked + untracked-not-ignored) plus OUTDIR.
co="$(git -C "$outdir" rev-parse --show-toplevel 2>/dev/null || true)"
if [ -n "$co" ]; then
  rel="$(realpath --relative-to="$co" "$outdir")"
  tree=$(cd "$co" && git ls-files -co --exclude-standard -z | xargs -0 -r du -cb 2>/dev/null | tail -1 | cut -f1)
  git -C "$co" check-ignore -q "$rel" || say "WARNING: $rel is not gitignored in $co"
  say "sent by the device tool from $co: tree $(mib "${tree:-0}") + carry $(mib "$packed") = $(mib $(( ${tree:-0} + packed ))) (limit 64 MiB)"
  [ $(( ${tree:-0} + packed )) -le $((64 * 1048576)) ] || die "tree + bundle exceed 64 MiB"
  say "device command: bash $rel/run.sh        carry: [\"$rel\"]"
  if [ "$(git -C "$co" rev-parse --git-dir)" != "$(git -C "$co" rev-parse --git-common-dir)" ]; then
    main_wt="$(git -C "$co" worktree list --porcelain | sed -n '1s/^worktree //p')"
    say "NOTE: $co is a linked worktree; the device tool sends the session's own checkout (often $main_wt):"
    say "      put the bundle there, e.g. make-bundle.sh --no-build $main_wt/bundle-out"
  fi
else
  say "OUTDIR is not inside a git checkout: copy it into the checkout the device tool sends (an ignored folder) and carry it"
fi
