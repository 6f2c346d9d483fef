package io.reskern.backend.conv;

/**
 * Progress of a tuning pass (one call per distinct conv problem). The library's default is {@link #NONE}; the CLI
 * shows a progress bar on a terminal. Called on the tuning thread.
 */
public interface TuneListener {
    /** {@code total} distinct problems, {@code cached} of them answered by the cache. */
    default void start(int total, int cached) {
    }

    /** One problem finished ({@code fromCache}: nothing was timed). */
    default void step(String label, boolean fromCache) {
    }

    /** The pass ended (also after a failure). */
    default void end() {
    }

    TuneListener NONE = new TuneListener() {
    };
}
