package io.reskern.cli;

import io.reskern.io.IoErrors;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Checks the paths a command is given before any work is done, so a bad one fails with one clear line, not a bare
 * file name (and not after minutes of timing).
 */
final class OutputPaths {
    private OutputPaths() {
    }

    /**
     * Refuses a folder as {@code option}'s file, creates the missing parent folders and refuses a folder it cannot
     * write in. An existing device or FIFO ({@code /dev/null}, {@code /dev/stdout}) is taken as it is.
     */
    static void prepare(Path file, String option) {
        if (file.toString().isEmpty()) {
            throw new UsageException(option + " needs a file name");
        }
        if (Files.isDirectory(file)) {
            throw new UsageException(option + " is a folder, not a file: " + file);
        }
        if (Files.isSymbolicLink(file) && !Files.exists(file)) {
            // a dangling link: the file it names is written (as the shell's > does), so check that one's folder
            Path target = linkTarget(file, option);
            if (!Files.isDirectory(target.toAbsolutePath().getParent())) {
                throw new IllegalArgumentException("cannot write " + option + " " + file + ": it is a symbolic link to "
                        + target + ", whose folder does not exist");
            }
            file = target;
        }
        if (Files.exists(file) && !Files.isRegularFile(file)) {
            if (!Files.isWritable(file)) {
                throw new IllegalArgumentException("cannot write " + option + " " + file + ": permission denied");
            }
            return;
        }
        Path parent = file.toAbsolutePath().getParent();
        if (parent == null) {
            return;
        }
        try {
            Files.createDirectories(parent);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot create the folder " + parent + " for " + option + ": " + reason(e), e);
        }
        if (!Files.isWritable(parent)) {
            throw new IllegalArgumentException("cannot write " + option + " " + file + ": no permission to write in the folder "
                    + parent);
        }
        if (Files.exists(file) && !Files.isWritable(file)) {
            throw new IllegalArgumentException("cannot write " + option + " " + file + ": the file is read-only");
        }
    }

    /** Where a chain of symbolic links ends (the last path, which need not exist). */
    private static Path linkTarget(Path link, String option) {
        Path p = link.toAbsolutePath();
        try {
            for (int hops = 0; Files.isSymbolicLink(p); hops++) {
                if (hops == 40) {
                    throw new IllegalArgumentException("cannot write " + option + " " + link + ": too many levels of "
                            + "symbolic links");
                }
                p = p.getParent().resolve(Files.readSymbolicLink(p)).normalize();
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the symbolic link " + link + " (" + option + "): " + reason(e), e);
        }
        return p;
    }

    /**
     * Converter for an output file option: a name ending in '/' is a folder, not a file (a usage error; {@link Path#of}
     * would drop the slash and write a file named like the folder).
     */
    static final class FileName implements picocli.CommandLine.ITypeConverter<Path> {
        @Override
        public Path convert(String value) {
            if (value.length() > 1 && value.endsWith("/")) {
                throw new picocli.CommandLine.TypeConversionException("'" + value + "' names a folder (it ends with '/'), "
                        + "not a file");
            }
            return Path.of(value);
        }
    }

    /**
     * Checks that {@code file}, given as {@code what} (e.g. "input file", "--weights"), is a readable regular file:
     * "not found", "is a folder", "not a regular file" or "permission denied" otherwise.
     */
    static void requireFile(Path file, String what) {
        if (Files.isRegularFile(file)) {
            if (!Files.isReadable(file)) {
                throw new IllegalArgumentException(what + " " + file + ": permission denied");
            }
            return;
        }
        if (Files.isDirectory(file)) {
            throw new IllegalArgumentException(what + " " + file + " is a folder, not a file");
        }
        if (Files.exists(file)) {
            throw new IllegalArgumentException(what + " " + file + " is not a regular file");
        }
        throw new IllegalArgumentException(what + " not found: " + file);
    }

    /** The cause of a file-system failure in words (Java's own messages are often just the path). */
    static String reason(IOException e) {
        if (e instanceof FileAlreadyExistsException fe) {
            return fe.getFile() + " exists and is not a folder";
        }
        if (e instanceof NoSuchFileException) {
            return "no such file or folder, or it cannot be created there";
        }
        return IoErrors.reason(e);
    }
}
