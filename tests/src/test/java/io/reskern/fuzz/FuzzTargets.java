package io.reskern.fuzz;

import io.reskern.ReskernException;
import io.reskern.graph.Graph;
import io.reskern.graph.GraphAssembler;
import io.reskern.io.SafeTensors;
import io.reskern.onnx.OnnxImporter;
import io.reskern.onnx.OnnxModel;
import io.reskern.weights.FoldedWeights;
import io.reskern.weights.SafeTensorsSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What the fuzz tests run on one input. The only allowed outcomes are success or a {@link ReskernException}; anything
 * else thrown (another exception, an Error such as OutOfMemoryError or StackOverflowError) and a timeout are findings.
 */
final class FuzzTargets {
    private FuzzTargets() {
    }

    /** conv1 (3→4, 3×3, BN bn1) → global pool → fc (4→2): the graph the safetensors seeds are checkpoints of. */
    static Graph tinyGraph() {
        GraphAssembler a = new GraphAssembler("tiny");
        int x = a.conv(a.input(), 4, 3, 1, 1, 1, "conv1", "bn1", Graph.DEFAULT_BN_EPS, true, -1, io.reskern.graph.Node.Residual.NONE);
        return a.build(a.fc(a.globalAvgPool(x), 2, "fc"));
    }

    static final Graph TINY = tinyGraph();

    /** A folder with one small file, for external-data references in ONNX inputs ("w.bin", 4 KiB). */
    static final Path EXTERNAL_DIR;
    /** Where safetensors inputs are written (the reader takes a path). */
    static final Path SAFETENSORS_FILE;

    static {
        try {
            EXTERNAL_DIR = Files.createTempDirectory("reskern-fuzz-ext");
            byte[] w = new byte[4096];
            for (int i = 0; i < w.length; i++) {
                w[i] = (byte) (i * 31 + 7);
            }
            Files.write(EXTERNAL_DIR.resolve("w.bin"), w);
            SAFETENSORS_FILE = Files.createTempFile("reskern-fuzz", ".safetensors");
            EXTERNAL_DIR.toFile().deleteOnExit();
            SAFETENSORS_FILE.toFile().deleteOnExit();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** safetensors: open (header checks), read every tensor, check + fold against the tiny graph. */
    static void safetensors(byte[] data) throws IOException {
        Files.write(SAFETENSORS_FILE, data);
        try (SafeTensors f = SafeTensors.open(SAFETENSORS_FILE)) {
            for (String n : f.names()) {
                try {
                    f.getFloats(n);
                } catch (ReskernException e) {
                    // non-float dtype, too large: documented
                }
            }
        } catch (ReskernException e) {
            return;
        }
        try (SafeTensorsSource src = SafeTensorsSource.open(SAFETENSORS_FILE)) {
            FoldedWeights.load(TINY, src);
        } catch (ReskernException e) {
            // documented
        }
    }

    /** ONNX: parse + import + fold the weights + plan a small input. */
    static void onnx(byte[] data) {
        OnnxModel m;
        try {
            m = OnnxImporter.load(data, "fuzz", EXTERNAL_DIR);
            FoldedWeights.load(m.graph(), m.weights());
        } catch (ReskernException e) {
            return;
        }
        try {
            m.graph().plan(1, 16, 16);
        } catch (IllegalArgumentException e) {
            if (!e.getMessage().startsWith("input too small")) {
                throw e; // the only documented refusal of a valid graph: an input smaller than its windows
            }
        }
    }
}
