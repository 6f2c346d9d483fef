package io.reskern.weights;

import io.reskern.ReskernException;
import java.util.Set;

/** Named float tensors: a checkpoint file or generated weights. */
public interface WeightSource {
    /** Every tensor name (including ones the model will not use). */
    Set<String> names();

    /** Shape of a tensor; only called for names in {@link #names()}. */
    long[] shape(String name);

    /** Data as float32 (converted from the stored dtype). */
    float[] floats(String name) throws ReskernException;

    /** Where the weights come from, for error messages. */
    String describe();
}
