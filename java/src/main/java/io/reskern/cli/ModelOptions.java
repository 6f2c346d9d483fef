package io.reskern.cli;

import io.reskern.ConvPolicy;
import io.reskern.Device;
import io.reskern.Model;
import io.reskern.Precision;
import io.reskern.ReskernException;
import io.reskern.ResNetSpec;
import io.reskern.ResNets;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * Options shared by run, bench and classify — which model (a name or an ONNX file), weights, device and precision — as
 * a picocli mixin that programs embedding reskern can reuse ({@code @Mixin ModelOptions model;}, see {@code examples/}).
 */
public final class ModelOptions {
    @Option(names = "--model", paramLabel = "NAME",
            description = "resnet{18,34,50,101,152} (v1.5), resnet.._v1, resnet..c, resnet..d, resnetv2_{18..152}, "
                    + "cifar_resnet{20,32,44,56,110,1202} (any 6n+2 up to 10000), resnext50_32x4d, resnext101_32x8d, wide_resnet50_2, "
                    + "wide_resnet101_2")
    String model;

    @Option(names = "--onnx", paramLabel = "FILE", description = "an ONNX ResNet (torchvision/timm export) instead of "
            + "--model/--weights: graph and weights from the file")
    Path onnx;

    @Option(names = "--shortcut", paramLabel = "A|B", description = "CIFAR shortcut: A (zero-pad, default) or B (projection)")
    String shortcut;

    @Option(names = "--classes", paramLabel = "N", description = "classifier outputs (default: 1000, CIFAR 10)")
    Integer classes;

    @Option(names = "--weights", paramLabel = "FILE", description = "safetensors checkpoint (torchvision/timm/CIFAR names); "
            + "default: seeded Kaiming initialisation")
    Path weights;

    @Option(names = "--device", defaultValue = "auto", paramLabel = "auto|cpu|cuda[:i]",
            description = "device (default: ${DEFAULT-VALUE}: the GPU when one is usable, else the CPU)")
    String device;

    @Option(names = "--precision", defaultValue = "fp32", paramLabel = "fp32|tf32|fp16|bf16",
            description = "numeric precision (default: ${DEFAULT-VALUE}; the CPU runs fp32, and bf16 where it has AVX512_BF16)")
    String precision;

    @Option(names = "--threads", paramLabel = "N", description = "CPU threads (default: all cores; at most 4 per processor or 1024, "
            + "whichever is larger)")
    Integer threads;

    @Option(names = "--conv", defaultValue = "own", paramLabel = "own|cudnn|best",
            description = "GPU conv implementation: own (reskern's kernels, default), cudnn (cuDNN where it can, cuBLAS head), "
                    + "best (fastest per layer, timed once and cached in ~/.cache/reskern; -Dreskern.tuneCache=DIR)")
    String conv;

    @Option(names = "--progress", negatable = true, description = "progress bar while --conv cudnn|best tunes (default: on a console)")
    Boolean progress;

    ResNetSpec.Shortcut parseShortcut() {
        if (shortcut == null) {
            return null;
        }
        switch (shortcut.trim().toUpperCase(java.util.Locale.ROOT)) {
            case "A": return ResNetSpec.Shortcut.OPTION_A;
            case "B": return ResNetSpec.Shortcut.PROJECTION;
            default: throw new UsageException("--shortcut must be A or B, got '" + shortcut + "'");
        }
    }

    /** Whether the named model is a CIFAR net (32×32 input by default); false for an ONNX file. */
    public boolean isCifar() {
        return model != null && ResNets.byName(model).stem() == ResNetSpec.Stem.CIFAR;
    }

    /** The model builder these options describe (checks them first: a bad value is an IllegalArgumentException). */
    public Model.Builder builder() {
        if (onnx != null) {
            return onnxBuilder();
        }
        if (model == null) {
            throw new UsageException("--model NAME or --onnx FILE is required");
        }
        ResNetSpec spec = ResNets.byName(model);
        ResNetSpec.Shortcut sc = parseShortcut();
        if (sc != null && spec.stem() != ResNetSpec.Stem.CIFAR) {
            throw new UsageException("--shortcut applies to CIFAR models only (" + model + " is not one)");
        }
        if (classes != null && classes < 1) {
            throw new UsageException("--classes must be >= 1, got " + classes);
        }
        if (weights != null) {
            OutputPaths.requireFile(weights, "weights file");
        }
        applyThreads();
        Model.Builder b = Model.builder().spec(spec).optDevice(Device.parse(device)).optPrecision(Precision.parse(precision))
                .optConv(ConvPolicy.parse(conv)).optTuneListener(TuneProgress.choose(progress));
        if (classes != null) {
            b.optClasses(classes);
        }
        if (sc != null) {
            b.optShortcut(sc);
        }
        if (weights != null) {
            b.optWeights(weights);
        }
        return b;
    }

    private Model.Builder onnxBuilder() {
        if (model != null || weights != null || shortcut != null || classes != null) {
            throw new UsageException("--onnx takes the model and its weights from the file: it does not combine "
                    + "with --model, --weights, --shortcut or --classes");
        }
        OutputPaths.requireFile(onnx, "ONNX file");
        applyThreads();
        return Model.builder().onnx(onnx).optDevice(Device.parse(device)).optPrecision(Precision.parse(precision))
                .optConv(ConvPolicy.parse(conv)).optTuneListener(TuneProgress.choose(progress));
    }

    /**
     * The largest --threads: 4 threads per processor, and at least 1024 whatever the machine. More threads than cores
     * only time-slice one another (the CPU kernels split work per thread), so a limit costs nothing real; 1024 keeps a
     * value that suits a large server from being refused on a small machine, and 4 per processor leaves room on
     * machines with more than 256 of them. Above it, --threads 100000 started that many native threads.
     */
    static int maxThreads() {
        return Math.max(1024, 4 * Runtime.getRuntime().availableProcessors());
    }

    private void applyThreads() {
        if (threads != null) {
            if (threads < 1 || threads > maxThreads()) {
                throw new UsageException("--threads must be in [1, " + maxThreads() + "] (the larger of 1024 and 4 per "
                        + "processor), got " + threads);
            }
            io.reskern.Devices.setCpuThreads(threads);
        }
    }

    public Model build() throws ReskernException {
        return builder().build();
    }
}
