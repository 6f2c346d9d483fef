package io.reskern.cli;

import com.google.gson.GsonBuilder;
import io.reskern.ConvPolicy;
import io.reskern.Device;
import io.reskern.Model;
import io.reskern.Precision;
import io.reskern.ReskernException;
import io.reskern.ResNetSpec;
import io.reskern.ResNets;
import io.reskern.graph.Graph;
import io.reskern.graph.GraphBuilder;
import io.reskern.graph.Plan;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code reskern compare}: the block variants side by side — size, cost, memory, latency, throughput. */
@Command(name = "compare", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Compare ResNet variants on one device: params, GMACs, activation memory, batch-1 latency and "
                + "throughput, as a table and a chart (PNG).")
final class CompareCommand implements Callable<Integer> {
    static final List<String> DEFAULT_MODELS = List.of("resnet18", "resnet18d", "resnetv2_18", "resnet50_v1", "resnet50",
            "resnet50c", "resnet50d", "resnetv2_50", "resnext50_32x4d");

    @Option(names = "--models", split = ",", paramLabel = "NAME[,NAME…]",
            description = "models to compare (default: resnet18, resnet18d, resnetv2_18, resnet50_v1, resnet50, resnet50c, "
                    + "resnet50d, resnetv2_50, resnext50_32x4d)")
    List<String> models;

    @Option(names = "--device", defaultValue = "auto", paramLabel = "auto|cpu|cuda[:i]",
            description = "device (default: ${DEFAULT-VALUE}, the best one present)")
    String device;

    @Option(names = "--precision", paramLabel = "fp32|tf32|fp16|bf16",
            description = "precision (default: fp16 on a GPU, fp32 on the CPU)")
    String precision;

    @Option(names = "--size", defaultValue = "224", paramLabel = "PX", description = "input size (default ${DEFAULT-VALUE}; CIFAR models always 32)")
    int size;

    @Option(names = "--batch", paramLabel = "N", description = "batch for the throughput column (default: 8 on the CPU, 256 on a GPU)")
    Integer batch;

    @Option(names = "--seconds", defaultValue = "1", paramLabel = "S", description = "minimum timed seconds per measurement (default ${DEFAULT-VALUE})")
    double seconds;

    @Option(names = "--chart", defaultValue = "reskern-compare.png", paramLabel = "FILE", converter = OutputPaths.FileName.class,
            description = "chart to write: a PNG image at exactly FILE, whatever its name (default ${DEFAULT-VALUE}; "
                    + "'none': no chart, e.g. on a JRE without java.desktop)")
    Path chart;

    @Option(names = "--json", description = "print the rows as one JSON array on standard output (the table and the "
            + "progress lines go to standard error)")
    boolean json;

    @Option(names = "--no-timing", description = "only the static columns (params, GMACs, memory): no model is run")
    boolean noTiming;

    @Option(names = "--conv", split = ",", paramLabel = "own|cudnn|best[,…]",
            description = "conv implementations to time, one row each (default on a GPU: own,cudnn,best; on the CPU: own)")
    List<String> conv;

    @Option(names = "--progress", negatable = true, description = "progress bar while cudnn/best tune (default: on a console)")
    Boolean progress;

    /** One row of the table. */
    record Row(String model, String family, String conv, double paramsM, double gmacs, double activationMiB, Double latencyMs,
               Double imagesPerS) {
    }

    /** The --conv list (validated), default by device. */
    static List<ConvPolicy> policies(List<String> conv, Device dev) {
        if (conv == null || conv.isEmpty()) {
            return dev.isCuda() ? List.of(ConvPolicy.OWN, ConvPolicy.CUDNN, ConvPolicy.BEST) : List.of(ConvPolicy.OWN);
        }
        List<ConvPolicy> out = new ArrayList<>();
        for (String c : conv) {
            ConvPolicy p = ConvPolicy.parse(c);
            if (!out.contains(p)) {
                out.add(p);
            }
        }
        if (!dev.isCuda() && !out.equals(List.of(ConvPolicy.OWN))) {
            throw new UsageException("--conv cudnn/best need a CUDA device (the CPU has one conv implementation)");
        }
        return out;
    }

