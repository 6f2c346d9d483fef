package io.reskern;

import java.util.Locale;

/**
 * Where a model runs: the CPU, or one CUDA GPU by index. {@code auto} is resolved by {@link Devices#best()}.
 */
public record Device(Kind kind, int index) {
    /** Device kinds. */
    public enum Kind { CPU, CUDA }

    public static final Device CPU = new Device(Kind.CPU, 0);

    public Device {
        if (index < 0) {
            throw new IllegalArgumentException("device index must be >= 0, got " + index);
        }
    }

    public static Device cuda(int index) {
        return new Device(Kind.CUDA, index);
    }

    /**
     * Parses {@code cpu}, {@code cuda}, {@code cuda:N} or {@code auto} (the best device present).
     *
     * @throws IllegalArgumentException for anything else
     */
    public static Device parse(String s) {
        String t = s.trim().toLowerCase(Locale.ROOT);
        if (t.equals("cpu")) {
            return CPU;
        }
        if (t.equals("auto")) {
            return Devices.best();
        }
        if (t.equals("cuda") || t.equals("gpu")) {
            return cuda(0);
        }
        if (t.startsWith("cuda:") && t.substring(5).matches("[0-9]{1,9}")) { // ASCII digits: parseInt also takes "+1", "١"
            try {
                return cuda(Integer.parseInt(t.substring(5)));
            } catch (NumberFormatException e) {
                // fall through
            }
        }
        throw new IllegalArgumentException("unknown device '" + s + "': use auto, cpu, cuda or cuda:N");
    }

    public boolean isCuda() {
        return kind == Kind.CUDA;
    }

    @Override
    public String toString() {
        return kind == Kind.CPU ? "cpu" : "cuda:" + index;
    }
}
