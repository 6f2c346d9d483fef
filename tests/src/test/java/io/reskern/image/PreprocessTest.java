package io.reskern.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.reskern.ops.Reference;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The preprocessing rules (torchvision's Resize(int) sizes, CenterCrop offsets with half-to-even rounding and zero
 * padding), the properties of the antialiased taps, and the CPU batch helpers (NCHW = transposed NHWC, per-image
 * plans). The taps' values are checked against torch in {@link ImageGoldenTest}.
 */
class PreprocessTest {
    /** A batch no Java array holds was an ArithmeticException ("integer overflow") from Math.multiplyExact (apiaudit). */
    @Test
    void aBatchNoArrayHoldsIsAnIllegalArgument() {
        Preprocess big = new Preprocess(0, Preprocess.MAX_SIDE, Preprocess.MAX_SIDE, Preprocess.IMAGENET_MEAN,
                Preprocess.IMAGENET_STD);
        RgbImage px = RgbImage.ofRgb(new byte[3], 1, 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CpuImages.nchw(List.of(px, px, px), big));
        assertTrue(e.getMessage().contains("more than one Java array holds"), e.getMessage());
    }

    @Test
    void resizeShorterSideLikeTorchvision() {
        Preprocess p = Preprocess.imagenet();
        assertArrayEquals(new int[] {256, 341}, p.resizedSize(375, 500));
        assertArrayEquals(new int[] {341, 256}, p.resizedSize(500, 375));
        assertArrayEquals(new int[] {256, 256}, p.resizedSize(300, 300));
        assertArrayEquals(new int[] {256, 257}, p.resizedSize(256, 257));
        assertArrayEquals(new int[] {256, 2844}, p.resizedSize(90, 1000)); // int(256 * 1000 / 90) = int(2844.44)
        assertArrayEquals(new int[] {256, 256000}, p.resizedSize(1, 1000));
        assertArrayEquals(new int[] {28, 40}, Preprocess.cifar().resizedSize(28, 40), "no resize");
    }

    @Test
    void centreCropOffsetsRoundHalfToEvenAndPadLikeTorchvision() {
        assertEquals(16, Preprocess.cropOffset(257, 224), "round(16.5) = 16 in Python");
        assertEquals(18, Preprocess.cropOffset(259, 224), "round(17.5) = 18");
        assertEquals(58, Preprocess.cropOffset(341, 224), "round(58.5) = 58");
        assertEquals(0, Preprocess.cropOffset(224, 224));
        assertEquals(-2, Preprocess.cropOffset(20, 24), "pad (24-20)//2 = 2 on top");
        assertEquals(-1, Preprocess.cropOffset(21, 24), "pad (24-21)//2 = 1 on top, 2 below");
    }

    @Test
    void tapsAreNormalisedInsideTheImageAndTrimmed() {
        for (int[] c : new int[][] {{500, 341, 224, 58}, {375, 256, 224, 16}, {1200, 279, 224, 28}, {50, 320, 224, 48},
                                    {9, 40, 32, 4}, {1, 5, 5, 0}, {1000, 3, 3, 0}, {7, 7, 7, 0}}) {
            Taps t = Taps.antialiasBilinear(c[0], c[1], c[2], c[3]);
            double scale = (double) c[0] / c[1];
            int bound = (int) Math.ceil(2 * Math.max(scale, 1)) + 1;
            assertTrue(t.maxTaps() <= bound, "taps " + t.maxTaps() + " > " + bound);
            for (int o = 0; o < t.size(); o++) {
                double sum = 0;
                assertTrue(t.count()[o] >= 1 && t.start()[o] >= 0 && t.start()[o] + t.count()[o] <= c[0]);
                for (int i = 0; i < t.count()[o]; i++) {
                    assertTrue(t.weight(o, i) > 0, "zero weights are trimmed");
                    sum += t.weight(o, i);
                }
                for (int i = t.count()[o]; i < t.maxTaps(); i++) {
                    assertEquals(0f, t.weight(o, i), "padding");
                }
                assertEquals(1.0, sum, 1e-6);
            }
        }
        Taps id = Taps.antialiasBilinear(7, 7, 7, 0);
        assertEquals(1, id.maxTaps());
        for (int o = 0; o < 7; o++) {
            assertEquals(o, id.start()[o]);
            assertEquals(1f, id.weight(o, 0));
        }
        Taps padded = Taps.antialiasBilinear(20, 20, 24, -2);
        assertEquals(0, padded.count()[0]);
        assertEquals(0, padded.count()[1]);
        assertEquals(1, padded.count()[2]);
        assertEquals(0, padded.start()[2]);
        assertEquals(0, padded.count()[22]);
    }

