package io.reskern.cli;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.reskern.ReskernException;
import io.reskern.image.ImageDecoder;
import io.reskern.image.Labels;
import io.reskern.image.Preprocess;
import io.reskern.image.RgbImage;
import io.reskern.serve.Input;
import io.reskern.serve.Predictions;
import io.reskern.serve.Predictor;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code reskern classify IMAGE…}: decode JPEG/PNG files, preprocess (resize the shorter side, centre crop, normalise —
 * on the GPU when the model runs on one), run them through a batching {@link Predictor}, print the top-k classes.
 */
@Command(name = "classify", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Classify JPEG/PNG images: top-k classes per image (decoding in parallel, batched inference).")
final class ClassifyCommand implements Callable<Integer> {
    @Mixin
    ModelOptions opts;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "IMAGE", description = "JPEG or PNG files")
    List<Path> images;

    @Option(names = "--labels", paramLabel = "FILE", description = "class labels: one per line, a JSON array, or "
            + "imagenet_class_index.json")
    Path labels;

    @Option(names = "--top", defaultValue = "5", paramLabel = "K", description = "classes per image (default ${DEFAULT-VALUE})")
    int top;

    @Option(names = "--size", paramLabel = "PX", description = "model input height = width (default 224, CIFAR 32; an ONNX file the H x W its input declares)")
    Integer size;

    @Option(names = "--resize", paramLabel = "PX", description = "resize the shorter side to PX before the crop "
            + "(default: size*256/224; CIFAR: none); 0 = no resize")
    Integer resize;

    @Option(names = "--mean", split = ",", paramLabel = "R,G,B", description = "normalisation mean (default ImageNet's)")
    float[] mean;

    @Option(names = "--std", split = ",", paramLabel = "R,G,B", description = "normalisation std (default ImageNet's)")
    float[] std;

    @Option(names = "--batch", defaultValue = "8", paramLabel = "N", description = "largest batch (default ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--json", description = "print one JSON array instead of text, one object per IMAGE in order: "
            + "{\"file\", \"top\": [{\"index\", \"label\" (with --labels), \"probability\", \"logit\"}…]}, or "
            + "{\"file\", \"error\"} for a file that failed (exit 2 then)")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if (top < 1) {
            throw new UsageException("--top must be >= 1, got " + top);
        }
        if (batch < 1) {
            throw new UsageException("--batch must be >= 1, got " + batch);
        }
        if (size != null && (size < 1 || size > Preprocess.MAX_SIDE)) {
            throw new UsageException("--size must be in [1, " + Preprocess.MAX_SIDE + "], got " + size);
        }
        if (size != null && resize == null && Math.round(size * 256.0 / 224) > Preprocess.MAX_SIDE) {
            throw new UsageException("--size " + size + " resizes the shorter side to " + Math.round(size * 256.0 / 224)
                    + " by default (size*256/224), more than " + Preprocess.MAX_SIDE + ": give --resize PX (0: none)");
        }
        Preprocess custom = customPreprocess(); // checks --resize, --mean, --std before any file is read
        for (Path p : images) {
            OutputPaths.requireFile(p, "image file");
        }
        Labels names = labels != null ? loadLabels() : null;
        // no larger batch than there are images: a bigger one only costs memory (and warm-up) that no pass uses
        Predictor.Builder pb = Predictor.builder(opts.builder()).optMaxBatch(Math.min(batch, images.size()))
                .optMaxWait(Duration.ZERO);
        if (size != null) {
            pb.optInputSize(size, size);
        }
        if (custom != null) {
            pb.optPreprocess(custom);
        }
        if (names != null) {
            pb.optLabels(names.asList());
        }
        int failures = 0;
        JsonArray out = new JsonArray();
        ExecutorService decoders = Executors.newFixedThreadPool(Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors())));
        try (Predictor p = buildWithLabelCheck(pb, names)) {
            ImageDecoder decoder = ImageDecoder.defaults();
            List<CompletableFuture<Predictions>> results = new ArrayList<>();
            for (Path f : images) {
                results.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        return decoder.decode(f);
                    } catch (ReskernException e) {
                        throw new java.util.concurrent.CompletionException(e);
                    }
                }, decoders).thenCompose((RgbImage img) -> p.predictAsync(Input.image(img))));
            }
            for (int i = 0; i < images.size(); i++) {
                if (!json && System.out.checkError()) {
                    break; // standard output is gone (a closed pipe: | head): no one reads the rest; Main reports it
                }
                Path f = images.get(i);
                Predictions r;
                try {
                    r = results.get(i).join();
                } catch (java.util.concurrent.CompletionException e) {
                    Throwable c = e.getCause() != null ? e.getCause() : e;
                    spec.commandLine().getErr().println("reskern: error: " + Main.describe(c));
                    spec.commandLine().getErr().flush();
                    failures++;
                    if (json) { // one entry per file given, in order: a failed one says why instead of "top"
                        JsonObject o = new JsonObject();
                        o.addProperty("file", f.toString());
                        o.addProperty("error", Main.describe(c));
                        out.add(o);
                    }
                    continue;
                }
                List<Predictions.Top> t = r.topK(0, Math.min(top, r.classes()));
                if (json) {
                    JsonObject o = new JsonObject();
                    o.addProperty("file", f.toString());
                    JsonArray ts = new JsonArray();
                    for (Predictions.Top x : t) {
                        JsonObject e = new JsonObject();
                        e.addProperty("index", x.index());
                        if (x.label() != null) {
                            e.addProperty("label", x.label());
                        }
                        e.addProperty("probability", x.probability());
                        e.addProperty("logit", x.logit());
                        ts.add(e);
                    }
                    o.add("top", ts);
                    out.add(o);
                } else {
                    StringBuilder sb = new StringBuilder(f.toString()).append(':');
                    for (int k = 0; k < t.size(); k++) {
                        Predictions.Top x = t.get(k);
                        sb.append(String.format(Locale.ROOT, "  %d. %s (%.4f)", k + 1,
                                x.label() != null ? x.label() : "class " + x.index(), x.probability()));
                    }
                    System.out.println(sb);
                }
            }
            if (json) {
                System.out.println(new GsonBuilder().setPrettyPrinting().create().toJson(out));
            }
        } finally {
            decoders.shutdownNow();
        }
        return failures == 0 ? 0 : 2;
    }

    private Labels loadLabels() throws ReskernException {
        OutputPaths.requireFile(labels, "labels file");
        return Labels.load(labels);
    }

    private Predictor buildWithLabelCheck(Predictor.Builder pb, Labels names) throws ReskernException {
        try {
            return pb.build();
        } catch (IllegalArgumentException e) {
            if (size == null && e.getMessage() != null && e.getMessage().startsWith("the preprocessing crops ")) {
                // --resize/--mean/--std crop at 224 (CIFAR 32) when --size is not given; this model's default differs
                throw new UsageException("--resize/--mean/--std crop " + e.getMessage().replaceFirst("^the preprocessing crops ", "")
                        .replaceFirst(", but the predictor's input is ", " without --size, but this model's input is ")
                        + ": give --size");
            }
            if (names != null && e.getMessage() != null && e.getMessage().contains("labels for a model with")) {
                throw new IllegalArgumentException("--labels has " + names.size() + " labels, but " + e.getMessage()
                        .replaceFirst("^\\d+ labels for a model with ", "the model has "), e);
            }
            throw e;
        }
    }

    /** --resize/--mean/--std given: a Preprocess from them (the crop is the input size); else null (the defaults). */
    private Preprocess customPreprocess() {
        if (resize == null && mean == null && std == null) {
            return null;
        }
        int px = size != null ? size : opts.isCifar() ? 32 : 224;
        float[] m = mean != null ? mean : Preprocess.IMAGENET_MEAN;
        float[] s = std != null ? std : Preprocess.IMAGENET_STD;
        if (m.length != 3 || s.length != 3) {
            throw new UsageException("--mean and --std take three values (R,G,B)");
        }
        int r = resize != null ? resize : opts.isCifar() ? 0 : (int) Math.round(px * 256.0 / 224);
        if (resize != null && (r < 0 || r > Preprocess.MAX_SIDE)) {
            throw new UsageException("--resize must be in [0, " + Preprocess.MAX_SIDE + "] (0 = no resize), got " + r);
        }
        return new Preprocess(r, px, px, m, s);
    }
}
