package io.reskern.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Where the benchmark models live, and how they are made. Directory: system property {@code reskern.bench.models},
 * else environment variable {@code RESKERN_BENCH_MODELS}, else {@code benchmarks/models} under the repository root
 * (found upwards from the working directory). When files are missing they are generated with
 * {@code /usr/bin/python3 benchmarks/scripts/export_resnet50.py --out DIR} (torch 1.13, ~20 s).
 */
final class ModelFiles {
    static final String ONNX = "resnet50.onnx";
    static final String SAFETENSORS = "resnet50.safetensors";
    static final String INPUT = "resnet50.input.npy";
    static final String EXPECTED = "resnet50.expected.npy";
    private static final List<String> ALL = List.of(ONNX, SAFETENSORS, INPUT, EXPECTED);
    private static final String SCRIPT = "benchmarks/scripts/export_resnet50.py";

    private ModelFiles() {
    }

    /** The models directory, with every file present (generating them if needed). */
    static synchronized Path ensure() {
        Path root = repoRoot();
        Path dir = directory(root);
        if (missing(dir).isEmpty()) {
            return dir;
        }
        Path python = Path.of("/usr/bin/python3");
        if (root == null || !Files.isExecutable(python)) {
            throw new IllegalStateException(howTo(dir, missing(dir), root == null ? "the repository root (with " + SCRIPT
                    + ") is not above the working directory " + Path.of("").toAbsolutePath() : "/usr/bin/python3 is missing"));
        }
        System.out.println("# models missing in " + dir + " " + missing(dir) + ": running " + SCRIPT);
        try {
            Process p = new ProcessBuilder(python.toString(), root.resolve(SCRIPT).toString(), "--out", dir.toString())
                    .inheritIO().start();
            int rc = p.waitFor();
            if (rc != 0 || !missing(dir).isEmpty()) {
                throw new IllegalStateException(howTo(dir, missing(dir), "the export script exited with " + rc));
            }
        } catch (IOException e) {
            throw new IllegalStateException(howTo(dir, missing(dir), e.toString()), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while exporting the models", e);
        }
        return dir;
    }

    static Path directory(Path root) {
        String prop = System.getProperty("reskern.bench.models");
        if (prop == null || prop.isBlank()) {
            prop = System.getenv("RESKERN_BENCH_MODELS");
        }
        if (prop != null && !prop.isBlank()) {
            return Path.of(prop).toAbsolutePath();
        }
        if (root == null) {
            throw new IllegalStateException("set -Dreskern.bench.models=DIR (or RESKERN_BENCH_MODELS) to a directory holding "
                    + ALL + ", or run from inside the reskern repository");
        }
        return root.resolve("benchmarks/models");
    }

    private static List<String> missing(Path dir) {
        return ALL.stream().filter(f -> !Files.isRegularFile(dir.resolve(f))).toList();
    }

    /** The nearest directory at or above the working directory (or {@code reskern.bench.root}) holding the script. */
    static Path repoRoot() {
        String forced = System.getProperty("reskern.bench.root");
        Path p = (forced != null ? Path.of(forced) : Path.of("")).toAbsolutePath();
        for (; p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve(SCRIPT))) {
                return p;
            }
        }
        return null;
    }

    private static String howTo(Path dir, List<String> missing, String why) {
        return "benchmark models " + missing + " are missing in " + dir + " and could not be generated (" + why + "). "
                + "Make them with: /usr/bin/python3 " + SCRIPT + " --out " + dir
                + "  (needs Debian python3-torch, python3-torchvision, python3-onnx, python3-numpy), "
                + "or point -Dreskern.bench.models / RESKERN_BENCH_MODELS at a directory that has them.";
    }
}
