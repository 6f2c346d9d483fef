package io.reskern.ops;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reskern.ReskernException;
import io.reskern.image.Preprocess;
import io.reskern.image.ResamplePlan;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;

/**
 * The op test cases, shared by every backend (ggml's test-backend-ops idea): each case makes random inputs (never
 * zeros), runs the op on an {@link OpRunner} and on {@link Reference} (float64), and asserts
 * ‖out−ref‖/‖ref‖ ≤ the runner's tolerance. Inputs are rounded to the runner's storage precision first, so the
 * reference sees exactly what the backend sees.
 *
 * <p>How to add an op: a method in {@link OpRunner}, its formula in {@link Reference}, a case list here.
 */
public final class OpCases {
    private OpCases() {
    }

    /** One convolution problem. */
    public record ConvCase(String name, int n, int h, int w, int c, int k, int r, int stride, int pad, int groups,
                           int resMode, boolean relu, boolean withScaleShift) {
        int p() {
            return (h + 2 * pad - r) / stride + 1;
        }

        int q() {
            return (w + 2 * pad - r) / stride + 1;
        }

        @Override
        public String toString() {
            return String.format("%s n%d %dx%dx%d->%d %dx%d/%d p%d g%d res%d%s", name, n, h, w, c, k, r, r, stride, pad, groups,
                    resMode, relu ? " relu" : "");
        }
    }

