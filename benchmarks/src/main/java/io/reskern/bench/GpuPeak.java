package io.reskern.bench;

import io.reskern.Precision;
import io.reskern.ReskernException;
import io.reskern.backend.conv.DeviceMem;
import io.reskern.backend.cudnn.Cudnn;
import io.reskern.nativelib.CudaOps;
import java.util.EnumMap;
import java.util.Map;
import org.bytedeco.cuda.cublas.cublasContext;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cublas;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * The roofline the GPU benchmarks report against, <b>measured</b> once per JVM on the GPU in use:
 * <ul>
 *   <li>compute: a dense {@code 8192³} cuBLAS GEMM ({@code cublasGemmEx}, random data) in the benchmark's precision —
 *       fp16/bf16 in, fp32 accumulate; TF32 = {@code CUBLAS_COMPUTE_32F_FAST_TF32}; fp32 = {@code CUBLAS_COMPUTE_32F};</li>
 *   <li>bandwidth: a 1 GiB device-to-device copy, bytes read + written.</li>
 * </ul>
 * If cuBLAS is unavailable, the H100 figures of {@code shared/docs/gpu-host.md} are used instead (800 TFLOP/s bf16,
 * 3000 GB/s; TF32 and fp32 then from the same 800 / 2 and / 12, which is only a rough H100 ratio) and the output says
 * "assumed". Override with {@code -Dreskern.bench.peakTflops=…} / {@code -Dreskern.bench.peakGBs=…}.
 */
final class GpuPeak {
    /** Peak FLOP/s and bytes/s, and whether they were measured. */
    record Roof(double flops, double bytesPerS, boolean measured) {
        /** min(peak FLOP/s, arithmetic intensity × bandwidth) for a kernel with these counts. */
        double roofFlops(double flop, double bytes) {
            return Math.min(flops, flop / bytes * bytesPerS);
        }
    }

    private static final Map<Precision, Roof> CACHE = new EnumMap<>(Precision.class);

    private GpuPeak() {
    }

    static synchronized Roof of(Precision p, long stream) {
        Roof r = CACHE.get(p);
        if (r == null) {
            r = measure(p, stream);
            String pf = System.getProperty("reskern.bench.peakTflops");
            String pb = System.getProperty("reskern.bench.peakGBs");
            if (pf != null || pb != null) {
                r = new Roof(pf != null ? Double.parseDouble(pf) * 1e12 : r.flops(), pb != null ? Double.parseDouble(pb) * 1e9
                        : r.bytesPerS(), false);
            }
            System.out.printf("# roofline %s: %.0f TFLOP/s, %.0f GB/s (%s)%n", p, r.flops() / 1e12, r.bytesPerS() / 1e9,
                    r.measured() ? "measured: cuBLAS 8192^3 GEMM, 1 GiB D2D copy" : "assumed / overridden");
            CACHE.put(p, r);
        }
        return r;
    }

    private static Roof assumed(Precision p, double bw) {
        double f = switch (p) {
            case FP16, BF16 -> 800e12;
            case TF32 -> 400e12;
            case FP32 -> 67e12;
        };
        return new Roof(f, bw > 0 ? bw : 3000e9, false);
    }

