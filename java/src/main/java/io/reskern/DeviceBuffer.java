package io.reskern;

import io.reskern.ReskernException.ErrorCode;
import io.reskern.backend.CallerCudaContext;
import io.reskern.nativelib.CudaOps;
import java.nio.FloatBuffer;
import java.util.Objects;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * float32 memory on a device — GPU memory for {@code cuda:i}, native host memory for the CPU — that a
 * {@code Predictor} reads its input from without any host copy (for example, images another CUDA library already
 * decoded on the GPU). Allocate one with {@link #allocate}, or {@link #wrap} memory you own. Copies in and out are bulk
 * (one native copy, never element by element).
 *
 * <p>Not thread-safe; do not write or close a buffer while a prediction reading it is in flight (closed before its
 * batch is staged, the request fails with {@link IllegalStateException}; closed during, it reads freed memory). {@link #close()} frees memory
 * this class allocated (a wrapped buffer is left alone); using a closed buffer throws {@link IllegalStateException}.
 */
public final class DeviceBuffer implements AutoCloseable {
    private final Device device;
    private final long floats;
    private final boolean owned;
    private FloatPointer host; // CPU buffers we own
    private long address;

    private DeviceBuffer(Device device, long address, long floats, boolean owned, FloatPointer host) {
        this.device = device;
        this.address = address;
        this.floats = floats;
        this.owned = owned;
        this.host = host;
    }

    /** Allocates {@code floats} float32 elements on {@code device} (contents undefined). */
    public static DeviceBuffer allocate(Device device, long floats) throws ReskernException {
        Objects.requireNonNull(device, "device");
        if (floats < 1) {
            throw new IllegalArgumentException("a buffer needs at least 1 element, got " + floats);
        }
        if (!device.isCuda()) {
            FloatPointer p;
            try {
                p = new FloatPointer(floats);
            } catch (OutOfMemoryError e) {
                throw new ReskernException(ErrorCode.OUT_OF_MEMORY, "cannot allocate " + floats * 4 + " bytes of host memory", e);
            }
            if (p.isNull()) {
                throw new ReskernException(ErrorCode.OUT_OF_MEMORY, "cannot allocate " + floats * 4 + " bytes of host memory");
            }
            return new DeviceBuffer(device, p.address(), floats, true, p);
        }
        requireGpu(device);
        try (CallerCudaContext saved = CallerCudaContext.save(device); PointerPointer<?> pp = new PointerPointer<>(1)) {
            check(CudaOps.setDevice(device.index()), "select " + device);
            check(CudaOps.malloc(pp, floats * 4), "cudaMalloc " + floats * 4 + " bytes on " + device);
            return new DeviceBuffer(device, pp.get(0).address(), floats, true, null);
        }
    }

    /** Memory you own at {@code address} on {@code device}; never freed by this class. */
    public static DeviceBuffer wrap(Device device, long address, long floats) {
        Objects.requireNonNull(device, "device");
        if (address == 0 || floats < 1) {
            throw new IllegalArgumentException("wrap needs a non-null address and at least 1 element");
        }
        return new DeviceBuffer(device, address, floats, false, null);
    }

    private static void requireGpu(Device device) throws ReskernException {
        Devices.CudaProbe p = Devices.cuda();
        if (!p.usable() || device.index() >= p.gpus().size()) {
            throw new ReskernException(ErrorCode.NO_DEVICE, "cannot use " + device + ": "
                    + (p.usable() ? "only " + p.gpus().size() + " CUDA device(s) present" : p.reason()));
        }
    }

    private static void check(int status, String what) throws ReskernException {
        if (status != 0) {
            throw new ReskernException(ReskernException.fromNative(status), what + ": " + CudaOps.lastError());
        }
    }

    public Device device() {
        return device;
    }

    /** Number of float32 elements. */
    public long floats() {
        return floats;
    }

    /** The raw address (device pointer on CUDA). */
    public long address() {
        if (address == 0) {
            throw new IllegalStateException("buffer is closed");
        }
        return address;
    }

    private static FloatPointer view(long at, long elems) {
        Pointer raw = new Pointer() {
            {
                address = at; // the inherited field; the parameter is named apart from it on purpose
            }
        };
        return new FloatPointer(raw).capacity(elems).limit(elems);
    }

    private void range(long offset, long count) {
        if (offset < 0 || count < 0 || offset + count > floats) {
            throw new IndexOutOfBoundsException("[" + offset + ", " + (offset + count) + ") outside a buffer of " + floats);
        }
    }

    /** Copies {@code src[srcOffset, srcOffset + count)} to elements {@code [offset, offset + count)}. */
    public void copyFrom(float[] src, int srcOffset, int count, long offset) throws ReskernException {
        Objects.checkFromIndexSize(srcOffset, count, src.length);
        range(offset, count);
        long a = address();
        if (!device.isCuda()) {
            view(a + offset * 4, count).put(src, srcOffset, count);
            return;
        }
        try (FloatPointer tmp = new FloatPointer(count)) {
            tmp.put(src, srcOffset, count);
            copyIn(tmp.address(), count, offset);
        }
    }

    /** Copies the remaining elements of {@code src} (direct or heap) to elements from {@code offset}. */
    public void copyFrom(FloatBuffer src, long offset) throws ReskernException {
        int count = src.remaining();
        range(offset, count);
        if (src.isDirect()) {
            long from = new FloatPointer(src).address() + 4L * src.position();
            try {
                if (!device.isCuda()) {
                    Pointer.memcpy(view(address() + offset * 4, count), view(from, count), 4L * count);
                } else {
                    copyIn(from, count, offset);
                }
            } finally {
                // only the address travels on: keep src (and so its memory) alive until the copy has finished
                java.lang.ref.Reference.reachabilityFence(src);
            }
            return;
        }
        float[] tmp = new float[count];
        src.duplicate().get(tmp);
        copyFrom(tmp, 0, count, offset);
    }

    private void copyIn(long hostAddress, long count, long offset) throws ReskernException {
        try (CallerCudaContext saved = CallerCudaContext.save(device)) {
            check(CudaOps.setDevice(device.index()), "select " + device);
            check(CudaOps.memcpyH2D(address() + offset * 4, hostAddress, count * 4, 0), "copy to " + device);
            check(CudaOps.streamSynchronize(0), "copy to " + device);
        }
    }

    /** Copies elements {@code [offset, offset + count)} into {@code dst[dstOffset …]}. */
    public void copyTo(long offset, float[] dst, int dstOffset, int count) throws ReskernException {
        Objects.checkFromIndexSize(dstOffset, count, dst.length);
        range(offset, count);
        if (!device.isCuda()) {
            view(address() + offset * 4, count).get(dst, dstOffset, count);
            return;
        }
        try (FloatPointer tmp = new FloatPointer(count); CallerCudaContext saved = CallerCudaContext.save(device)) {
            check(CudaOps.setDevice(device.index()), "select " + device);
            check(CudaOps.memcpyD2H(tmp.address(), address() + offset * 4, count * 4L, 0), "copy from " + device);
            check(CudaOps.streamSynchronize(0), "copy from " + device);
            tmp.get(dst, dstOffset, count);
        }
    }

    @Override
    public void close() {
        if (address == 0) {
            return;
        }
        if (owned) {
            if (host != null) {
                host.close();
                host = null;
            } else {
                try (CallerCudaContext saved = CallerCudaContext.save(device)) {
                    CudaOps.setDevice(device.index());
                    CudaOps.free(address);
                }
            }
        }
        address = 0;
    }

    @Override
    public String toString() {
        return "DeviceBuffer[" + device + ", " + floats + " floats" + (owned ? "" : ", wrapped") + "]";
    }
}
