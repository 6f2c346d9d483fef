package io.reskern;

import java.util.Locale;

/**
 * Numeric precision of activations and weights. Accumulation is fp32 in every mode.
 * CUDA runs all four ({@link #TF32} is fp32 storage with tensor-core math, opt-in). The CPU runs {@link #FP32}, and
 * {@link #BF16} where it has AVX512_BF16: there only the dense convs' operands are rounded to bf16 (activations stay fp32;
 * grouped convs and Winograd ones of up to 256 channels stay fp32); {@link #FP16} and {@link #TF32} are GPU only.
 */
public enum Precision {
    FP32, TF32, FP16, BF16;

    public static Precision parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown precision '" + s + "': use fp32, tf32, fp16 or bf16");
        }
    }

    /** Bytes per stored activation element. */
    public int bytes() {
        return this == FP16 || this == BF16 ? 2 : 4;
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