    /** Odd shapes, every stride/pad/groups/residual combination ResNets use, and edge cases. */
    public static List<ConvCase> oddConvCases() {
        List<ConvCase> l = new ArrayList<>();
        l.add(new ConvCase("odd3x3", 2, 7, 5, 3, 10, 3, 1, 1, 1, 0, true, true));
        l.add(new ConvCase("odd3x3s2", 1, 9, 11, 13, 17, 3, 2, 1, 1, 0, false, true));
        l.add(new ConvCase("odd1x1", 3, 5, 3, 7, 9, 1, 1, 0, 1, 1, true, true));
        l.add(new ConvCase("odd1x1s2", 2, 9, 7, 12, 20, 1, 2, 0, 1, 0, false, true));
        l.add(new ConvCase("stem7x7", 1, 37, 29, 3, 16, 7, 2, 3, 1, 0, true, true));
        l.add(new ConvCase("cifarstem", 2, 33, 31, 3, 16, 3, 1, 1, 1, 0, true, true));
        l.add(new ConvCase("residual-id", 2, 8, 8, 16, 16, 3, 1, 1, 1, 1, true, true));
        l.add(new ConvCase("residual-id-noscale", 1, 6, 6, 16, 16, 3, 1, 1, 1, 1, false, false));
        l.add(new ConvCase("optionA", 2, 8, 8, 16, 32, 3, 1, 1, 1, 2, true, true));
        l.add(new ConvCase("optionA-odd", 1, 9, 7, 16, 32, 3, 1, 1, 1, 2, true, true));
        l.add(new ConvCase("groups2", 1, 6, 7, 8, 12, 3, 1, 1, 2, 0, true, true));
        l.add(new ConvCase("groups32", 1, 9, 9, 128, 128, 3, 2, 1, 32, 0, true, true));
        l.add(new ConvCase("depthwise", 1, 5, 5, 8, 8, 3, 1, 1, 8, 0, false, true));
        // grouped vector kernels (C/groups == K/groups): AVX2 8 lanes, AVX-512 16 lanes; permute (kg < lanes) and
        // broadcast (kg a multiple of the lanes) paths, pixel counts not a multiple of the 6- or 8-pixel tile
        l.add(new ConvCase("groups-kg2-res", 2, 7, 5, 16, 16, 3, 1, 1, 8, 1, true, true));
        l.add(new ConvCase("groups-kg8-res", 1, 7, 6, 64, 64, 3, 1, 1, 8, 1, true, true));
        l.add(new ConvCase("groups-kg16-s2", 2, 9, 7, 64, 64, 3, 2, 1, 4, 0, true, true));
        l.add(new ConvCase("groups-kg32", 1, 5, 3, 64, 64, 3, 1, 1, 2, 0, false, true));
        l.add(new ConvCase("groups-kg4-optionA", 1, 6, 5, 32, 32, 3, 1, 1, 8, 2, true, true));
        l.add(new ConvCase("depthwise-optionA", 2, 4, 5, 24, 24, 3, 1, 1, 24, 2, true, false));
        l.add(new ConvCase("groups-kg6-generic", 1, 5, 5, 48, 48, 3, 1, 1, 8, 0, true, true));
        // AVX2 two-vector path (vectors 2j, 2j+1 together): kg = 24 pairs one group (shared broadcasts) and then two
        // groups; 10x10 pixels on 2 threads split the 6 vectors 3 + 3, so a task also starts at an odd vector
        l.add(new ConvCase("groups-kg24-pairs-res", 1, 10, 10, 48, 48, 3, 1, 1, 2, 1, true, true));
        l.add(new ConvCase("groups-kg8-pairs-optionA", 1, 10, 10, 48, 48, 3, 1, 1, 6, 2, true, false));
        l.add(new ConvCase("1x1-pixel", 4, 1, 1, 64, 33, 1, 1, 0, 1, 0, true, true));
        l.add(new ConvCase("wideK", 1, 3, 3, 32, 129, 1, 1, 0, 1, 0, true, true));
        l.add(new ConvCase("longC", 1, 4, 4, 515, 24, 3, 1, 1, 1, 0, true, true));
        // 3x3 stride 1 with 64 <= C <= 256: the CPU's Winograd paths, F(4x4,3x3) for C <= 128 and F(2x2,3x3) above
        // (tiles cut by P/Q of every remainder mod 4, ragged K and C, every residual mode, pads 0 and 2, a 1x1 image,
        // C in two reduction blocks on AVX-512)
        l.add(new ConvCase("wino-odd", 2, 7, 5, 72, 40, 3, 1, 1, 1, 0, true, true));
        l.add(new ConvCase("wino4-13x10-res", 1, 13, 10, 128, 136, 3, 1, 1, 1, 1, true, true));
        l.add(new ConvCase("wino4-optionA", 2, 5, 7, 128, 256, 3, 1, 1, 1, 2, true, true));
        l.add(new ConvCase("wino2-odd", 2, 7, 5, 160, 40, 3, 1, 1, 1, 0, true, true));
        l.add(new ConvCase("wino2-res-id", 1, 9, 11, 144, 144, 3, 1, 1, 1, 1, true, true));
        l.add(new ConvCase("wino2-optionA", 1, 6, 7, 192, 384, 3, 1, 1, 1, 2, true, false));
        // C not a multiple of 8: the transforms' per-channel tail after the 8-channel vector steps
        l.add(new ConvCase("wino4-c70", 2, 6, 9, 70, 24, 3, 1, 1, 1, 1, true, true));
        l.add(new ConvCase("wino2-c150", 1, 7, 6, 150, 40, 3, 1, 1, 1, 0, true, true));
        l.add(new ConvCase("wino-res-id", 1, 9, 11, 64, 64, 3, 1, 1, 1, 1, true, true));
        l.add(new ConvCase("wino-optionA", 2, 6, 7, 64, 128, 3, 1, 1, 1, 2, true, true));
        l.add(new ConvCase("wino-pad0", 1, 8, 9, 96, 24, 3, 1, 0, 1, 0, false, true));
        l.add(new ConvCase("wino-pad2", 1, 5, 6, 80, 48, 3, 1, 2, 1, 1, true, false));
        l.add(new ConvCase("wino-1x1-image", 3, 1, 1, 64, 16, 3, 1, 1, 1, 0, true, true));
        l.add(new ConvCase("wino-c200", 1, 5, 5, 200, 72, 3, 1, 1, 1, 0, true, true));
        l.add(new ConvCase("wino-c256", 2, 4, 3, 256, 32, 3, 1, 1, 1, 1, false, true));
        // 256 < C <= 512: F(2x2,3x3) only when the pack is told the output has >= 196 pixels (14x14; the runner passes
        // P*Q); 195 pixels stays direct
        l.add(new ConvCase("wino2-c320-14x14", 1, 14, 14, 320, 48, 3, 1, 1, 1, 0, true, true));
        l.add(new ConvCase("wino2-c512-res", 1, 14, 15, 512, 40, 3, 1, 1, 1, 1, true, true));
        l.add(new ConvCase("direct-c320-195px", 1, 13, 15, 320, 24, 3, 1, 1, 1, 0, true, true));
        // an output of >= 16 MiB: the CPU kernel writes it with non-temporal stores (ragged last panel: masked)
        l.add(new ConvCase("stream-out", 1, 64, 64, 32, 1032, 1, 1, 0, 1, 1, true, true));
        return l;
    }

