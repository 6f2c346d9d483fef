package io.reskern.backend.cudnn;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/** JavaCPP {@link Pointer} views of raw addresses (device pointers from reskern's own allocator; never freed here). */
final class DevPtr {
    private DevPtr() {
    }

    static Pointer of(long address) {
        return new Pointer() {
            {
                this.address = address; // the inherited field
            }
        };
    }

    static FloatPointer floats(long address) {
        return new FloatPointer(of(address));
    }
}
