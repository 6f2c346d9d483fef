package io.reskern.backend;

import io.reskern.Device;
import io.reskern.nativelib.CudaOps;
import java.util.Collection;
import org.bytedeco.javacpp.PointerPointer;

/**
 * Leaves a caller's thread with the CUDA context it had. reskern selects devices with {@code cudaSetDevice}, which
 * changes the calling thread's current context; a service thread that also runs other CUDA code (its own, or a library
 * such as the cuDNN presets) would otherwise find itself on another GPU after a reskern call, or holding a context on
 * a GPU it never used. Every public entry point that touches CUDA on the caller's thread ({@code Model},
 * {@code Predictor} build and close, {@code DeviceBuffer}) runs inside one of these:
 * <pre>{@code
 * try (CallerCudaContext saved = CallerCudaContext.save(device)) { ... }
 * }</pre>
 * The context (possibly none) is read on entry and put back on close, if it changed. For CPU devices nothing is read,
 * so CPU-only use never loads the CUDA library. Best effort: when the context cannot be read, nothing is restored
 * (reskern itself always selects its device before it works, so only the caller's view is affected). Internal: not
 * part of the supported API.
 */
public final class CallerCudaContext implements AutoCloseable {
    private static final CallerCudaContext NONE = new CallerCudaContext(false, 0);

    private final boolean saved;
    private final long context; // the caller's CUcontext; 0 = none current

    private CallerCudaContext(boolean saved, long context) {
        this.saved = saved;
        this.context = context;
    }

    /** Saves the calling thread's context if {@code device} is a CUDA device. */
    public static CallerCudaContext save(Device device) {
        return device != null && device.isCuda() ? read() : NONE;
    }

    /** Saves the calling thread's context if any of {@code devices} is a CUDA device. */
    public static CallerCudaContext save(Collection<Device> devices) {
        for (Device d : devices) {
            if (d.isCuda()) {
                return read();
            }
        }
        return NONE;
    }

    private static CallerCudaContext read() {
        try (PointerPointer<?> pp = new PointerPointer<>(1)) {
            if (CudaOps.contextGet(pp) != 0) {
                return NONE;
            }
            return new CallerCudaContext(true, pp.get(0) == null ? 0 : pp.get(0).address());
        } catch (LinkageError e) { // the CUDA library is absent: there is no context to keep
            return NONE;
        }
    }

    /** Whether a context was read on entry (false for CPU devices and when it could not be read). */
    public boolean saved() {
        return saved;
    }

    /** The context read on entry (0: none). */
    public long context() {
        return context;
    }

    /** Puts the saved context back if the thread's current one differs. Never throws. */
    @Override
    public void close() {
        if (!saved) {
            return;
        }
        try (PointerPointer<?> pp = new PointerPointer<>(1)) {
            long now = CudaOps.contextGet(pp) == 0 && pp.get(0) != null ? pp.get(0).address() : -1;
            if (now != context) {
                CudaOps.contextSet(context);
            }
        } catch (LinkageError ignored) {
            // cannot happen once read() succeeded; nothing to restore
        }
    }
}
