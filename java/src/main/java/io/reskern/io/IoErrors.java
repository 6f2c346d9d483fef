package io.reskern.io;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/**
 * The cause of a file-system failure in words, for one-line messages: Java's own messages for
 * {@link AccessDeniedException}, {@link NoSuchFileException} and the like are only the path.
 */
public final class IoErrors {
    private IoErrors() {
    }

    /** "permission denied", "no such file or folder", the OS reason, or the exception's own message. */
    public static String reason(IOException e) {
        if (e instanceof FileSystemException fe && fe.getReason() != null) {
            return fe.getReason();
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof NoSuchFileException) {
            return "no such file or folder";
        }
        if (e instanceof FileAlreadyExistsException) {
            return "already exists";
        }
        if (e instanceof NotDirectoryException) {
            return "not a folder";
        }
        if (e instanceof DirectoryNotEmptyException) {
            return "a folder that is not empty";
        }
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }
}
