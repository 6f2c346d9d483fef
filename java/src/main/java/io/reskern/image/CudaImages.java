package io.reskern.image;

import io.reskern.ReskernException;
import io.reskern.nativelib.CudaOps;
import java.util.Objects;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;

/**
 * Images → model input on the GPU, with {@code rk_cuda_resample_normalize_u8}. The caller owns the device memory
 * and the stream (an execution context's); this class packs, copies and launches:
 * <pre>{@code
 * ResamplePlan plan = pre.plan(img.height(), img.width());
 * CudaImages.DeviceTaps taps = CudaImages.uploadTaps(plan, tapsDev, tapsCapacity, stream);   // or writeTaps + own copy
 * CudaImages.uploadPixels(img, pixelsDev, pixelsCapacity, stream);                          // or writePixels + own copy
 * CudaImages.resampleNormalize(taps, img, pixelsDev, slotDev, CudaOps.F16, stream);          // y: [P, Q, 3] in F16
 * }</pre>
 * {@code uploadTaps} / {@code uploadPixels} stage through pageable host memory: {@code cudaMemcpyAsync} from
 * pageable memory returns once the bytes are staged (the host buffer is then free), after waiting for the stream's
 * earlier work. To overlap copies with work, write into pinned memory ({@link #writeTaps}, {@link #writePixels}) and
 * copy with {@code CudaOps.memcpyH2D} on the stream yourself. The taps and pixels must stay on the device until the
 * kernel has run (stream order). Requires the CUDA library ({@code NO_DEVICE} otherwise).
 */
public final class CudaImages {
    private CudaImages() {
    }

    /** A plan packed in device memory at {@link #base()}. */
    public record DeviceTaps(ResamplePlan plan, long base, ResamplePlan.Addresses addresses) {
    }

    /** Device (or staging) bytes a plan needs. */
    public static long tapsBytes(ResamplePlan plan) {
        return plan.packedBytes();
    }

    /** Writes the packed plan to host memory at {@code host} ({@link #tapsBytes} bytes, e.g. pinned staging). */
    public static void writeTaps(ResamplePlan plan, long host) {
        try (BytePointer p = at(host, plan.packedBytes())) {
            plan.pack(p.asBuffer());
        }
    }

    /** Addresses of a plan packed (by {@link #writeTaps} + a copy, or {@link #uploadTaps}) at device address {@code dev}. */
    public static DeviceTaps deviceTaps(ResamplePlan plan, long dev) {
        return new DeviceTaps(plan, dev, plan.addresses(dev));
    }

    /** Copies the packed plan to device memory at {@code dev} (capacity {@code capacity} bytes) on {@code stream}. */
    public static DeviceTaps uploadTaps(ResamplePlan plan, long dev, long capacity, long stream) throws ReskernException {
        long n = plan.packedBytes();
        need(n, capacity, "taps");
        try (BytePointer h = new BytePointer(n)) {
            plan.pack(h.asBuffer());
            check(CudaOps.memcpyH2D(dev, h.address(), n, stream), "taps upload");
        }
        return deviceTaps(plan, dev);
    }

    /** Writes the bytes the image spans ({@link RgbImage#spanBytes()}) to host memory at {@code host}. */
    public static void writePixels(RgbImage img, long host) {
        long n = img.spanBytes();
        try (BytePointer p = at(host, n)) {
            p.put(img.data(), img.offset(), Math.toIntExact(n));
        }
    }

    /** Copies the bytes the image spans to device memory at {@code dev} (capacity {@code capacity}) on {@code stream}. */
    public static void uploadPixels(RgbImage img, long dev, long capacity, long stream) throws ReskernException {
        long n = img.spanBytes();
        need(n, capacity, "pixels");
        try (BytePointer h = new BytePointer(n)) {
            h.put(img.data(), img.offset(), Math.toIntExact(n));
            check(CudaOps.memcpyH2D(dev, h.address(), n, stream), "pixel upload");
        }
    }

    /**
     * Launches resize + crop + normalise on {@code stream}: pixels at device address {@code pixelsDev} in
     * {@code layout}'s layout (its span, as {@link #uploadPixels} copies it), output {@code [P, Q, 3]} in
     * {@code dtype} ({@code CudaOps.F32/F16/BF16}) at device address {@code y}.
     */
    public static void resampleNormalize(DeviceTaps taps, RgbImage layout, long pixelsDev, long y, int dtype, long stream)
            throws ReskernException {
        Objects.requireNonNull(taps, "taps");
        ResamplePlan plan = taps.plan();
        if (plan.inHeight() != layout.height() || plan.inWidth() != layout.width()) {
            throw new IllegalArgumentException("plan for " + plan.inHeight() + "x" + plan.inWidth() + " used on a "
                    + layout.height() + "x" + layout.width() + " image");
        }
        ResamplePlan.Addresses a = taps.addresses();
        check(CudaOps.resampleNormalizeU8(pixelsDev, layout.height(), layout.width(), layout.rowStride(), layout.pixelStride(),
                layout.channelOffset(0), layout.channelOffset(1), layout.channelOffset(2), a.ys(), a.ny(), a.wy(),
                plan.rows().maxTaps(), a.xs(), a.nx(), a.wx(), plan.cols().maxTaps(), a.mean(), a.std(), y, dtype,
                plan.outHeight(), plan.outWidth(), stream), layout.source() + ": resample_normalize_u8");
    }

    private static void need(long n, long capacity, String what) {
        if (n > capacity) {
            throw new IllegalArgumentException(what + " need " + n + " bytes, buffer has " + capacity);
        }
    }

    private static void check(int st, String what) throws ReskernException {
        if (st != 0) {
            throw new ReskernException(ReskernException.fromNative(st), what + ": " + CudaOps.lastError());
        }
    }

    /** A non-owning view of {@code bytes} bytes at a native address (closing it frees nothing). */
    private static BytePointer at(long at, long bytes) {
        if (at == 0) {
            throw new IllegalArgumentException("null host address");
        }
        Pointer raw = new Pointer() {
            {
                // the inherited fields; the parameter is named apart from `address` on purpose (an anonymous class's
                // `address` is the field, so `this.address = address` would assign the field to itself)
                address = at;
                limit = bytes;
                capacity = bytes;
            }
        };
        return new BytePointer(raw).capacity(bytes).limit(bytes);
    }
}
