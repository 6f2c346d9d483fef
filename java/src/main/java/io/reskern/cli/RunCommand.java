package io.reskern.cli;

import io.reskern.Model;
import io.reskern.io.Npy;
import io.reskern.io.NpyArray;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code reskern run}: logits for a batch of images in a .npy file. */
@Command(name = "run", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Run a model on X.npy (float32 NCHW [N,3,H,W]) and write the logits to Y.npy (float32 [N,classes]).")
final class RunCommand implements Callable<Integer> {
    @Mixin
    ModelOptions opts;

    @Option(names = "--input", required = true, paramLabel = "X.npy", description = "NCHW images: float32, float64, float16 or uint8 (taken as is)")
    Path input;

    @Option(names = "--output", required = true, paramLabel = "Y.npy", description = "where to write float32 logits (missing parent folders are created)")
    Path output;

    @Override
    public Integer call() throws Exception {
        OutputPaths.requireFile(input, "input file");
        OutputPaths.prepare(output, "--output");
        NpyArray x = Npy.read(input);
        long[] s = x.shape();
        if (s.length != 4 || s[1] != 3) {
            throw new IllegalArgumentException("input must be NCHW [N,3,H,W], got shape " + Arrays.toString(s) + " in " + input);
        }
        if (s[0] < 1 || s[2] < 1 || s[3] < 1 || s[0] * s[2] * s[3] > Integer.MAX_VALUE / 3) {
            throw new IllegalArgumentException("unsupported input shape " + Arrays.toString(s));
        }
        try (Model model = opts.build()) {
            long t0 = System.nanoTime();
            float[] y = model.predict(x.data(), (int) s[0], (int) s[2], (int) s[3]);
            double ms = (System.nanoTime() - t0) / 1e6;
            Npy.write(output, new long[] {s[0], model.classes()}, y);
            System.out.printf("%s: wrote %s [%d, %d] (%s, %s, %s weights, %.1f ms)%n", model.name(), output, s[0],
                    model.classes(), model.device(), model.precision(), model.weightsDescription(), ms);
        }
        return 0;
    }
}
