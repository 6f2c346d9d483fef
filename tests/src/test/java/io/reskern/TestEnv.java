package io.reskern;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/** Where test inputs live, and the rule for inputs that may be absent: skip locally, fail under CI=true. */
public final class TestEnv {
    private TestEnv() {
    }

    public static boolean ci() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    /** PyTorch goldens folder (tests/golden/make_goldens.sh writes it before the tests run). */
    public static Path goldens() {
        Path p = Path.of(System.getProperty("reskern.goldens", "target/goldens"));
        require(Files.isRegularFile(p.resolve("manifest.json")), "PyTorch goldens missing in " + p
                + " (install python3-torch python3-torchvision; tests/golden/make_goldens.sh makes them)");
        return p;
    }

    /**
     * shared/models (trained CIFAR-10 nets). They live outside the repository, so a checkout without them SKIPS the
     * tests that need them, with the reason (visible in Surefire's skipped count) — even under CI=true, since whether a
     * CI machine has the folder is not the project's to decide; {@code -Dreskern.requireModels=true} makes it a failure.
     */
    public static Path models() {
        Path p = Path.of(System.getProperty("reskern.models", "../shared/models"));
        boolean ok = Files.isDirectory(p.resolve("cifar10-resnet"));
        if (!ok && Boolean.getBoolean("reskern.requireModels")) {
            throw new AssertionError("reskern.requireModels=true but trained models missing in " + p);
        }
        Assumptions.assumeTrue(ok, "trained models missing in " + p);
        return p;
    }

    /** Skips the test when {@code ok} is false — except in CI, where a missing input is a failure. */
    public static void require(boolean ok, String why) {
        if (!ok && ci()) {
            throw new AssertionError("CI=true but " + why);
        }
        Assumptions.assumeTrue(ok, why);
    }
}