    /** Every distinct convolution of ResNet-50 (v1.5) at 224², batch n. */
    public static List<ConvCase> resnet50ConvCases(int n) {
        List<ConvCase> l = new ArrayList<>();
        l.add(new ConvCase("r50.stem", n, 224, 224, 3, 64, 7, 2, 3, 1, 0, true, true));
        int[] widths = {64, 128, 256, 512};
        int[] sizes = {56, 28, 14, 7};
        int in = 64;
        for (int s = 0; s < 4; s++) {
            int wd = widths[s];
            int hw = sizes[s];
            int prev = s == 0 ? 56 : sizes[s - 1];
            int stride = s == 0 ? 1 : 2;
            String p = "r50.s" + (s + 1);
            l.add(new ConvCase(p + ".reduce.first", n, prev, prev, in, wd, 1, 1, 0, 1, 0, true, true));
            l.add(new ConvCase(p + ".3x3.first", n, prev, prev, wd, wd, 3, stride, 1, 1, 0, true, true));
            l.add(new ConvCase(p + ".proj", n, prev, prev, in, wd * 4, 1, stride, 0, 1, 0, false, true));
            l.add(new ConvCase(p + ".expand", n, hw, hw, wd, wd * 4, 1, 1, 0, 1, 1, true, true));
            l.add(new ConvCase(p + ".reduce", n, hw, hw, wd * 4, wd, 1, 1, 0, 1, 0, true, true));
            l.add(new ConvCase(p + ".3x3", n, hw, hw, wd, wd, 3, 1, 1, 1, 0, true, true));
            in = wd * 4;
        }
        return l;
    }

    static float[] random(Random rnd, int len, OpRunner r) {
        float[] a = new float[len];
        for (int i = 0; i < len; i++) {
            a[i] = r.round((float) rnd.nextGaussian());
        }
        return a;
    }

    static float[] positive(Random rnd, int len) {
        float[] a = new float[len];
        for (int i = 0; i < len; i++) {
            a[i] = 0.5f + rnd.nextFloat();
        }
        return a;
    }

    static void assertClose(String what, float[] out, double[] ref, double tol) {
        double e = Reference.relError(out, ref);
        assertTrue(e <= tol, () -> String.format("%s: rel error %.3g > %.1g", what, e, tol));
    }

    /** Runs one conv case on a runner against the reference; returns the relative error. */
    public static double runConv(OpRunner runner, ConvCase cc, long seed) throws ReskernException {
        Random rnd = new Random(seed);
        int p = cc.p();
        int q = cc.q();
        float[] x = random(rnd, cc.n() * cc.h() * cc.w() * cc.c(), runner);
        float[] wt = random(rnd, cc.k() * cc.r() * cc.r() * (cc.c() / cc.groups()), runner);
        for (int i = 0; i < wt.length; i++) {
            wt[i] = runner.round(wt[i] * (float) Math.sqrt(2.0 / (cc.r() * cc.r() * cc.c() / cc.groups())));
        }
        float[] scale = cc.withScaleShift() ? positive(rnd, cc.k()) : null;
        float[] shift = cc.withScaleShift() ? random(rnd, cc.k(), r -> r) : null;
        int rh = 0;
        int rw = 0;
        int rc = 0;
        float[] res = null;
        if (cc.resMode() == 1) {
            rh = p;
            rw = q;
            rc = cc.k();
        } else if (cc.resMode() == 2) {
            rh = 2 * p;
            rw = 2 * q - 1;
            rc = cc.k() / 2;
        }
        if (cc.resMode() != 0) {
            res = random(rnd, cc.n() * rh * rw * rc, runner);
        }
        float[] out = runner.conv(x, cc.n(), cc.h(), cc.w(), cc.c(), wt, cc.k(), cc.r(), cc.r(), cc.stride(), cc.pad(),
                cc.pad(), cc.groups(), scale, shift, res, cc.resMode(), rh, rw, rc, cc.relu(), p, q);
        double[] ref = Reference.conv(x, cc.n(), cc.h(), cc.w(), cc.c(), wt, cc.k(), cc.r(), cc.r(), cc.stride(), cc.pad(),
                cc.pad(), cc.groups(), scale, shift, res, cc.resMode(), rh, rw, rc, cc.relu(), p, q);
        double e = Reference.relError(out, ref);
        assertTrue(e <= runner.tolerance(), () -> String.format("%s on %s: rel error %.3g > %.1g", cc, runner.name(), e,
                runner.tolerance()));
        return e;
    }

