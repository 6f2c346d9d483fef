package io.reskern.image;

import java.util.Objects;

/**
 * A decoded 8-bit image as the native op reads it, usually the decoder's own pixel buffer (no copy):
 * sample {@code c} (0 = R, 1 = G, 2 = B) of pixel {@code (r, j)} is
 * {@code data[offset + r·rowStride + j·pixelStride + channelOffset(c)]}. Layouts: packed RGB
 * {@code (3; 0, 1, 2)}, Java's BGR {@code (3; 2, 1, 0)}, ABGR {@code (4; 3, 2, 1)}, gray {@code (1; 0, 0, 0)}.
 * Immutable by contract: the array is shared, not copied.
 */
public final class RgbImage {
    private final byte[] data;
    private final int offset;
    private final int height;
    private final int width;
    private final int rowStride;
    private final int pixelStride;
    private final int offR;
    private final int offG;
    private final int offB;
    private final String source;

    public RgbImage(byte[] data, int offset, int height, int width, int rowStride, int pixelStride, int offR, int offG,
                    int offB, String source) {
        this.data = Objects.requireNonNull(data, "data");
        if (height < 1 || width < 1 || pixelStride < 1 || pixelStride > 16 || (long) width * pixelStride > rowStride) {
            throw new IllegalArgumentException("bad image layout " + height + "x" + width + ", pixel stride " + pixelStride
                    + ", row stride " + rowStride);
        }
        for (int o : new int[] {offR, offG, offB}) {
            if (o < 0 || o >= pixelStride) {
                throw new IllegalArgumentException("channel offset " + o + " outside a pixel of " + pixelStride + " bytes");
            }
        }
        long end = (long) offset + (long) (height - 1) * rowStride + (long) width * pixelStride;
        if (offset < 0 || end > data.length) {
            throw new IllegalArgumentException("image " + height + "x" + width + " needs bytes [" + offset + ", " + end
                    + ") of an array of " + data.length);
        }
        this.offset = offset;
        this.height = height;
        this.width = width;
        this.rowStride = rowStride;
        this.pixelStride = pixelStride;
        this.offR = offR;
        this.offG = offG;
        this.offB = offB;
        this.source = source == null ? "image" : source;
    }

    /** Packed RGB bytes {@code [h, w, 3]} (no copy). */
    public static RgbImage ofRgb(byte[] rgb, int h, int w) {
        return new RgbImage(rgb, 0, h, w, w * 3, 3, 0, 1, 2, "rgb array");
    }

    /** Packed gray bytes {@code [h, w]}, read as R = G = B (no copy). */
    public static RgbImage ofGray(byte[] gray, int h, int w) {
        return new RgbImage(gray, 0, h, w, w, 1, 0, 0, 0, "gray array");
    }

    /** The same pixels under another source name. */
    public RgbImage withSource(String name) {
        return new RgbImage(data, offset, height, width, rowStride, pixelStride, offR, offG, offB, name);
    }

    public byte[] data() {
        return data;
    }

    public int offset() {
        return offset;
    }

    public int height() {
        return height;
    }

    public int width() {
        return width;
    }

    public int rowStride() {
        return rowStride;
    }

    public int pixelStride() {
        return pixelStride;
    }

    /** Byte offset of channel {@code c} (0 = R, 1 = G, 2 = B) inside a pixel. */
    public int channelOffset(int c) {
        return switch (c) {
            case 0 -> offR;
            case 1 -> offG;
            case 2 -> offB;
            default -> throw new IllegalArgumentException("channel " + c);
        };
    }

    /** Where the image came from (a file name), for messages. */
    public String source() {
        return source;
    }

    /** Bytes from {@link #offset()} that the pixels span: {@code (h − 1)·rowStride + w·pixelStride}. */
    public long spanBytes() {
        return (long) (height - 1) * rowStride + (long) width * pixelStride;
    }

    /** Sample {@code c} of pixel {@code (r, j)}, 0..255. */
    public int sample(int r, int j, int c) {
        return data[offset + r * rowStride + j * pixelStride + channelOffset(c)] & 0xff;
    }

    /** A packed RGB copy {@code [h, w, 3]}. */
    public byte[] toRgb() {
        byte[] out = new byte[Math.multiplyExact(Math.multiplyExact(height, width), 3)];
        for (int r = 0; r < height; r++) {
            int base = offset + r * rowStride;
            for (int j = 0; j < width; j++) {
                int px = base + j * pixelStride;
                int o = (r * width + j) * 3;
                out[o] = data[px + offR];
                out[o + 1] = data[px + offG];
                out[o + 2] = data[px + offB];
            }
        }
        return out;
    }

    @Override
    public String toString() {
        return "RgbImage[" + source + ", " + width + "x" + height + ", pixel stride " + pixelStride + ", offsets " + offR
                + "," + offG + "," + offB + "]";
    }
}