    private static Roof measure(Precision p, long stream) {
        double bw = 0;
        try (DeviceMem mem = new DeviceMem()) {
            long gib = 1L << 30;
            long a = mem.malloc(gib);
            long b = mem.malloc(gib);
            bw = 2.0 * gib / (time(stream, 5, () -> DeviceMem.check(CudaOps.memcpyD2D(b, a, gib, stream), "copy")) / 1e3);
        } catch (ReskernException e) {
            System.out.println("# bandwidth not measured: " + e.getMessage());
        }
        if (!Cudnn.status().available()) {
            return assumed(p, bw);
        }
        int n = 8192;
        cublasContext h = new cublasContext();
        try (DeviceMem mem = new DeviceMem(); FloatPointer one = new FloatPointer(1f); FloatPointer zero = new FloatPointer(0f)) {
            if (cublas.cublasCreate_v2(h) != 0) {
                return assumed(p, bw);
            }
            cublas.cublasSetStream_v2(h, new CUstream_st(ptr(stream)));
            int dt = p == Precision.FP16 ? CudaOps.F16 : p == Precision.BF16 ? CudaOps.BF16 : CudaOps.F32;
            int cudaType = p == Precision.FP16 ? 2 : p == Precision.BF16 ? 14 : 0; // CUDA_R_16F, CUDA_R_16BF, CUDA_R_32F
            int compute = p == Precision.TF32 ? cublas.CUBLAS_COMPUTE_32F_FAST_TF32 : cublas.CUBLAS_COMPUTE_32F;
            long elems = (long) n * n;
            float[] rnd = new float[1 << 22];
            java.util.SplittableRandom r = new java.util.SplittableRandom(3);
            for (int i = 0; i < rnd.length; i++) {
                rnd[i] = (float) (r.nextDouble() * 2 - 1);
            }
            long block = mem.upload(rnd, dt, stream);
            int eb = p.bytes();
            long[] m = new long[3];
            for (int i = 0; i < 3; i++) {
                m[i] = mem.malloc(elems * eb);
                for (long off = 0; off < elems; off += rnd.length) {
                    DeviceMem.check(CudaOps.memcpyD2D(m[i] + off * eb, block, Math.min(rnd.length, elems - off) * eb, stream), "fill");
                }
            }
            Pointer pa = ptr(m[0]);
            Pointer pb = ptr(m[1]);
            Pointer pc = ptr(m[2]);
            int[] st = new int[1];
            double ms = time(stream, 10, () -> st[0] |= cublas.cublasGemmEx(h, cublas.CUBLAS_OP_N, cublas.CUBLAS_OP_N, n, n, n, one,
                    pa, cudaType, n, pb, cudaType, n, zero, pc, cudaType, n, compute, cublas.CUBLAS_GEMM_DEFAULT));
            if (st[0] != 0) {
                System.out.println("# cublasGemmEx failed (" + st[0] + "): roofline assumed");
                return assumed(p, bw);
            }
            return new Roof(2.0 * n * n * n / (ms / 1e3), bw > 0 ? bw : 3000e9, bw > 0);
        } catch (ReskernException e) {
            System.out.println("# peak not measured: " + e.getMessage());
            return assumed(p, bw);
        } finally {
            cublas.cublasDestroy_v2(h);
        }
    }

    interface Op {
        void run() throws ReskernException;
    }

    /** Median ms of one {@code op} over {@code reps} timed runs after 2 warm-ups (CUDA events). */
    private static double time(long stream, int reps, Op op) throws ReskernException {
        PointerPointer<?> pp = new PointerPointer<>(1);
        DeviceMem.check(CudaOps.eventCreate(pp), "event");
        long e0 = pp.get(0).address();
        DeviceMem.check(CudaOps.eventCreate(pp), "event");
        long e1 = pp.get(0).address();
        try (FloatPointer ms = new FloatPointer(1)) {
            op.run();
            op.run();
            double[] s = new double[reps];
            for (int i = 0; i < reps; i++) {
                DeviceMem.check(CudaOps.eventRecord(e0, stream), "record");
                op.run();
                DeviceMem.check(CudaOps.eventRecord(e1, stream), "record");
                DeviceMem.check(CudaOps.streamSynchronize(stream), "sync");
                DeviceMem.check(CudaOps.eventElapsedMs(e0, e1, ms), "elapsed");
                s[i] = ms.get();
            }
            java.util.Arrays.sort(s);
            return s[reps / 2];
        } finally {
            CudaOps.eventDestroy(e0);
            CudaOps.eventDestroy(e1);
        }
    }

    private static Pointer ptr(long address) {
        return new Pointer() {
            {
                this.address = address;
            }
        };
    }
}
