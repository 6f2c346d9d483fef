package io.reskern;

import io.reskern.backend.CallerCudaContext;
import io.reskern.backend.DeviceModel;
import io.reskern.backend.Executor;
import io.reskern.backend.Executors;
import io.reskern.backend.conv.TuneListener;
import io.reskern.graph.Graph;
import io.reskern.graph.GraphBuilder;
import io.reskern.onnx.OnnxImporter;
import io.reskern.onnx.OnnxModel;
import io.reskern.weights.FoldedWeights;
import io.reskern.weights.SafeTensorsSource;
import io.reskern.weights.WeightSource;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A ResNet ready to run: spec → graph → folded weights → executor on one device.
 *
 * <pre>{@code
 * try (Model model = Model.builder()
 *         .model("resnet50")                       // required: a name from ResNets, .spec(ResNetSpec) or .onnx(Path)
 *         .optClasses(1000)
 *         .optWeights(Path.of("resnet50.safetensors"))   // torchvision/timm/CIFAR names; default: seeded Kaiming init
 *         .optDevice(Device.parse("auto"))
 *         .optPrecision(Precision.FP16)
 *         .optConv(ConvPolicy.BEST)                // GPU: own kernels / cuDNN / fastest per layer (default OWN)
 *         .build()) {
 *     float[] logits = model.predict(nchw, 1, 224, 224);   // [N, classes]
 * }
 * }</pre>
 *
 * <p>Thread safety: {@link #predict} may be called from any thread; calls on one model are serialised (one execution
 * context). {@link #close()} waits for a call in flight and frees native memory; later calls throw
 * {@link IllegalStateException}.
 */
public final class Model implements AutoCloseable {
    private final Graph graph;
    private final DeviceModel deviceModel;
    private final Executor executor;
    private final String weightsDescription;
    private boolean closed;

    private Model(Graph graph, DeviceModel deviceModel, Executor executor, String weightsDescription) {
        this.graph = graph;
        this.deviceModel = deviceModel;
        this.executor = executor;
        this.weightsDescription = weightsDescription;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The spec the model was built from; {@code null} for an imported model. */
    public ResNetSpec spec() {
        return graph.spec();
    }

    /** Model name (the spec's, or the imported file's). */
    public String name() {
        return graph.name();
    }

    public Graph graph() {
        return graph;
    }

    public Device device() {
        return executor.device();
    }

    public Precision precision() {
        return executor.precision();
    }

    public int classes() {
        return graph.classes();
    }

    public String weightsDescription() {
        return weightsDescription;
    }

    /** Bytes of activation memory planned so far (largest input seen). */
    public synchronized long activationBytes() {
        return executor.activationBytes();
    }

    /**
     * Runs the network on a batch.
     *
     * @param nchw float32 images, NCHW, length {@code n·3·h·w}
     * @return logits, {@code [n, classes]} row-major
     * @throws IllegalArgumentException if {@code n}, {@code h} or {@code w} is below 1 (an empty batch included), the
     *                                  length does not match the shape, the input is too small, or the batch too large
     *                                  to plan (activations above 2^63 elements, logits above a Java array)
     * @throws IllegalStateException    after {@link #close()}
     */
    public float[] predict(float[] nchw, int n, int h, int w) throws ReskernException {
        Objects.requireNonNull(nchw, "input");
        if (n < 1 || h < 1 || w < 1) {
            throw new IllegalArgumentException("batch, height and width must be >= 1, got " + n + "x3x" + h + "x" + w);
        }
        long expected;
        try {
            expected = Math.multiplyExact(Math.multiplyExact(3L * n, h), w);
        } catch (ArithmeticException e) { // it wrapped around to a length an array can have
            throw new IllegalArgumentException("input has " + nchw.length + " floats, but " + n + "x3x" + h + "x" + w
                    + " is more than 2^63 elements");
        }
        if (nchw.length != expected) {
            throw new IllegalArgumentException("input has " + nchw.length + " floats, expected N*3*H*W = " + expected
                    + " for " + n + "x3x" + h + "x" + w);
        }
        graph.plan(n, h, w); // validates that the input is large enough before any native call
        if ((long) n * classes() > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(n + " x " + classes() + " logits do not fit in a Java array: use smaller batches");
        }
        float[] out = new float[n * classes()];
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException("model is closed");
            }
            try (CallerCudaContext saved = CallerCudaContext.save(device())) {
                executor.run(nchw, n, h, w, out);
            }
        }
        return out;
    }

    /** {@code Model[resnet50 on cpu, fp32, 1000 classes, weights …]} (was Object's {@code io.reskern.Model@1b6d3586}). */
    @Override
    public String toString() {
        return "Model[" + name() + " on " + device() + ", " + precision() + ", " + classes() + " classes, weights "
                + weightsDescription + "]";
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            try (CallerCudaContext saved = CallerCudaContext.save(device())) {
                executor.close();
                deviceModel.close();
            }
        }
    }

    /** Builder: {@code model}/{@code spec}/{@code onnx} required, {@code opt*} optional. Immutable once built. */
    public static final class Builder {
        private ResNetSpec spec;
        private Path onnx;
        private Integer classes;
        private ResNetSpec.Shortcut shortcut;
        private Path weights;
        private WeightSource weightSource;
        private long seed = 0;
        private Device device = Device.CPU;
        private Precision precision = Precision.FP32;
        private ConvPolicy conv = ConvPolicy.OWN;
        private TuneListener tuneListener = TuneListener.NONE;

        private Builder() {
        }

        /** A named model ({@link ResNets#byName}). */
        public Builder model(String name) {
            this.spec = ResNets.byName(name);
            return this;
        }

        public Builder spec(ResNetSpec s) {
            this.spec = Objects.requireNonNull(s);
            return this;
        }

        /**
         * An ONNX file (ResNet family, as torchvision/timm export it) instead of {@code model}/{@code spec}: graph and
         * weights both come from the file ({@link OnnxImporter}), so it does not combine with {@code optWeights},
         * {@code optClasses} or {@code optShortcut}.
         */
        public Builder onnx(Path file) {
            this.onnx = Objects.requireNonNull(file);
            return this;
        }

        public Builder optClasses(int n) {
            this.classes = n;
            return this;
        }

        /** CIFAR shortcut: OPTION_A (default) or PROJECTION (option B). */
        public Builder optShortcut(ResNetSpec.Shortcut s) {
            this.shortcut = s;
            return this;
        }

        /**
         * Weights from a safetensors checkpoint (torchvision / timm / CIFAR names). Not calling this gives the seeded
         * random initialisation; a {@code null} path is a {@link NullPointerException}, not random weights.
         */
        public Builder optWeights(Path safetensors) {
            this.weights = Objects.requireNonNull(safetensors, "weights file");
            this.weightSource = null;
            return this;
        }

        /** Weights from any {@link WeightSource} (same checks as a file); {@code null}: NullPointerException. */
        public Builder optWeights(WeightSource src) {
            this.weightSource = Objects.requireNonNull(src, "weight source");
            this.weights = null;
            return this;
        }

        /** Seed of the Kaiming initialisation used when no weights are given. */
        public Builder optSeed(long s) {
            this.seed = s;
            return this;
        }

        public Builder optDevice(Device d) {
            this.device = Objects.requireNonNull(d);
            return this;
        }

        public Builder optPrecision(Precision p) {
            this.precision = Objects.requireNonNull(p);
            return this;
        }

        /**
         * Conv implementation on a GPU: {@link ConvPolicy#OWN} (default: reskern's kernels), {@link ConvPolicy#CUDNN}
         * or {@link ConvPolicy#BEST} (per layer, timed once and cached). Ignored on the CPU.
         */
        public Builder optConv(ConvPolicy p) {
            this.conv = Objects.requireNonNull(p);
            return this;
        }

        /** Progress of the per-layer tuning ({@code cudnn}/{@code best}); default: none (one log line per plan). */
        public Builder optTuneListener(TuneListener l) {
            this.tuneListener = Objects.requireNonNull(l);
            return this;
        }

        /** The spec this builder would build (model, classes and shortcut applied). */
        public ResNetSpec resolvedSpec() {
            if (spec == null) {
                throw new IllegalStateException(onnx != null ? "an onnx(file) model has no spec" : "model(name), spec(spec) or onnx(file) is required");
            }
            ResNetSpec s = spec;
            if (classes != null) {
                s = s.withClasses(classes);
            }
            if (shortcut != null) {
                s = s.withShortcut(shortcut);
            }
            return s;
        }

        public Device device() {
            return device;
        }

        public Precision precision() {
            return precision;
        }

        public ConvPolicy conv() {
            return conv;
        }

        public TuneListener tuneListener() {
            return tuneListener;
        }

        /**
         * The graph and its checked, folded weights, without touching a device (what {@link #build()} and the serving
         * {@code Predictor} load onto one or more devices).
         */
        public Definition define() throws ReskernException {
            if (onnx != null) {
                return defineOnnx();
            }
            Graph graph = GraphBuilder.build(resolvedSpec());
            FoldedWeights folded;
            String desc;
            if (weights != null) {
                try (SafeTensorsSource src = SafeTensorsSource.open(weights)) {
                    folded = FoldedWeights.load(graph, src);
                    desc = weights.toString();
                }
            } else if (weightSource != null) {
                folded = FoldedWeights.load(graph, weightSource);
                desc = weightSource.describe();
            } else {
                folded = FoldedWeights.random(graph, seed);
                desc = "random (seed " + seed + ")";
            }
            return new Definition(graph, folded, desc);
        }

        public Model build() throws ReskernException {
            Definition d = define();
            try (CallerCudaContext saved = CallerCudaContext.save(device)) {
                DeviceModel dm = Executors.load(d.graph(), d.weights(), device, precision, conv, tuneListener);
                try {
                    return new Model(d.graph(), dm, dm.newContext(), d.weightsDescription());
                } catch (ReskernException | RuntimeException e) {
                    dm.close();
                    throw e;
                }
            }
        }

        private Definition defineOnnx() throws ReskernException {
            if (spec != null || weights != null || weightSource != null || classes != null || shortcut != null) {
                throw new IllegalStateException("onnx(file) takes the graph and the weights from the file: do not combine "
                        + "it with model/spec, optWeights, optClasses or optShortcut");
            }
            OnnxModel m = OnnxImporter.load(onnx);
            return new Definition(m.graph(), FoldedWeights.load(m.graph(), m.weights()), onnx.toString());
        }
    }

    /** A model's graph and folded weights, not yet on a device. */
    public record Definition(Graph graph, FoldedWeights weights, String weightsDescription) {
    }
}
