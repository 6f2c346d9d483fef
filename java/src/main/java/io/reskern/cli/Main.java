package io.reskern.cli;

import io.reskern.ReskernException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code reskern} command line: run, classify, bench, compare, info. Errors print one line ({@code reskern: error: …}) and exit
 * non-zero — never a stack trace (set {@code RESKERN_DEBUG=1} to see one).
 */
@Command(name = "reskern", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Fast ResNet inference on hand-written CUDA and CPU kernels.",
        subcommands = {RunCommand.class, ClassifyCommand.class, BenchCommand.class, CompareCommand.class, InfoCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command: run, classify, bench, compare or info");
    }

    public static void main(String[] args) {
        useOneLineLogs();
        int code = execute(args);
        System.exit(finish(code, System.out, new PrintWriter(System.err, true), stdoutIsPipe()));
    }

    /**
     * One line per log record ({@code INFO: reskern: …}) unless the user configured java.util.logging; call before the
     * first log record (programs embedding the CLI's options, such as {@code examples/}, call it in their main).
     */
    public static void useOneLineLogs() {
        if (System.getProperty("java.util.logging.SimpleFormatter.format") == null
                && System.getProperty("java.util.logging.config.file") == null) {
            System.setProperty("java.util.logging.SimpleFormatter.format", "%4$s: %5$s%6$s%n");
            // SimpleFormatter's %4$s is the level's localized name (de: "INFORMATION", "WARNUNG"): the console handler
            // gets the same one-line form with the level's own name, whatever the JVM's locale
            for (java.util.logging.Handler h : java.util.logging.Logger.getLogger("").getHandlers()) {
                if (h instanceof java.util.logging.ConsoleHandler) {
                    h.setFormatter(ONE_LINE_LOGS);
                }
            }
        }
    }

    /** {@code LEVEL: message} (plus the stack trace of a thrown exception), the level in English: INFO, WARNING, SEVERE. */
    static final java.util.logging.Formatter ONE_LINE_LOGS = new java.util.logging.Formatter() {
        @Override
        public String format(java.util.logging.LogRecord r) {
            StringBuilder sb = new StringBuilder(r.getLevel().getName()).append(": ").append(formatMessage(r));
            if (r.getThrown() != null) {
                java.io.StringWriter sw = new java.io.StringWriter();
                r.getThrown().printStackTrace(new PrintWriter(sw));
                sb.append(System.lineSeparator()).append(sw.toString().stripTrailing());
            }
            return sb.append(System.lineSeparator()).toString();
        }
    };

    /**
     * The exit code once the command has run: a failed write to standard output ({@code > /dev/full}, a closed
     * descriptor: {@link java.io.PrintStream} keeps such errors to itself) turns a success into exit 1 with one line on
     * {@code err}, so a script does not take lost output for a result. On a pipe whose reader has gone ({@code | head
     * -1}) the exit is 1 without a message, as a program killed by SIGPIPE says nothing.
     */
    static int finish(int code, java.io.PrintStream out, PrintWriter err, boolean stdoutIsPipe) {
        out.flush();
        if (out.checkError()) {
            if (!stdoutIsPipe) {
                err.println("reskern: error: cannot write to standard output (closed or full)");
                err.flush();
            }
            return code == 0 ? 1 : code;
        }
        return code;
    }

    /** Whether file descriptor 1 is a pipe (Linux: {@code /proc/self/fd/1 -> pipe:[…]}); false where unknown. */
    private static boolean stdoutIsPipe() {
        try {
            return java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/self/fd/1")).toString().startsWith("pipe:");
        } catch (java.io.IOException | RuntimeException e) {
            return false;
        }
    }

    /** Runs the CLI and returns its exit code (for tests: no System.exit). */
    public static int execute(String... args) {
        return run(newCommandLine(), args);
    }

    /**
     * {@code cl.execute(args)}, with the errors picocli lets through (it hands only exceptions to the handlers): out of
     * memory, a stack overflow or another {@link Error} prints the same one line and exits 1, not a stack trace.
     */
    public static int run(CommandLine cl, String... args) {
        try {
            return cl.execute(args);
        } catch (Error e) {
            PrintWriter err = cl.getErr();
            err.println(prefix(cl) + describe(e));
            if (System.getenv("RESKERN_DEBUG") != null) {
                e.printStackTrace(err);
            }
            err.flush();
            return 1;
        }
    }

    static CommandLine newCommandLine() {
        return configure(new CommandLine(new Main()));
    }

    /**
     * Installs the CLI's error handling on {@code cl} (for programs embedding reskern's options, e.g. {@code examples/}):
     * errors print one line {@code NAME: error: …} (NAME: the root command's name), usage errors add a
     * {@code Try 'NAME … --help'} line; exit 2 for usage, data and argument errors, 1 otherwise; a stack trace only
     * with {@code RESKERN_DEBUG} set.
     */
    public static CommandLine configure(CommandLine cl) {
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            PrintWriter err = cmd.getErr();
            err.println(prefix(cmd) + describe(ex));
            if (ex instanceof UsageException) {
                err.println(tryHelp(cmd));
            }
            if (System.getenv("RESKERN_DEBUG") != null) {
                ex.printStackTrace(err);
            }
            err.flush();
            return ex instanceof ReskernException || ex instanceof IllegalArgumentException ? 2 : 1;
        });
        cl.setParameterExceptionHandler((ex, args) -> {
            PrintWriter err = ex.getCommandLine().getErr();
            err.println(prefix(ex.getCommandLine()) + ex.getMessage());
            err.println(tryHelp(ex.getCommandLine()));
            err.flush();
            return 2;
        });
        return cl;
    }

    private static String prefix(CommandLine cmd) {
        return cmd.getCommandSpec().root().name() + ": error: ";
    }

    private static String tryHelp(CommandLine cmd) {
        return "Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for usage.";
    }

    static String describe(Throwable ex) {
        String msg = ex.getMessage();
        if (ex instanceof ReskernException re) {
            return msg + " [" + re.code() + "]";
        }
        if (ex instanceof OutOfMemoryError) {
            return "out of memory: " + msg + " (try a smaller batch, input or model, or a larger Java heap: "
                    + "RESKERN_JAVA_OPTS=-Xmx…)";
        }
        if (ex instanceof ArithmeticException) { // Math.*Exact on a size: a flag or file asks for more than fits
            return "a size is too large (" + msg + "): check --batch, --size, --classes or the input's shape";
        }
        return msg != null ? msg : ex.getClass().getSimpleName();
    }

    /** Version from the jar manifest (or "dev"). */
    public static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"reskern " + (v != null ? v : "0.1.0-dev")};
        }
    }
}
