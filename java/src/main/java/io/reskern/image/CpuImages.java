package io.reskern.image;

import io.reskern.ReskernException;
import io.reskern.nativelib.CpuOps;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;

/**
 * Images → model input on the CPU, with {@code rk_cpu_resample_normalize_u8} (resize + crop + normalise in one
 * pass). {@link #preprocessInto} writes one image into a slot of a native NHWC batch buffer (what a predictor uses);
 * {@link #nchw} / {@link #nhwc} / {@link #loadNchw} build a whole {@code float[]} batch, e.g. for
 * {@code Model.predict(nchw, n, cropHeight, cropWidth)}. Thread-safe (no shared state).
 */
public final class CpuImages {
    private CpuImages() {
    }

    /**
     * Preprocesses one image into {@code y}, the native address of {@code P·Q·3} floats (NHWC, one batch slot),
     * with {@code P × Q} = the plan's output size. The pixels and the plan are staged in native memory for the call
     * (one copy of the bytes the image spans).
     *
     * @throws IllegalArgumentException if the plan was made for another image size
     */
    public static void preprocessInto(RgbImage img, ResamplePlan plan, long y) throws ReskernException {
        Objects.requireNonNull(img, "image");
        if (plan.inHeight() != img.height() || plan.inWidth() != img.width()) {
            throw new IllegalArgumentException("plan for " + plan.inHeight() + "x" + plan.inWidth() + " used on a "
                    + img.height() + "x" + img.width() + " image");
        }
        if (y == 0) {
            throw new IllegalArgumentException("null output address");
        }
        try (BytePointer staging = new BytePointer(stagingBytes(img, plan))) {
            if (staging.isNull()) {
                throw new ReskernException(ReskernException.ErrorCode.OUT_OF_MEMORY, img.source() + ": no native memory for "
                        + img.spanBytes() + " pixel bytes");
            }
            preprocessInto(img, plan, y, staging);
        }
    }

    /** Native staging bytes {@link #preprocessInto(RgbImage, ResamplePlan, long, BytePointer)} needs: pixels + taps. */
    public static long stagingBytes(RgbImage img, ResamplePlan plan) {
        return (img.spanBytes() + 63) / 64 * 64 + plan.packedBytes();
    }

    /**
     * As {@link #preprocessInto(RgbImage, ResamplePlan, long)}, staging the pixels and the plan in {@code staging}
     * (at least {@link #stagingBytes} bytes; a caller-owned buffer reused from call to call).
     */
    public static void preprocessInto(RgbImage img, ResamplePlan plan, long y, BytePointer staging) throws ReskernException {
        long span = img.spanBytes();
        long tapsAt = (span + 63) / 64 * 64;
        if (staging.capacity() < tapsAt + plan.packedBytes()) {
            throw new IllegalArgumentException("staging of " + staging.capacity() + " bytes, need " + stagingBytes(img, plan));
        }
        staging.position(0).put(img.data(), img.offset(), Math.toIntExact(span));
        ByteBuffer tb = staging.position(tapsAt).limit(tapsAt + plan.packedBytes()).asBuffer();
        plan.pack(tb);
        staging.position(0).limit(staging.capacity());
        ResamplePlan.Addresses a = plan.addresses(staging.address() + tapsAt);
        int st = CpuOps.resampleNormalizeU8(staging.address(), img.height(), img.width(), img.rowStride(), img.pixelStride(),
                img.channelOffset(0), img.channelOffset(1), img.channelOffset(2), a.ys(), a.ny(), a.wy(),
                plan.rows().maxTaps(), a.xs(), a.nx(), a.wx(), plan.cols().maxTaps(), a.mean(), a.std(), y,
                plan.outHeight(), plan.outWidth());
        if (st != 0) {
            throw new ReskernException(ReskernException.fromNative(st), img.source() + ": " + CpuOps.lastError());
        }
    }

    /** One image → {@code float[P·Q·3]} NHWC. */
    public static float[] nhwc(RgbImage img, Preprocess pre) throws ReskernException {
        return batch(List.of(img), pre, false);
    }

    /** Images → one NHWC batch {@code [N, cropHeight, cropWidth, 3]}. */
    public static float[] nhwc(List<RgbImage> images, Preprocess pre) throws ReskernException {
        return batch(images, pre, false);
    }

    /** Images → one NCHW batch {@code [N, 3, cropHeight, cropWidth]}, the layout {@code Model.predict} takes. */
    public static float[] nchw(List<RgbImage> images, Preprocess pre) throws ReskernException {
        return batch(images, pre, true);
    }

    /** Decodes JPEG/PNG files and preprocesses them into one NCHW batch {@code [N, 3, cropHeight, cropWidth]}. */
    public static float[] loadNchw(List<Path> files, Preprocess pre, ImageDecoder decoder) throws ReskernException {
        List<RgbImage> images = new ArrayList<>(files.size());
        for (Path f : files) {
            images.add(decoder.decode(f));
        }
        return nchw(images, pre);
    }

    private static float[] batch(List<RgbImage> images, Preprocess pre, boolean nchw) throws ReskernException {
        if (images.isEmpty()) {
            throw new IllegalArgumentException("no images");
        }
        int p = pre.cropHeight();
        int q = pre.cropWidth();
        int per = p * q * 3; // <= 3 * 2^28 (Preprocess.MAX_SIDE = 2^14)
        long total = (long) per * images.size();
        if (total > Integer.MAX_VALUE - 8) { // was an ArithmeticException ("integer overflow") from multiplyExact
            throw new IllegalArgumentException(images.size() + " images of 3x" + p + "x" + q + " are " + total
                    + " floats, more than one Java array holds: use smaller batches");
        }
        float[] out = new float[(int) total];
        float[] slot = nchw ? new float[per] : null;
        try (FloatPointer y = new FloatPointer(per)) {
            for (int n = 0; n < images.size(); n++) {
                RgbImage img = images.get(n);
                preprocessInto(img, pre.plan(img.height(), img.width()), y.address());
                if (!nchw) {
                    y.position(0).get(out, n * per, per);
                    continue;
                }
                y.position(0).get(slot, 0, per);
                int base = n * per;
                int plane = p * q;
                for (int i = 0; i < plane; i++) {
                    out[base + i] = slot[3 * i];
                    out[base + plane + i] = slot[3 * i + 1];
                    out[base + 2 * plane + i] = slot[3 * i + 2];
                }
            }
        }
        return out;
    }
}