    @Override
    public Integer call() throws Exception {
        if (models != null && models.isEmpty()) { // `--models ,` used to compare the default list
            throw new UsageException("--models needs at least one model name");
        }
        List<String> names = models != null ? models : DEFAULT_MODELS;
        // with --json standard output carries the JSON only, so `compare --json | jq` parses it (the table, the
        // header and the chart line used to come first on the same stream)
        java.io.PrintStream text = json ? System.err : System.out; // System.out's own encoding (not a new writer's)
        List<ResNetSpec> specs = new ArrayList<>();
        for (String n : names) {
            specs.add(ResNets.byName(n)); // fail fast on a bad name, before any timing
        }
        if (size < 32) {
            throw new UsageException("--size must be >= 32, got " + size);
        }
        if (!(seconds >= 0) || Double.isInfinite(seconds)) {
            throw new UsageException("--seconds must be finite and >= 0, got " + seconds);
        }
        Device dev = Device.parse(device);
        List<ConvPolicy> convs = policies(conv, dev);
        Precision prec = precision != null ? Precision.parse(precision) : (dev.isCuda() ? Precision.FP16 : Precision.FP32);
        if (!dev.isCuda()) { // the same refusal a model build gives, before any row
            io.reskern.backend.Executors.checkCpuPrecision(prec);
        }
        int tputBatch = batch != null ? batch : (dev.isCuda() ? 256 : 8);
        if (tputBatch < 1) {
            throw new UsageException("--batch must be >= 1, got " + tputBatch);
        }
        // the chart is a PNG written to exactly the path given, whatever its name (checked before any timing)
        final boolean noChart = "none".equalsIgnoreCase(chart.toString());
        if (!noChart) {
            OutputPaths.prepare(chart, "--chart");
        }
        text.printf(Locale.ROOT, "reskern compare on %s (%s), input %dx%d (CIFAR nets 32x32), throughput at batch %d%s%n", dev, prec, size, size,
                tputBatch, noTiming ? " (static columns only)" : "");
        List<Row> rows = new ArrayList<>();
        for (ResNetSpec spec : specs) {
            int px = spec.stem() == ResNetSpec.Stem.CIFAR ? 32 : size;
            Graph g = GraphBuilder.build(spec);
            Plan p1 = g.plan(1, px, px);
            for (ConvPolicy cp : convs) {
                Double lat = null;
                Double tput = null;
                if (!noTiming) {
                    try (Model m = Model.builder().spec(spec).optDevice(dev).optPrecision(prec).optConv(cp)
                            .optTuneListener(TuneProgress.choose(progress)).build()) {
                        // --seconds is a minimum: a cap of 1,000 runs cut a 0.5 ms CIFAR net's second to 0.5 s
                        lat = Measure.time(m, 1, px, px, 2, 5, seconds, Measure.MAX_RUNS).medianMs();
                        tput = Measure.time(m, tputBatch, px, px, 1, 3, seconds, Measure.MAX_RUNS).imagesPerSecond();
                    }
                }
                rows.add(new Row(spec.name(), ResNets.family(spec), cp.toString(), g.parameterCount() / 1e6, p1.macs() / 1e9,
                        p1.arenaElements() * (double) prec.bytes() / (1 << 20), lat, tput));
            }
            System.err.printf(Locale.ROOT, "  measured %s%n", spec.name());
        }
        printTable(text, rows, tputBatch);
        if (!noChart) {
            writeChart(rows, dev, prec, tputBatch);
            text.println("chart: " + chart.toAbsolutePath());
        }
        text.flush();
        if (json) {
            System.out.println(new GsonBuilder().serializeNulls().setPrettyPrinting().create().toJson(rows));
        }
        return 0;
    }

    private static void printTable(java.io.PrintStream out, List<Row> rows, int b) {
        String head = String.format(Locale.ROOT, "%-18s %-8s %-5s %9s %7s %12s %12s %14s", "model", "family", "conv", "params(M)", "GMACs",
                "act.mem(MiB)", "lat b1 (ms)", "img/s b" + b);
        out.println(head);
        out.println("-".repeat(head.length()));
        for (Row r : rows) {
            out.printf(Locale.ROOT, "%-18s %-8s %-5s %9.2f %7.3f %12.2f %12s %14s%n", r.model(), r.family(), r.conv(), r.paramsM(), r.gmacs(),
                    r.activationMiB(), r.latencyMs() == null ? "-" : String.format(Locale.ROOT, "%.2f", r.latencyMs()),
                    r.imagesPerS() == null ? "-" : String.format(Locale.ROOT, "%.1f", r.imagesPerS()));
        }
    }

    private void writeChart(List<Row> rows, Device dev, Precision prec, int b) throws java.io.IOException, ReskernException {
        System.setProperty("java.awt.headless", "true");
        List<CategoryChart> charts = charts(rows, dev, prec, b, noTiming);
        // the encoder's file-name variant appends ".png" to any other name (x.jpg -> x.jpg.png, /dev/null ->
        // /dev/null.png): encode to memory, then write exactly the path given (through a symbolic link, into a device)
        java.io.ByteArrayOutputStream png = new java.io.ByteArrayOutputStream();
        BitmapEncoder.saveBitmap(charts, 2, (charts.size() + 1) / 2, png, BitmapEncoder.BitmapFormat.PNG);
        try {
            java.nio.file.Files.write(chart, png.toByteArray());
        } catch (java.io.IOException e) {
            throw new ReskernException(ReskernException.ErrorCode.IO, "cannot write --chart " + chart + ": "
                    + OutputPaths.reason(e), e);
        }
    }

    /** The chart panels; their axis numbers are formatted in Locale.ROOT (12.5, not the JVM locale's 12,5). */
    static List<CategoryChart> charts(List<Row> rows, Device dev, Precision prec, int b, boolean noTiming) {
        boolean several = rows.stream().map(Row::conv).distinct().count() > 1;
        List<String> x = rows.stream().map(r -> several ? r.model() + " " + r.conv() : r.model()).toList();
        List<CategoryChart> charts = new ArrayList<>();
        Map<String, List<Double>> series = new LinkedHashMap<>();
        series.put("GMACs", rows.stream().map(Row::gmacs).toList());
        series.put("params (M)", rows.stream().map(Row::paramsM).toList());
        if (!noTiming) {
            series.put("latency batch 1 (ms)", rows.stream().map(r -> r.latencyMs() == null ? 0.0 : r.latencyMs()).toList());
            series.put("images/s at batch " + b, rows.stream().map(r -> r.imagesPerS() == null ? 0.0 : r.imagesPerS()).toList());
        }
        for (Map.Entry<String, List<Double>> e : series.entrySet()) {
            CategoryChart c = new CategoryChartBuilder().width(640).height(420)
                    .title(e.getKey() + " — " + dev + " " + prec).xAxisTitle("").yAxisTitle(e.getKey()).build();
            c.getStyler().setLocale(Locale.ROOT);
            c.getStyler().setLegendVisible(false);
            c.getStyler().setXAxisLabelRotation(45);
            c.getStyler().setChartTitleFont(c.getStyler().getChartTitleFont().deriveFont(13f));
            c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
            c.addSeries(e.getKey(), x, e.getValue());
            charts.add(c);
        }
        return charts;
    }
}