    @Test
    void presetsAndValidation() {
        Preprocess in = Preprocess.imagenet();
        assertEquals(256, in.resizeShorter());
        assertEquals(224, in.cropHeight());
        assertArrayEquals(new float[] {0.485f, 0.456f, 0.406f}, in.mean());
        assertArrayEquals(new float[] {0.229f, 0.224f, 0.225f}, in.std());
        Preprocess c = Preprocess.cifar();
        assertEquals(0, c.resizeShorter());
        assertEquals(32, c.cropWidth());
        assertArrayEquals(in.mean(), c.mean(), "the CIFAR-10 nets were trained with the ImageNet mean/std");
        assertEquals(in, Preprocess.imagenet());
        assertEquals(in.hashCode(), Preprocess.imagenet().hashCode());
        assertNotEquals(in, c);
        float[] m = in.mean();
        m[0] = 9;
        assertEquals(0.485f, in.mean()[0], "defensive copies");
        assertThrows(IllegalArgumentException.class, () -> new Preprocess(256, 224, 224, new float[] {0, 0, 0}, new float[] {1, 0, 1}));
        assertThrows(IllegalArgumentException.class, () -> new Preprocess(-1, 224, 224, in.mean(), in.std()));
        assertThrows(IllegalArgumentException.class, () -> new Preprocess(256, 0, 224, in.mean(), in.std()));
        assertThrows(IllegalArgumentException.class, () -> new Preprocess(256, 224, 224, new float[2], in.std()));
        assertThrows(IllegalArgumentException.class, () -> in.plan(0, 5));
    }

    @Test
    void batchHelpersAgreeWithTheReferenceAndEachOther() throws Exception {
        Random rnd = new Random(3);
        byte[] a = new byte[41 * 57 * 3];
        byte[] b = new byte[30 * 20];
        rnd.nextBytes(a);
        rnd.nextBytes(b);
        RgbImage ia = RgbImage.ofRgb(a, 41, 57);
        RgbImage ib = RgbImage.ofGray(b, 30, 20);
        Preprocess pre = new Preprocess(36, 32, 32, Preprocess.IMAGENET_MEAN, Preprocess.IMAGENET_STD);
        float[] nhwc = CpuImages.nhwc(List.of(ia, ib), pre);
        float[] nchw = CpuImages.nchw(List.of(ia, ib), pre);
        int per = 32 * 32 * 3;
        assertEquals(2 * per, nhwc.length);
        double[] refA = Reference.resampleNormalizeU8(a, 57 * 3, 3, new int[] {0, 1, 2}, pre.plan(41, 57));
        double[] refB = Reference.resampleNormalizeU8(b, 20, 1, new int[] {0, 0, 0}, pre.plan(30, 20));
        for (int i = 0; i < per; i++) {
            assertEquals(refA[i], nhwc[i], 1e-5);
            assertEquals(refB[i], nhwc[per + i], 1e-5);
        }
        for (int n = 0; n < 2; n++) {
            for (int c = 0; c < 3; c++) {
                for (int i = 0; i < 32 * 32; i++) {
                    assertEquals(nhwc[n * per + 3 * i + c], nchw[n * per + c * 1024 + i]);
                }
            }
        }
        assertThrows(IllegalArgumentException.class, () -> CpuImages.preprocessInto(ia, pre.plan(40, 57), 16));
        assertThrows(IllegalArgumentException.class, () -> CpuImages.nchw(List.of(), pre));
    }

    @Test
    void subImagesAndStridedLayoutsNeedNoCopy() throws Exception {
        Random rnd = new Random(5);
        int h = 50;
        int w = 61;
        int rs = w * 4 + 9;
        byte[] buf = new byte[7 + h * rs];
        rnd.nextBytes(buf);
        // ABGR pixels from byte 7 on, rows padded: the same pixels as a packed RGB copy must give the same output
        RgbImage strided = new RgbImage(buf, 7, h, w, rs, 4, 3, 2, 1, "strided");
        RgbImage packed = RgbImage.ofRgb(strided.toRgb(), h, w);
        Preprocess pre = new Preprocess(40, 33, 35, Preprocess.IMAGENET_MEAN, Preprocess.IMAGENET_STD);
        assertArrayEquals(CpuImages.nhwc(packed, pre), CpuImages.nhwc(strided, pre));
        assertThrows(IllegalArgumentException.class, () -> new RgbImage(buf, 7, h + 1, w, rs, 4, 3, 2, 1, "too tall"));
        assertThrows(IllegalArgumentException.class, () -> new RgbImage(buf, 0, h, w, rs, 4, 4, 2, 1, "offset >= stride"));
    }
}
