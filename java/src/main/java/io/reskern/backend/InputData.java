package io.reskern.backend;

import io.reskern.Device;
import java.util.Objects;

/**
 * Where the float32 NCHW data of some images is: a Java array, native host memory, or memory on a device. An
 * {@link Executor} stages it into its network input without element-wise Java copies (a bulk copy for arrays, a
 * native copy or none for addresses).
 */
public sealed interface InputData permits InputData.HeapFloats, InputData.HostAddress, InputData.DeviceAddress {

    /** {@code data[offset …]} holds the images' NCHW floats. */
    record HeapFloats(float[] data, int offset) implements InputData {
        public HeapFloats {
            Objects.requireNonNull(data, "data");
        }
    }

    /** Native host memory (a direct buffer's address) holding the images' NCHW floats. */
    record HostAddress(long address) implements InputData {
        public HostAddress {
            if (address == 0) {
                throw new IllegalArgumentException("null host address");
            }
        }
    }

    /** Memory on {@code device} (for the CPU: native host memory) holding the images' NCHW floats. */
    record DeviceAddress(Device device, long address) implements InputData {
        public DeviceAddress {
            Objects.requireNonNull(device, "device");
            if (address == 0) {
                throw new IllegalArgumentException("null device address");
            }
        }
    }

    static InputData of(float[] data) {
        return new HeapFloats(data, 0);
    }
}