    private interface Rounder {
        float round(float v);
    }

    private static float[] random(Random rnd, int len, Rounder r) {
        float[] a = new float[len];
        for (int i = 0; i < len; i++) {
            a[i] = r.round((float) rnd.nextGaussian());
        }
        return a;
    }

    /** Dynamic tests: every conv case (odd + ResNet-50 shapes at batch {@code r50Batch}) on a runner. */
    public static Stream<DynamicTest> convTests(OpRunner runner, int r50Batch) {
        List<ConvCase> cases = new ArrayList<>(oddConvCases());
        if (r50Batch > 0) {
            cases.addAll(resnet50ConvCases(r50Batch));
        }
        long[] seed = {1};
        return cases.stream().map(cc -> DynamicTest.dynamicTest(cc.toString(), () -> {
            double e = runConv(runner, cc, seed[0]++);
            System.out.printf("[conv] %s %s: rel error %.2e%n", runner.name(), cc, e);
        }));
    }

    /** Dynamic tests: every non-conv op on odd shapes. */
    public static Stream<DynamicTest> otherOpTests(OpRunner runner) {
        double tol = Math.max(runner.tolerance(), 1e-6);
        List<DynamicTest> t = new ArrayList<>();
        for (int[] s : new int[][] {{1, 7, 5, 3}, {2, 9, 9, 64}, {1, 112, 112, 64}, {3, 4, 6, 17}}) {
            int n = s[0];
            int h = s[1];
            int w = s[2];
            int c = s[3];
            String shape = n + "x" + h + "x" + w + "x" + c;
            t.add(DynamicTest.dynamicTest("bn_relu " + shape, () -> {
                Random rnd = new Random(h * 31 + c);
                float[] x = random(rnd, n * h * w * c, runner);
                float[] sc = positive(rnd, c);
                float[] sh = random(rnd, c, r -> r);
                for (boolean relu : new boolean[] {true, false}) {
                    assertClose("bn_relu", runner.bnRelu(x, n * h * w, c, sc, sh, relu),
                            Reference.bnRelu(x, n * h * w, c, sc, sh, relu), tol);
                }
            }));
            t.add(DynamicTest.dynamicTest("add_relu " + shape, () -> {
                Random rnd = new Random(h * 37 + c);
                float[] a = random(rnd, n * h * w * c, runner);
                float[] b = random(rnd, n * h * w * c, runner);
                for (boolean relu : new boolean[] {true, false}) {
                    assertClose("add_relu", runner.addRelu(a, b, relu), Reference.addRelu(a, b, relu), tol);
                }
            }));
            t.add(DynamicTest.dynamicTest("maxpool 3x3/2 pad1 " + shape, () -> {
                Random rnd = new Random(h * 41 + c);
                float[] x = random(rnd, n * h * w * c, runner);
                for (int i = 0; i < x.length; i++) {
                    x[i] = runner.round(x[i] - 10); // all negative: zero padding would win, -inf must not
                }
                int p = (h + 2 - 3) / 2 + 1;
                int q = (w + 2 - 3) / 2 + 1;
                assertClose("maxpool", runner.maxPool(x, n, h, w, c, 3, 3, 2, 1, 1, p, q),
                        Reference.maxPool(x, n, h, w, c, 3, 3, 2, 1, 1, p, q), 0);
            }));
            t.add(DynamicTest.dynamicTest("maxpool ceil_mode " + shape, () -> {
                Random rnd = new Random(h * 47 + c);
                float[] x = random(rnd, n * h * w * c, runner);
                for (int i = 0; i < x.length; i++) {
                    x[i] = runner.round(x[i] - 10); // all negative: the clipped last window must not see zeros
                }
                // k, s, pad: the Caffe / MSRA stem pool 3x3/2 pad 0, and windows that overhang into the padding
                for (int[] k : new int[][] {{3, 2, 0}, {3, 3, 1}, {2, 2, 1}}) {
                    int p = ceilModeOut(h, k[0], k[1], k[2]);
                    int q = ceilModeOut(w, k[0], k[1], k[2]);
                    assertClose("maxpool ceil " + Arrays.toString(k), runner.maxPool(x, n, h, w, c, k[0], k[0], k[1], k[2],
                            k[2], p, q), Reference.maxPool(x, n, h, w, c, k[0], k[0], k[1], k[2], k[2], p, q), 0);
                }
            }));
            t.add(DynamicTest.dynamicTest("avgpool 2x2/2 ceil no-pad-count " + shape, () -> {
                Random rnd = new Random(h * 43 + c);
                float[] x = random(rnd, n * h * w * c, runner);
                int p = (h - 2 + 1) / 2 + 1;
                int q = (w - 2 + 1) / 2 + 1;
                p = Math.max(1, (p - 1) * 2 >= h ? p - 1 : p);
                q = Math.max(1, (q - 1) * 2 >= w ? q - 1 : q);
                assertClose("avgpool", runner.avgPool(x, n, h, w, c, 2, 2, 2, 0, 0, false, p, q),
                        Reference.avgPool(x, n, h, w, c, 2, 2, 2, 0, 0, false, p, q), tol);
            }));
            t.add(DynamicTest.dynamicTest("avgpool 3x3/2 pad1 count-pad " + shape, () -> {
                Random rnd = new Random(h * 47 + c);
                float[] x = random(rnd, n * h * w * c, runner);
                int p = (h + 2 - 3) / 2 + 1;
                int q = (w + 2 - 3) / 2 + 1;
                assertClose("avgpool", runner.avgPool(x, n, h, w, c, 3, 3, 2, 1, 1, true, p, q),
                        Reference.avgPool(x, n, h, w, c, 3, 3, 2, 1, 1, true, p, q), tol);
            }));
            t.add(DynamicTest.dynamicTest("global_avgpool " + shape, () -> {
                Random rnd = new Random(h * 53 + c);
                float[] x = random(rnd, n * h * w * c, runner);
                assertClose("gap", runner.globalAvgPool(x, n, h * w, c), Reference.globalAvgPool(x, n, h * w, c), tol);
            }));
            t.add(DynamicTest.dynamicTest("nchw_to_nhwc " + shape, () -> {
                Random rnd = new Random(h * 59 + c);
                float[] x = random(rnd, n * h * w * c, r -> r);
                assertClose("layout", runner.nchwToNhwc(x, n, c, h, w), Reference.nchwToNhwc(x, n, c, h, w), tol);
            }));
        }
        for (int[] s : new int[][] {{1, 64, 10}, {3, 2048, 1000}, {2, 17, 5}}) {
            t.add(DynamicTest.dynamicTest("fc " + s[0] + "x" + s[1] + "->" + s[2], () -> {
                Random rnd = new Random(s[1]);
                float[] x = random(rnd, s[0] * s[1], r -> r);
                float[] w = random(rnd, s[1] * s[2], r -> r);
                float[] b = random(rnd, s[2], r -> r);
                assertClose("fc", runner.fc(x, s[0], s[1], w, b, s[2]), Reference.fc(x, s[0], s[1], w, b, s[2]), 1e-5);
                assertClose("fc no bias", runner.fc(x, s[0], s[1], w, null, s[2]), Reference.fc(x, s[0], s[1], w, null, s[2]), 1e-5);
            }));
        }
        t.add(DynamicTest.dynamicTest("preprocess_u8 2x5x7", () -> {
            Random rnd = new Random(7);
            byte[] x = new byte[2 * 5 * 7 * 3];
            rnd.nextBytes(x);
            float[] mean = {0.485f, 0.456f, 0.406f};
            float[] std = {0.229f, 0.224f, 0.225f};
            assertClose("preprocess", runner.preprocessU8(x, 2, 5, 7, mean, std), Reference.preprocessU8(x, mean, std),
                    Math.max(tol, 1e-6));
        }));
        for (ResampleCase rc : resampleCases()) {
            t.add(DynamicTest.dynamicTest("resample_normalize_u8 " + rc, () -> runResample(runner, rc, Math.max(tol, 1e-6))));
        }
        return t.stream();
    }

