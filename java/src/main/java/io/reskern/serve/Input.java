package io.reskern.serve;

import io.reskern.DeviceBuffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.Objects;
import java.util.ArrayList;
import java.nio.file.Path;
import io.reskern.ReskernException;
import io.reskern.image.ImageDecoder;
import io.reskern.image.RgbImage;

/**
 * The images of one request to a {@link Predictor}: {@code count()} images of the predictor's input size, as float32
 * NCHW {@code [count, 3, H, W]} in a Java array, a {@link FloatBuffer} / {@link ByteBuffer} (direct buffers are read in
 * place, without a copy into the Java heap), or a {@link DeviceBuffer} (read on its device, no host copy at all); or
 * decoded images ({@link RgbImage}, any size), which the predictor preprocesses itself.
 *
 * <p>The data is read when the request's batch is staged, after {@code predict} was called and before its result is
 * complete: do not modify it until then. An {@code Input} holds a reference to its buffer, so a direct buffer stays
 * alive while the request is in flight.
 */
public final class Input {
    enum Kind { ARRAY, DIRECT, DEVICE, IMAGES }

    final Kind kind;
    final int count;
    final float[] array;
    final int arrayOffset;
    final FloatBuffer direct;   // position = first float
    final DeviceBuffer device;
    final long deviceOffset;    // floats
    final long floats;          // floats the request provides
    final List<RgbImage> images;

    private Input(Kind kind, int count, float[] array, int arrayOffset, FloatBuffer direct, DeviceBuffer device,
                  long deviceOffset, long floats) {
        this(kind, count, array, arrayOffset, direct, device, deviceOffset, floats, null);
    }

    private Input(Kind kind, int count, float[] array, int arrayOffset, FloatBuffer direct, DeviceBuffer device,
                  long deviceOffset, long floats, List<RgbImage> images) {
        if (count < 1) {
            throw new IllegalArgumentException("a request needs at least one image, got " + count);
        }
        this.kind = kind;
        this.count = count;
        this.array = array;
        this.arrayOffset = arrayOffset;
        this.direct = direct;
        this.device = device;
        this.deviceOffset = deviceOffset;
        this.floats = floats;
        this.images = images;
    }

    /** {@code count} images, float32 NCHW, the whole array. */
    public static Input nchw(float[] data, int count) {
        Objects.requireNonNull(data, "data");
        return new Input(Kind.ARRAY, count, data, 0, null, null, 0, data.length);
    }

    /** {@code count} images, float32 NCHW: the buffer's remaining elements (direct: read in place; heap: one bulk copy). */
    public static Input nchw(FloatBuffer data, int count) {
        Objects.requireNonNull(data, "data");
        if (data.isDirect()) {
            if (data.order() != ByteOrder.nativeOrder()) {
                throw new IllegalArgumentException("a direct FloatBuffer must be in native byte order (" + ByteOrder.nativeOrder()
                        + "), got " + data.order());
            }
            return new Input(Kind.DIRECT, count, null, 0, data.slice(), null, 0, data.remaining());
        }
        if (data.hasArray()) {
            return new Input(Kind.ARRAY, count, data.array(), data.arrayOffset() + data.position(), null, null, 0,
                    data.remaining());
        }
        float[] copy = new float[data.remaining()];
        data.duplicate().get(copy);
        return new Input(Kind.ARRAY, count, copy, 0, null, null, 0, copy.length);
    }

    /**
     * {@code count} images as float32 NCHW bytes: the buffer's remaining bytes, little- or big-endian as the buffer's
     * {@link ByteBuffer#order() order} says (a direct buffer in native order is read in place).
     *
     * @throws IllegalArgumentException if the remaining bytes are not a whole number of floats
     */
    public static Input nchw(ByteBuffer data, int count) {
        Objects.requireNonNull(data, "data");
        if (data.remaining() % Float.BYTES != 0) {
            throw new IllegalArgumentException("float32 input needs a multiple of 4 bytes, got " + data.remaining()
                    + " (is this float32 data?)");
        }
        if (data.isDirect() && data.order() == ByteOrder.nativeOrder()) {
            if ((addressOf(data) & 3) != 0) {
                return nchw(copyFloats(data), count); // unaligned: one bulk copy
            }
            return new Input(Kind.DIRECT, count, null, 0, data.slice().order(ByteOrder.nativeOrder()).asFloatBuffer(), null, 0,
                    data.remaining() / Float.BYTES);
        }
        return nchw(copyFloats(data), count);
    }

    private static long addressOf(ByteBuffer b) {
        return new org.bytedeco.javacpp.BytePointer(b.slice()).address();
    }

    private static float[] copyFloats(ByteBuffer data) {
        float[] f = new float[data.remaining() / Float.BYTES];
        data.duplicate().order(data.order()).asFloatBuffer().get(f);
        return f;
    }

    /** The first {@code count} images of a device buffer (float32 NCHW), read on the buffer's device. */
    public static Input of(DeviceBuffer buffer, int count) {
        return of(buffer, 0, count);
    }

    /** {@code count} images starting at element {@code offset} of a device buffer. */
    public static Input of(DeviceBuffer buffer, long offset, int count) {
        Objects.requireNonNull(buffer, "buffer");
        if (offset < 0 || offset >= buffer.floats()) {
            throw new IllegalArgumentException("offset " + offset + " outside " + buffer);
        }
        return new Input(Kind.DEVICE, count, null, 0, null, buffer, offset, buffer.floats() - offset);
    }

    /**
     * Decoded images of any size; the predictor resizes, crops and normalises them with its
     * {@link Predictor.Builder#optPreprocess Preprocess} (on the GPU when it runs on one).
     */
    public static Input images(List<RgbImage> images) {
        Objects.requireNonNull(images, "images");
        for (RgbImage im : images) {
            Objects.requireNonNull(im, "image");
        }
        return new Input(Kind.IMAGES, images.size(), null, 0, null, null, 0, 0, List.copyOf(images));
    }

    public static Input image(RgbImage image) {
        return images(List.of(image));
    }

    /** Decodes JPEG/PNG files here, in the calling thread ({@link ImageDecoder#defaults()}). */
    public static Input files(List<Path> files) throws ReskernException {
        List<RgbImage> images = new ArrayList<>(files.size());
        ImageDecoder d = ImageDecoder.defaults();
        for (Path f : files) {
            images.add(d.decode(f));
        }
        return images(images);
    }

    /** Number of images. */
    public int count() {
        return count;
    }

    @Override
    public String toString() {
        return "Input[" + count + " image(s), " + kind.name().toLowerCase(java.util.Locale.ROOT) + "]";
    }
}
