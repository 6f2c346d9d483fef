package io.reskern.cli;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Checks an output path before any work is done, so a bad one fails with one clear line, not a bare file name. */
final class OutputPaths {
    private OutputPaths() {
    }

    /** Refuses a folder as {@code option}'s file and creates the missing parent folders. */
    static void prepare(Path file, String option) {
        if (Files.isDirectory(file)) {
            throw new IllegalArgumentException(option + " is a folder, not a file: " + file);
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
    }

    /** The cause of a file-system failure in words (Java's own messages are often just the path). */
    static String reason(IOException e) {
        if (e instanceof FileAlreadyExistsException fe) {
            return fe.getFile() + " exists and is not a folder";
        }
        if (e instanceof NoSuchFileException) {
            return "no such file or folder, or it cannot be created there";
        }
        if (e instanceof FileSystemException fe && fe.getReason() != null) {
            return fe.getReason();
        }
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }
}