    /**
     * One image-preprocessing problem: an {@code h × w} image in a pixel layout ({@code pixelStride}, channel offsets;
     * rows padded by {@code rowPad} bytes) through {@code pre} (torch-antialiased resize + crop + normalise).
     */
    public record ResampleCase(String name, int h, int w, int pixelStride, int[] off, int rowPad, Preprocess pre) {
        @Override
        public String toString() {
            return String.format("%s %dx%d ps%d pad%d -> resize %d crop %dx%d", name, h, w, pixelStride, rowPad,
                    pre.resizeShorter(), pre.cropHeight(), pre.cropWidth());
        }
    }

    /** Downscale by 1.x and by more than 4x, upscale, crop offsets, zero padding, every pixel layout, padded rows. */
    public static List<ResampleCase> resampleCases() {
        float[] m = Preprocess.IMAGENET_MEAN;
        float[] s = Preprocess.IMAGENET_STD;
        int[] rgb = {0, 1, 2};
        int[] bgr = {2, 1, 0};
        int[] abgr = {3, 2, 1};
        int[] gray = {0, 0, 0};
        List<ResampleCase> l = new ArrayList<>();
        l.add(new ResampleCase("imagenet-landscape", 375, 500, 3, bgr, 0, Preprocess.imagenet()));
        l.add(new ResampleCase("down1.x-odd", 37, 53, 3, rgb, 5, new Preprocess(29, 23, 27, m, s)));
        l.add(new ResampleCase("down>4x", 301, 413, 4, abgr, 3, new Preprocess(64, 60, 56, m, s)));
        l.add(new ResampleCase("down>4x-portrait-gray", 419, 97, 1, gray, 11, new Preprocess(21, 19, 17, m, s)));
        l.add(new ResampleCase("upscale", 13, 9, 3, rgb, 1, new Preprocess(40, 36, 32, m, s)));
        l.add(new ResampleCase("noresize-pad", 20, 15, 3, bgr, 0, new Preprocess(0, 24, 12, m, s)));
        l.add(new ResampleCase("crop>resized-pad", 30, 41, 3, rgb, 2, new Preprocess(16, 20, 20, m, s)));
        l.add(new ResampleCase("1x1-up", 1, 1, 3, rgb, 0, new Preprocess(5, 5, 5, m, s)));
        l.add(new ResampleCase("thin", 1000, 7, 3, bgr, 0, new Preprocess(3, 3, 3, m, s)));
        l.add(new ResampleCase("cifar-identity", 32, 32, 3, rgb, 0, Preprocess.cifar()));
        return l;
    }

