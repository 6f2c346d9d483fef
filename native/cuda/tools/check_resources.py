#!/usr/bin/env python3
"""Resource limits of every CUDA kernel of reskern_cuda, per architecture, from ptxas's -v report (no GPU needed).

  check_resources.py OBJ...        reads OBJ.ptxas.txt (written by nvcc_ptxas_log.sh, the build's compiler launcher)
  check_resources.py --log FILE... reads ptxas -v output directly (e.g. nvcc -Xptxas -v ... 2> FILE)
  check_resources.py --self-test   checks the checker on synthetic reports

Fails (exit 1, one line per problem) when a kernel, on any architecture it is compiled for:
  - spills registers (spill stores/loads > 0) or uses a stack frame (local memory): on the GPU that is slow, and it
    means the register budget of __launch_bounds__ is too tight;
  - uses more than 48 KB of static shared memory (the hard per-block limit for static __shared__);
  - needs more registers than an SM has for one block: ceil(regs * 32 / 256) * 256 per warp (allocation unit 256) x
    warps per block > 65536, or regs > 255.
Threads per block: the tensor-core conv kernels take 32 * WARPS_M * WARPS_N from their TileCfg<BM, BN, WARPS_M,
WARPS_N, STAGES> template argument (read from the mangled name); every other kernel is launched with at most 256
threads (kThreads, S_THREADS, 32x8 / 32x4 blocks); a kernel launched with more must be added to BLOCK below.
Dynamic shared memory of the tensor-core kernels is checked at compile time (static_assert in conv_tc.cuh) and its
cudaFuncSetAttribute by the host emulation (native/lab/emu: a launch above 48 KB without it fails there).
"""
import os
import re
import sys

REGS_PER_SM = 65536
MAX_REGS = 255
STATIC_SMEM_MAX = 48 * 1024
DEFAULT_BLOCK = 256
BLOCK = {}  # mangled-name substring -> threads per block, for kernels launched with more than DEFAULT_BLOCK

ENTRY = re.compile(r"Compiling entry function '([^']+)' for '(sm_\d+a?)'")
FRAME = re.compile(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads")
USED = re.compile(r"Used (\d+) registers(?:, used \d+ barriers)?(?:, (\d+) bytes smem)?")
TILE = re.compile(r"TileCfgILi(\d+)ELi(\d+)ELi(\d+)ELi(\d+)ELi(\d+)E")


def parse(text):
    """[(arch, kernel, regs, static_smem, stack, spill_st, spill_ld)] from ptxas -v output."""
    out, cur, frame = [], None, (0, 0, 0)
    for line in text.splitlines():
        m = ENTRY.search(line)
        if m:
            cur, frame = (m.group(2), m.group(1)), (0, 0, 0)
            continue
        m = FRAME.search(line)
        if m and cur:
            frame = tuple(int(g) for g in m.groups())
            continue
        m = USED.search(line)
        if m and cur:
            out.append((cur[0], cur[1], int(m.group(1)), int(m.group(2) or 0)) + frame)
            cur = None
    return out


def threads_of(kernel):
    m = TILE.search(kernel)
    if m:
        return 32 * int(m.group(3)) * int(m.group(4))
    for key, n in BLOCK.items():
        if key in kernel:
            return n
    return DEFAULT_BLOCK


def problems(rows):
    bad = []
    for arch, k, regs, smem, stack, sst, sld in rows:
        where = f"{arch} {k}"
        if sst or sld:
            bad.append(f"{where}: spills registers ({sst} bytes stores, {sld} bytes loads)")
        if stack:
            bad.append(f"{where}: {stack} bytes stack frame (local memory)")
        if smem > STATIC_SMEM_MAX:
            bad.append(f"{where}: {smem} bytes static shared memory > {STATIC_SMEM_MAX}")
        t = threads_of(k)
        warps = (t + 31) // 32
        per_warp = (regs * 32 + 255) // 256 * 256
        if regs > MAX_REGS or per_warp * warps > REGS_PER_SM:
            bad.append(f"{where}: {regs} registers x {t} threads needs {per_warp * warps} > {REGS_PER_SM} per SM")
    return bad


def self_test():
    ok = """ptxas info    : Compiling entry function '_Z1kv' for 'sm_90'
ptxas info    : Function properties for _Z1kv
    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
ptxas info    : Used 40 registers, used 1 barriers, 1056 bytes smem, 400 bytes cmem[0]
"""
    spill = ok.replace("0 bytes spill stores", "8 bytes spill stores").replace("0 bytes stack", "8 bytes stack")
    big = ok.replace("1056 bytes smem", "50000 bytes smem")
    tc = ok.replace("_Z1kv", "_ZN2rk2tc33conv_tcI6__halfNS0_7TileCfgILi256ELi128ELi4ELi8ELi4EEELi0EEEvNS_10ConvParamsE") \
        .replace("Used 40", "Used 200")  # 1024 threads x 200 registers
    assert problems(parse(ok)) == [], problems(parse(ok))
    assert len(parse(ok)) == 1 and parse(ok)[0][2:4] == (40, 1056)
    assert any("spills" in p for p in problems(parse(spill))) and any("stack" in p for p in problems(parse(spill)))
    assert any("static shared" in p for p in problems(parse(big)))
    assert threads_of(parse(tc)[0][1]) == 1024 and any("per SM" in p for p in problems(parse(tc)))
    print("check_resources.py: self-test ok")


def main(argv):
    if argv[1:] == ["--self-test"]:
        self_test()
        return 0
    if argv[1:2] == ["--log"]:
        logs = argv[2:]
    else:
        logs = [o + ".ptxas.txt" for o in argv[1:]]
    rows, missing = [], []
    for f in logs:
        if not os.path.exists(f):
            missing.append(f)
            continue
        with open(f, errors="replace") as fh:
            rows += parse(fh.read())
    if missing and not rows:
        print("check_resources.py: no ptxas report (built without the nvcc_ptxas_log.sh launcher?): " + missing[0])
        return 0
    bad = problems(rows)
    archs = sorted({r[0] for r in rows})
    worst = max(rows, key=lambda r: r[2]) if rows else None
    if bad:
        for b in bad:
            print("check_resources.py: " + b, file=sys.stderr)
        print(f"check_resources.py: {len(bad)} kernel resource problem(s) (see native/cuda/tools/check_resources.py)",
              file=sys.stderr)
        return 1
    print(f"check_resources.py: {len(rows)} kernel builds ({', '.join(archs)}): no spills, no local memory, static smem "
          f"<= 48 KB, registers fit (max {worst[2] if worst else 0})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
