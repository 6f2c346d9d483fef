package io.reskern.image;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Everything {@code rk_cpu_resample_normalize_u8} / {@code rk_cuda_resample_normalize_u8} need besides the pixels:
 * the input size, the output size {@code P × Q}, the row and column {@link Taps} (resize + crop) and the
 * normalisation {@code mean}/{@code std}. Made by {@link Preprocess#plan(int, int)}; immutable; one plan serves
 * every image of the same size.
 *
 * <p>{@link #pack} writes the plan as one block of 4-byte words (native byte order) in this order:
 * {@code ys[P], ny[P], xs[Q], nx[Q], wy[P·ky], wx[Q·kx], mean[3], std[3]}; {@link #addresses} gives each array's
 * address inside such a block (host memory for the CPU op, device memory for the CUDA op).
 */
public record ResamplePlan(int inHeight, int inWidth, Taps rows, Taps cols, float[] mean, float[] std) {
    public ResamplePlan {
        if (inHeight < 1 || inWidth < 1 || mean.length != 3 || std.length != 3) {
            throw new IllegalArgumentException("bad plan: input " + inHeight + "x" + inWidth + ", mean/std of 3");
        }
        for (int o = 0; o < rows.size(); o++) {
            if (rows.count()[o] > 0 && (rows.start()[o] < 0 || (long) rows.start()[o] + rows.count()[o] > inHeight)) {
                throw new IllegalArgumentException("row tap " + o + " outside " + inHeight + " rows");
            }
        }
        for (int o = 0; o < cols.size(); o++) {
            if (cols.count()[o] > 0 && (cols.start()[o] < 0 || (long) cols.start()[o] + cols.count()[o] > inWidth)) {
                throw new IllegalArgumentException("column tap " + o + " outside " + inWidth + " columns");
            }
        }
        mean = mean.clone();
        std = std.clone();
    }

    /** Output rows P. */
    public int outHeight() {
        return rows.size();
    }

    /** Output columns Q. */
    public int outWidth() {
        return cols.size();
    }

    @Override
    public float[] mean() {
        return mean.clone();
    }

    @Override
    public float[] std() {
        return std.clone();
    }

    /** Size in bytes of {@link #pack}'s block. */
    public long packedBytes() {
        return 4L * words();
    }

    private long words() {
        long p = outHeight();
        long q = outWidth();
        return 2 * p + 2 * q + p * rows.maxTaps() + q * cols.maxTaps() + 6;
    }

    /** Writes the packed block at the buffer's position (advancing it); the buffer's byte order is set to native. */
    public void pack(ByteBuffer b) {
        b.order(ByteOrder.nativeOrder());
        for (int v : rows.start()) {
            b.putInt(v);
        }
        for (int v : rows.count()) {
            b.putInt(v);
        }
        for (int v : cols.start()) {
            b.putInt(v);
        }
        for (int v : cols.count()) {
            b.putInt(v);
        }
        for (float v : rows.weights()) {
            b.putFloat(v);
        }
        for (float v : cols.weights()) {
            b.putFloat(v);
        }
        for (float v : mean) {
            b.putFloat(v);
        }
        for (float v : std) {
            b.putFloat(v);
        }
    }

    /** The packed block as a new array. */
    public byte[] packed() {
        ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(packedBytes()));
        pack(b);
        return b.array();
    }

    /** Addresses of the arrays of a packed block that starts at {@code base}. */
    public Addresses addresses(long base) {
        long p = outHeight();
        long q = outWidth();
        long ys = base;
        long ny = ys + 4 * p;
        long xs = ny + 4 * p;
        long nx = xs + 4 * q;
        long wy = nx + 4 * q;
        long wx = wy + 4 * p * rows.maxTaps();
        long mn = wx + 4 * q * cols.maxTaps();
        return new Addresses(ys, ny, wy, xs, nx, wx, mn, mn + 12);
    }

    /** Native addresses of a packed plan's arrays, in the argument order of the native op. */
    public record Addresses(long ys, long ny, long wy, long xs, long nx, long wx, long mean, long std) {
    }

    @Override
    public String toString() {
        return "ResamplePlan[" + inHeight + "x" + inWidth + " -> " + outHeight() + "x" + outWidth() + ", taps "
                + rows.maxTaps() + "x" + cols.maxTaps() + "]";
    }
}
