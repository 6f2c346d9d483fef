package io.reskern.cli;

/**
 * A flag value or combination the command does not accept (found after parsing): printed like picocli's own usage
 * errors, {@code reskern: error: …} and a {@code Try '… --help'} line, exit 2. An {@link IllegalArgumentException},
 * so code embedding {@link ModelOptions} treats it as any other bad argument.
 */
public final class UsageException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public UsageException(String message) {
        super(message);
    }
}
