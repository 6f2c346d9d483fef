package io.reskern.cli;

import io.reskern.Model;
import io.reskern.ReskernException;
import io.reskern.io.Npy;
import io.reskern.io.NpyArray;
import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
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

    @Option(names = "--input", required = true, paramLabel = "X.npy", description = "NCHW images: float32, float64, float16 or uint8 (taken as is); - reads standard input")
    Path input;

    @Option(names = "--output", required = true, paramLabel = "Y.npy", converter = OutputPaths.FileName.class,
            description = "where to write float32 logits (missing parent folders are created; - is standard output)")
    Path output;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (output.toString().equals("-")) { // standard output, as with --input -
            output = Path.of("/dev/stdout");
        }
        boolean stream = isStream(input);
        if (!stream) {
            OutputPaths.requireFile(input, "input file");
        }
        OutputPaths.prepare(output, "--output");
        NpyArray x = stream ? readStream(input) : Npy.read(input);
        long[] s = x.shape();
        if (s.length != 4 || s[1] != 3) {
            throw new IllegalArgumentException("input must be NCHW [N,3,H,W], got shape " + Arrays.toString(s) + " in " + input);
        }
        if (s[0] < 1 || s[2] < 1 || s[3] < 1 || s[0] * s[2] * s[3] > Integer.MAX_VALUE / 3) {
            throw new IllegalArgumentException("unsupported input shape " + Arrays.toString(s));
        }
        String warning = nonFiniteWarning(x.data(), s);
        warn(warning);
        try (Model model = opts.build()) {
            long t0 = System.nanoTime();
            float[] y = model.predict(x.data(), (int) s[0], (int) s[2], (int) s[3]);
            double ms = (System.nanoTime() - t0) / 1e6;
            long[] ys = {s[0], model.classes()};
            if (warning == null) { // finite input, non-finite logits: NaN weights, or fp16/bf16 overflow
                String w = nonFinite(y, ys, "logits");
                warn(w == null ? null : w + ": check the weights (or the precision: fp16 overflows above 65504)");
            }
            Npy.write(output, ys, y);
            String done = String.format(Locale.ROOT, "%s: wrote %s [%d, %d] (%s, %s, %s weights, %.1f ms)", model.name(), output,
                    s[0], model.classes(), model.device(), model.precision(), model.weightsDescription(), ms);
            if (isStandardOutput(output)) { // the .npy went there: the line would land inside it (after its data)
                spec.commandLine().getErr().println(done);
                spec.commandLine().getErr().flush();
            } else {
                System.out.println(done);
            }
        }
        return 0;
    }

    /**
     * {@code -} (standard input), or something readable that is not a regular file or folder: a FIFO, a pipe such as
     * {@code /dev/stdin} or a process substitution {@code <(…)}. Read as a stream.
     */
    static boolean isStream(Path input) {
        if (input.toString().equals("-")) {
            return true;
        }
        return Files.exists(input) && !Files.isRegularFile(input) && !Files.isDirectory(input);
    }

    private static NpyArray readStream(Path input) throws ReskernException {
        if (input.toString().equals("-")) {
            return Npy.read(Channels.newChannel(System.in), "standard input");
        }
        try (ReadableByteChannel ch = Files.newByteChannel(input, StandardOpenOption.READ)) {
            return Npy.read(ch, input.toString());
        } catch (IOException e) {
            throw new ReskernException(ReskernException.ErrorCode.IO, input + ": cannot read: " + io.reskern.io.IoErrors.reason(e), e);
        }
    }

    /**
     * One line naming how many of the input's values are NaN or infinite and where the first is ({@code [n, c, h, w]}),
     * or null when all are finite: such an image's logits may be NaN, and the run goes on (exit 0), so say it once.
     */
    static String nonFiniteWarning(float[] x, long[] shape) {
        String w = nonFinite(x, shape, "input values");
        return w == null ? null : w + ": the logits of the images holding them may be NaN";
    }

    /** Whether {@code p} is this process's standard output (/dev/stdout, /dev/fd/1, or the file fd 1 is redirected to). */
    static boolean isStandardOutput(Path p) {
        String n = p.toString();
        if (n.equals("/dev/stdout") || n.equals("/dev/fd/1") || n.equals("/proc/self/fd/1")) {
            return true;
        }
        try {
            Path fd1 = Path.of("/proc/self/fd/1");
            return Files.exists(p) && Files.exists(fd1) && Files.isSameFile(p, fd1);
        } catch (java.io.IOException | RuntimeException e) {
            return false;
        }
    }

    private void warn(String warning) {
        if (warning != null) {
            spec.commandLine().getErr().println("reskern: warning: " + warning);
            spec.commandLine().getErr().flush();
        }
    }

    /** "K of M WHAT are NaN or infinite (the first at [i, j, …], v)", or null when all are finite. */
    static String nonFinite(float[] x, long[] shape, String what) {
        long count = 0;
        int first = -1;
        for (int i = 0; i < x.length; i++) {
            if (!Float.isFinite(x[i])) {
                if (first < 0) {
                    first = i;
                }
                count++;
            }
        }
        if (count == 0) {
            return null;
        }
        long[] at = new long[shape.length];
        long rest = first;
        for (int d = shape.length - 1; d >= 0; d--) {
            at[d] = rest % shape[d];
            rest /= shape[d];
        }
        return count + " of " + x.length + " " + what + " are NaN or infinite (the first at " + Arrays.toString(at) + ", "
                + x[first] + ")";
    }
}