    /** Runs one resample case on a runner against the reference; returns the relative error. */
    public static double runResample(OpRunner runner, ResampleCase rc, double tol) throws ReskernException {
        Random rnd = new Random(rc.h() * 1009L + rc.w());
        int rowStride = rc.w() * rc.pixelStride() + rc.rowPad();
        byte[] x = new byte[rc.h() * rowStride];
        rnd.nextBytes(x);
        ResamplePlan plan = rc.pre().plan(rc.h(), rc.w());
        float[] out = runner.resampleNormalizeU8(x, rc.h(), rc.w(), rowStride, rc.pixelStride(), rc.off(), plan);
        double[] ref = Reference.resampleNormalizeU8(x, rowStride, rc.pixelStride(), rc.off(), plan);
        double e = Reference.relError(out, ref);
        assertTrue(e <= tol, () -> String.format("%s on %s: rel error %.3g > %.1g", rc, runner.name(), e, tol));
        System.out.printf("[resample] %s %s: rel error %.2e%n", runner.name(), rc, e);
        return e;
    }

    /**
     * torch's ceil_mode pool output size: {@code ceil((in + 2 pad - k) / s) + 1}, less one if the last window would
     * start beyond the input and its left padding (GraphTest pins these against torch).
     */
    public static int ceilModeOut(int in, int k, int s, int pad) {
        int out = Math.floorDiv(in + 2 * pad - k + s - 1, s) + 1;
        return (out - 1) * s >= in + pad ? out - 1 : out;
    }
}
