package io.reskern.weights;

import io.reskern.ReskernException;
import io.reskern.io.SafeTensors;
import java.nio.file.Path;
import java.util.Set;

/** A safetensors checkpoint as a {@link WeightSource} (F32, F16, BF16, F64 tensors; read lazily, converted to float32). */
public final class SafeTensorsSource implements WeightSource, AutoCloseable {
    private final SafeTensors file;
    private final Path path;

    private SafeTensorsSource(SafeTensors file, Path path) {
        this.file = file;
        this.path = path;
    }

    public static SafeTensorsSource open(Path path) throws ReskernException {
        return new SafeTensorsSource(SafeTensors.open(path), path);
    }

    @Override
    public Set<String> names() {
        return file.names();
    }

    @Override
    public long[] shape(String name) {
        return file.info(name).shape();
    }

    @Override
    public float[] floats(String name) throws ReskernException {
        return file.getFloats(name);
    }

    @Override
    public String describe() {
        return path.toString();
    }

    @Override
    public void close() throws ReskernException {
        file.close();
    }
}
