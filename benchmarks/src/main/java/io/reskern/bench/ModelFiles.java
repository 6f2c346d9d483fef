package io.reskern.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Where the benchmark models live, and how they are made. Directory: system property {@code reskern.bench.models},
 * else environment variable {@code RESKERN_BENCH_MODELS}, else {@code benchmarks/models} under the repository root
 * (found upwards from the working directory). Each model NAME has four files there: {@code NAME.onnx},
 * {@code NAME.safetensors}, {@code NAME.input.npy}, {@code NAME.expected.npy}. When any is missing they are generated
 * with {@code /usr/bin/python3 benchmarks/scripts/export_model.py --model NAME --out DIR} (torch 1.13, ~20 s for
 * ResNet-50).
 */
final class ModelFiles {
    static final String SCRIPT = "benchmarks/scripts/export_model.py";

    /** The file set of one model in {@code dir}. */
    record FileSet(String model, Path dir) {
        Path onnx() {
            return dir.resolve(model + ".onnx");
        }

        Path safetensors() {
            return dir.resolve(model + ".safetensors");
        }

        Path input() {
            return dir.resolve(model + ".input.npy");
        }

        Path expected() {
            return dir.resolve(model + ".expected.npy");
        }

        List<Path> all() {
            return List.of(onnx(), safetensors(), input(), expected());
        }

        List<String> missing() {
            return all().stream().filter(f -> !Files.isRegularFile(f)).map(f -> f.getFileName().toString()).toList();
        }
    }

    private ModelFiles() {
    }

    /** The file set of {@code model}, with every file present (generating them if needed). */
    static synchronized FileSet ensure(String model) {
        Path root = repoRoot();
        FileSet set = new FileSet(model, directory(root, model));
        if (set.missing().isEmpty()) {
            return set;
        }
        Path python = Path.of("/usr/bin/python3");
        if (root == null || !Files.isExecutable(python)) {
            throw new IllegalStateException(howTo(set, root == null ? "the repository root (with " + SCRIPT
                    + ") is not above the working directory " + Path.of("").toAbsolutePath() : "/usr/bin/python3 is missing"));
        }
        System.out.println("# " + model + " files missing in " + set.dir() + " " + set.missing() + ": running " + SCRIPT
                + " --model " + model);
        try {
            Process p = new ProcessBuilder(python.toString(), root.resolve(SCRIPT).toString(), "--model", model,
                    "--out", set.dir().toString()).inheritIO().start();
            int rc = p.waitFor();
            if (rc != 0 || !set.missing().isEmpty()) {
                throw new IllegalStateException(howTo(set, "the export script exited with " + rc));
            }
        } catch (IOException e) {
            throw new IllegalStateException(howTo(set, e.toString()), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while exporting " + model, e);
        }
        return set;
    }

    static Path directory(Path root, String model) {
        String prop = System.getProperty("reskern.bench.models");
        if (prop == null || prop.isBlank()) {
            prop = System.getenv("RESKERN_BENCH_MODELS");
        }
        if (prop != null && !prop.isBlank()) {
            return Path.of(prop).toAbsolutePath();
        }
        if (root == null) {
            throw new IllegalStateException("set -Dreskern.bench.models=DIR (or RESKERN_BENCH_MODELS) to a directory holding "
                    + new FileSet(model, Path.of("")).all() + ", or run from inside the reskern repository");
        }
        return root.resolve("benchmarks/models");
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

    private static String howTo(FileSet set, String why) {
        return "benchmark model " + set.model() + ": " + set.missing() + " missing in " + set.dir()
                + " and could not be generated (" + why + "). Make them with: /usr/bin/python3 " + SCRIPT + " --model "
                + set.model() + " --out " + set.dir()
                + "  (needs Debian python3-torch, python3-torchvision, python3-onnx, python3-numpy; --model takes a "
                + "torchvision ResNet name: resnet18/34/50/101/152, resnext50_32x4d, resnext101_32x8d, wide_resnet50_2, "
                + "wide_resnet101_2), or point -Dreskern.bench.models / RESKERN_BENCH_MODELS at a directory that has them.";
    }
}
