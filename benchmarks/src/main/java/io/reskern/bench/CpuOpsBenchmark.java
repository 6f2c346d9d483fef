package io.reskern.bench;

import io.reskern.image.Preprocess;
import io.reskern.image.ResamplePlan;
import io.reskern.nativelib.CpuOps;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;

/**
 * The memory-bound CPU ops of a ResNet, at ResNet-50 sizes; secondary {@code gbytes} = GB/s of compulsory traffic
 * (each input read once, each output written once, fp32):
 * <ul>
 *   <li>{@code maxPool}: 3×3/2 pad 1, [N,112,112,64] → [N,56,56,64]; bytes = x + y.</li>
 *   <li>{@code bnRelu}: {@code y = relu(scale ⊙ x + shift)} on [N,56,56,256] (v2 pre-activation); bytes = x + y.</li>
 *   <li>{@code addRelu}: {@code y = relu(a + b)} on [N,56,56,256] (unfused residual); bytes = a + b + y.</li>
 *   <li>{@code poolFc}: global average pool [N,7,7,2048] → [N,2048], then FC 2048 → 1000; bytes = x + W + bias + logits
 *       (the [N,2048] intermediate is not counted).</li>
 *   <li>{@code avgPool}: v1d's shortcut pool, 2×2/2, ceil_mode, count_include_pad=False, [N,56,56,256] →
 *       [N,28,28,256]; bytes = x + y.</li>
 *   <li>{@code nchwToNhwc}: the model input's layout change, [N,3,224,224] → [N,224,224,3]; bytes = x + y.</li>
 *   <li>{@code preprocessU8}: {@code y = (x/255 - mean[c]) / std[c]} on uint8 [N,224,224,3] → fp32; bytes = x (1 B) + y.</li>
 *   <li>{@code resampleNormalize}: image input, {@code rk_cpu_resample_normalize_u8} on a 500×375 BGR image (a
 *       decoded JPEG's layout) → Resize(256) → CenterCrop(224) → normalised fp32 [224,224,3], {@code batch} images per
 *       call into consecutive slots; bytes = image + output per image; secondary {@code images} = images/s.</li>
 *   <li>{@code copyRef}: single-threaded {@code memcpy} of the addRelu tensor; bytes = read + write. A bandwidth
 *       reference for the table, not a reskern op.</li>
 * </ul>
 * Setup checks a few outputs of each op against a Java reference.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms512m", "-Xmx2g"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class CpuOpsBenchmark {
    @Param({"1", "8"})
    public int batch;

    /** OpenMP threads; 0 = all available cores. */
    @Param({"0"})
    public int threads;

    /** GB/s counter. */
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Rate {
        public double gbytes;

        @Setup(Level.Iteration)
        public void reset() {
            gbytes = 0;
        }
    }

    /** images/s counter (resampleNormalize only). */
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class ImageRate {
        public double images;

        @Setup(Level.Iteration)
        public void reset() {
            images = 0;
        }
    }

    private static final int IMG_H = 375;
    private static final int IMG_W = 500;
    private static final int POOL_HW = 112;
    private static final int POOL_C = 64;
    private static final int POOL_OUT = 56;
    private static final int ELT_HW = 56;
    private static final int ELT_C = 256;
    private static final int HEAD_HW = 7;
    private static final int HEAD_C = 2048;
    private static final int CLASSES = 1000;

    private Native mem;
    private long a;
    private long b;
    private long y;
    private long scale;
    private long shift;
    private long pooled;
    private long fcW;
    private long fcB;
    private long count;
    private Pointer copySrc;
    private Pointer copyDst;
    private double gbPerCall;
    private Thread owner;
    private BytePointer image;
    private BytePointer taps;
    private ResamplePlan plan;
    private ResamplePlan.Addresses tapAddr;
    private BytePointer u8;
    private static final int IN_HW = 224;
    private static final float[] MEAN = {0.485f, 0.456f, 0.406f};
    private static final float[] STD = {0.229f, 0.224f, 0.225f};

    @Setup(Level.Trial)
    public void setup(BenchmarkParams params) {
        int t = Native.applyThreads(threads);
        owner = Thread.currentThread();
        String op = params.getBenchmark().substring(params.getBenchmark().lastIndexOf('.') + 1);
        mem = new Native(op.hashCode() * 31L + batch);
        int n = batch;
        float[][] xa = new float[1][];
        float[][] xb = new float[1][];
        float[][] sa = new float[1][];
        float[][] ba = new float[1][];
        double bytes;
        String what;
        switch (op) {
            case "maxPool" -> {
                long xN = (long) n * POOL_HW * POOL_HW * POOL_C;
                long yN = (long) n * POOL_OUT * POOL_OUT * POOL_C;
                a = mem.uniform(xN, -1f, 1f, xa).address();
                FloatPointer yp = mem.zeros(yN);
                y = yp.address();
                Native.check(maxPoolCall(), op);
                checkMaxPool(xa[0], Native.read(yp, yN));
                bytes = 4.0 * (xN + yN);
                what = n + "x112x112x64 -> 56x56, 3x3/2";
            }
            case "bnRelu", "addRelu", "copyRef" -> {
                count = (long) n * ELT_HW * ELT_HW * ELT_C;
                FloatPointer ap = mem.uniform(count, -1f, 1f, xa);
                a = ap.address();
                b = mem.uniform(count, -1f, 1f, xb).address();
                scale = mem.uniform(ELT_C, 0.5f, 1.5f, sa).address();
                shift = mem.uniform(ELT_C, -0.1f, 0.1f, ba).address();
                FloatPointer yp = mem.zeros(count);
                y = yp.address();
                copySrc = ap;
                copyDst = yp;
                if (op.equals("bnRelu")) {
                    Native.check(bnReluCall(), op);
                    checkElementwise(Native.read(yp, count), i -> Math.max(0f, sa[0][(int) (i % ELT_C)] * xa[0][i]
                            + ba[0][(int) (i % ELT_C)]));
                    bytes = 4.0 * 2 * count;
                } else if (op.equals("addRelu")) {
                    Native.check(addReluCall(), op);
                    checkElementwise(Native.read(yp, count), i -> Math.max(0f, xa[0][i] + xb[0][i]));
                    bytes = 4.0 * 3 * count;
                } else {
                    copy();
                    checkElementwise(Native.read(yp, count), i -> xa[0][i]);
                    bytes = 4.0 * 2 * count;
                }
                what = n + "x56x56x256";
            }
            case "poolFc" -> {
                long xN = (long) n * HEAD_HW * HEAD_HW * HEAD_C;
                a = mem.uniform(xN, -1f, 1f, xa).address();
                pooled = mem.zeros((long) n * HEAD_C).address();
                float bound = (float) Math.sqrt(1.0 / HEAD_C);
                fcW = mem.uniform((long) CLASSES * HEAD_C, -bound, bound, xb).address();
                fcB = mem.uniform(CLASSES, -bound, bound, ba).address();
                FloatPointer yp = mem.zeros((long) n * CLASSES);
                y = yp.address();
                Native.check(poolFcCall(), op);
                checkPoolFc(xa[0], xb[0], ba[0], Native.read(yp, (long) n * CLASSES));
                bytes = 4.0 * (xN + (long) CLASSES * HEAD_C + CLASSES + (long) n * CLASSES);
                what = n + "x7x7x2048 -> 2048 -> 1000";
            }
            case "avgPool" -> {
                long xN = (long) n * ELT_HW * ELT_HW * ELT_C;
                long yN = (long) n * (ELT_HW / 2) * (ELT_HW / 2) * ELT_C;
                a = mem.uniform(xN, -1f, 1f, xa).address();
                FloatPointer yp = mem.zeros(yN);
                y = yp.address();
                Native.check(avgPoolCall(), op);
                checkAvgPool(xa[0], Native.read(yp, yN));
                bytes = 4.0 * (xN + yN);
                what = n + "x56x56x256 -> 28x28, 2x2/2";
            }
            case "nchwToNhwc" -> {
                count = (long) n * 3 * IN_HW * IN_HW;
                a = mem.uniform(count, -1f, 1f, xa).address();
                FloatPointer yp = mem.zeros(count);
                y = yp.address();
                Native.check(nchwToNhwcCall(), op);
                int hw = IN_HW * IN_HW;
                checkElementwise(Native.read(yp, count), i -> {
                    int c = i % 3;
                    int pix = i / 3;
                    return xa[0][(pix / hw * 3 + c) * hw + pix % hw];
                });
                bytes = 4.0 * 2 * count;
                what = n + "x3x224x224 -> NHWC";
            }
            case "preprocessU8" -> {
                count = (long) n * IN_HW * IN_HW * 3;
                byte[] px = new byte[(int) count];
                new SplittableRandom(23).nextBytes(px);
                u8 = new BytePointer(px);
                scale = mem.copy(MEAN).address();
                shift = mem.copy(STD).address();
                FloatPointer yp = mem.zeros(count);
                y = yp.address();
                Native.check(preprocessCall(), op);
                checkElementwise(Native.read(yp, count), i -> ((px[i] & 0xff) / 255f - MEAN[i % 3]) / STD[i % 3]);
                bytes = 5.0 * count;
                what = n + "x224x224x3 uint8 -> fp32";
            }
            case "resampleNormalize" -> {
                byte[] px = new byte[IMG_H * IMG_W * 3];
                new SplittableRandom(17).nextBytes(px);
                image = new BytePointer(px);
                plan = Preprocess.imagenet().plan(IMG_H, IMG_W);
                taps = new BytePointer(plan.packed());
                tapAddr = plan.addresses(taps.address());
                long yN = (long) n * plan.outHeight() * plan.outWidth() * 3;
                FloatPointer yp = mem.zeros(yN);
                y = yp.address();
                Native.check(resampleCall(), op);
                checkResample(px, Native.read(yp, yN));
                bytes = (double) n * (px.length + 4.0 * plan.outHeight() * plan.outWidth() * 3);
                what = n + " x 500x375 BGR -> 256 -> 224x224 fp32";
            }
            default -> throw new IllegalStateException("unknown op " + op);
        }
        gbPerCall = bytes / 1e9;
        System.out.printf("# op %s %s: %.2f MB compulsory, %d threads, outputs match the reference%n", op, what,
                bytes / 1e6, t);
    }

    private int maxPoolCall() {
        return CpuOps.maxPool2d(a, batch, POOL_HW, POOL_HW, POOL_C, 3, 3, 2, 1, 1, y, POOL_OUT, POOL_OUT);
    }

    private int bnReluCall() {
        return CpuOps.bnRelu(a, count / ELT_C, ELT_C, scale, shift, 1, y);
    }

    private int addReluCall() {
        return CpuOps.addRelu(a, b, count, 1, y);
    }

    private int poolFcCall() {
        int st = CpuOps.globalAvgPool(a, batch, HEAD_HW * HEAD_HW, HEAD_C, pooled);
        return st != 0 ? st : CpuOps.fc(pooled, batch, HEAD_C, fcW, fcB, CLASSES, y);
    }

    private int avgPoolCall() {
        return CpuOps.avgPool2d(a, batch, ELT_HW, ELT_HW, ELT_C, 2, 2, 2, 0, 0, 0, y, ELT_HW / 2, ELT_HW / 2);
    }

    private int nchwToNhwcCall() {
        return CpuOps.nchwToNhwc(a, batch, 3, IN_HW, IN_HW, y);
    }

    private int preprocessCall() {
        return CpuOps.preprocessU8(u8.address(), batch, IN_HW, IN_HW, scale, shift, y);
    }

    private void checkAvgPool(float[] x, float[] got) {
        SplittableRandom r = new SplittableRandom(7);
        int po = ELT_HW / 2;
        for (int t = 0; t < 256; t++) {
            int n = r.nextInt(batch);
            int p = r.nextInt(po);
            int q = r.nextInt(po);
            int c = r.nextInt(ELT_C);
            double sum = 0;
            for (int i = 2 * p; i < 2 * p + 2; i++) {
                for (int j = 2 * q; j < 2 * q + 2; j++) {
                    sum += x[((n * ELT_HW + i) * ELT_HW + j) * ELT_C + c];
                }
            }
            float g = got[((n * po + p) * po + q) * ELT_C + c];
            if (!(Math.abs(g - sum / 4) <= 1e-6)) {
                throw new IllegalStateException("avgpool y[" + n + "," + p + "," + q + "," + c + "] = " + g + ", reference " + sum / 4);
            }
        }
    }

    private int resampleCall() {
        long slot = 4L * plan.outHeight() * plan.outWidth() * 3;
        for (int i = 0; i < batch; i++) {
            int st = CpuOps.resampleNormalizeU8(image.address(), IMG_H, IMG_W, IMG_W * 3, 3, 2, 1, 0, tapAddr.ys(), tapAddr.ny(),
                    tapAddr.wy(), plan.rows().maxTaps(), tapAddr.xs(), tapAddr.nx(), tapAddr.wx(), plan.cols().maxTaps(),
                    tapAddr.mean(), tapAddr.std(), y + i * slot, plan.outHeight(), plan.outWidth());
            if (st != 0) {
                return st;
            }
        }
        return 0;
    }

    /** A few outputs of every image against the formula in double (BGR bytes: R at offset 2). */
    private void checkResample(byte[] px, float[] got) {
        SplittableRandom r = new SplittableRandom(13);
        int pp = plan.outHeight();
        int qq = plan.outWidth();
        float[] mean = plan.mean();
        float[] std = plan.std();
        for (int t = 0; t < 256; t++) {
            int n = r.nextInt(batch);
            int p = r.nextInt(pp);
            int q = r.nextInt(qq);
            int c = r.nextInt(3);
            double acc = 0;
            for (int j = 0; j < plan.cols().count()[q]; j++) {
                double tv = 0;
                for (int i = 0; i < plan.rows().count()[p]; i++) {
                    int row = plan.rows().start()[p] + i;
                    int col = plan.cols().start()[q] + j;
                    tv += plan.rows().weight(p, i) * (px[(row * IMG_W + col) * 3 + 2 - c] & 0xff);
                }
                acc += plan.cols().weight(q, j) * tv;
            }
            double want = (acc / 255 - mean[c]) / std[c];
            float g = got[((n * pp + p) * qq + q) * 3 + c];
            if (!(Math.abs(g - want) <= 1e-5 * (Math.abs(want) + 1))) {
                throw new IllegalStateException("resample y[" + n + "," + p + "," + q + "," + c + "] = " + g + ", reference " + want);
            }
        }
    }

    private void copy() {
        Pointer.memcpy(copyDst, copySrc, count * 4);
    }


    private interface Ref {
        float at(int i);
    }

    private void checkElementwise(float[] got, Ref ref) {
        SplittableRandom r = new SplittableRandom(3);
        for (int t = 0; t < 256; t++) {
            int i = r.nextInt(got.length);
            float want = ref.at(i);
            if (!(Math.abs(got[i] - want) <= 1e-6f * Math.abs(want) + 1e-7f)) {
                throw new IllegalStateException("element " + i + " = " + got[i] + ", reference " + want);
            }
        }
    }

    private void checkMaxPool(float[] x, float[] got) {
        SplittableRandom r = new SplittableRandom(5);
        for (int t = 0; t < 256; t++) {
            int n = r.nextInt(batch);
            int p = r.nextInt(POOL_OUT);
            int q = r.nextInt(POOL_OUT);
            int c = r.nextInt(POOL_C);
            float m = Float.NEGATIVE_INFINITY;
            for (int i = 2 * p - 1; i <= 2 * p + 1; i++) {
                for (int j = 2 * q - 1; j <= 2 * q + 1; j++) {
                    if (i >= 0 && i < POOL_HW && j >= 0 && j < POOL_HW) {
                        m = Math.max(m, x[((n * POOL_HW + i) * POOL_HW + j) * POOL_C + c]);
                    }
                }
            }
            float g = got[((n * POOL_OUT + p) * POOL_OUT + q) * POOL_C + c];
            if (g != m) {
                throw new IllegalStateException("maxpool y[" + n + "," + p + "," + q + "," + c + "] = " + g + ", reference " + m);
            }
        }
    }

    private void checkPoolFc(float[] x, float[] w, float[] bias, float[] got) {
        SplittableRandom r = new SplittableRandom(9);
        int hw = HEAD_HW * HEAD_HW;
        for (int t = 0; t < 16; t++) {
            int n = r.nextInt(batch);
            int k = r.nextInt(CLASSES);
            double acc = bias[k];
            double mag = Math.abs(bias[k]);
            for (int c = 0; c < HEAD_C; c++) {
                double s = 0;
                for (int i = 0; i < hw; i++) {
                    s += x[(n * hw + i) * HEAD_C + c];
                }
                acc += s / hw * w[k * HEAD_C + c];
                mag += Math.abs(s / hw * w[k * HEAD_C + c]);
            }
            float g = got[n * CLASSES + k];
            if (!(Math.abs(g - acc) <= 1e-4 * mag + 1e-6)) {
                throw new IllegalStateException("pool+fc y[" + n + "," + k + "] = " + g + ", reference " + acc);
            }
        }
    }

    /** libgomp's team size is per calling thread: re-apply it if JMH calls from another thread than setup's. */
    private void guard() {
        if (Thread.currentThread() != owner) {
            Native.applyThreads(threads);
            owner = Thread.currentThread();
        }
    }

    @Benchmark
    public int maxPool(Rate rate) {
        guard();
        rate.gbytes += gbPerCall;
        return maxPoolCall();
    }

    @Benchmark
    public int bnRelu(Rate rate) {
        guard();
        rate.gbytes += gbPerCall;
        return bnReluCall();
    }

    @Benchmark
    public int addRelu(Rate rate) {
        guard();
        rate.gbytes += gbPerCall;
        return addReluCall();
    }

    @Benchmark
    public int poolFc(Rate rate) {
        guard();
        rate.gbytes += gbPerCall;
        return poolFcCall();
    }

    @Benchmark
    public int avgPool(Rate rate) {
        guard();
        rate.gbytes += gbPerCall;
        return avgPoolCall();
    }

    @Benchmark
    public int nchwToNhwc(Rate rate) {
        guard();
        rate.gbytes += gbPerCall;
        return nchwToNhwcCall();
    }

    @Benchmark
    public int preprocessU8(Rate rate) {
        guard();
        rate.gbytes += gbPerCall;
        return preprocessCall();
    }

    @Benchmark
    public int resampleNormalize(Rate rate, ImageRate img) {
        guard();
        rate.gbytes += gbPerCall;
        img.images += batch;
        return resampleCall();
    }

    @Benchmark
    public void copyRef(Rate rate) {
        guard();
        rate.gbytes += gbPerCall;
        copy();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (mem != null) {
            mem.close();
        }
        if (image != null) {
            image.close();
            taps.close();
        }
        if (u8 != null) {
            u8.close();
        }
    }
}
