package io.reskern.graph;

import java.util.Arrays;

/**
 * A learned tensor a graph expects from a checkpoint, under its checkpoint name.
 *
 * @param name      checkpoint name, e.g. {@code layer1.0.bn2.running_var}
 * @param shape     expected shape (torch layout: conv weights [K, C/groups, R, S])
 * @param trainable counted as a parameter (BN running statistics are not)
 * @param optional  may be absent (conv biases)
 */
public record ParamSpec(String name, long[] shape, boolean trainable, boolean optional) {
    public long elements() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    @Override
    public String toString() {
        return name + Arrays.toString(shape);
    }
}
