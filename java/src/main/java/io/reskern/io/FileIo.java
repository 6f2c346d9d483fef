package io.reskern.io;

import io.reskern.ReskernException;
import io.reskern.ReskernException.ErrorCode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/** Shared plumbing of the readers and writers: bounded positional reads, atomic writes, error helpers. */
final class FileIo {
    /** Largest array the readers allocate (the usual VM limit is a few below {@link Integer#MAX_VALUE}). */
    static final int MAX_ARRAY = Integer.MAX_VALUE - 8;
    /** Largest rank accepted (NumPy's own limit is 64). */
    static final int MAX_RANK = 64;
    /** Bytes read per chunk when converting tensor data (a multiple of every element size). */
    static final int CHUNK = 1 << 20;

    private FileIo() {
    }

    /**
     * A name from a file, fit for a message: in quotes {@code q}, control characters and quotes escaped, cut to
     * 120 characters (hostile files can carry megabyte-long names).
     */
    static String quote(String s, char q) {
        StringBuilder b = new StringBuilder(Math.min(s.length(), 120) + 24).append(q);
        int n = Math.min(s.length(), 120);
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7f || c == q || c == '\\') {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        b.append(q);
        if (s.length() > n) {
            b.append("...(").append(s.length()).append(" chars)");
        }
        return b.toString();
    }

    static String quote(String s) {
        return quote(s, '"');
    }

    static ReskernException bad(Path file, String message) {
        return new ReskernException(ErrorCode.BAD_FILE, file + ": " + message);
    }

    static ReskernException unsupported(Path file, String message) {
        return new ReskernException(ErrorCode.UNSUPPORTED, file + ": " + message);
    }

    static ReskernException io(Path file, String what, IOException e) {
        return new ReskernException(ErrorCode.IO, file + ": " + what + ": " + IoErrors.reason(e), e);
    }

    /** Opens a regular file for reading (a FIFO or device is refused up front: opening one could block). */
    static FileChannel openRead(Path file) throws ReskernException {
        try {
            if (Files.exists(file) && !Files.isRegularFile(file)) {
                throw new ReskernException(ErrorCode.IO, file + ": cannot open: not a regular file");
            }
            return FileChannel.open(file, StandardOpenOption.READ);
        } catch (IOException e) {
            throw io(file, "cannot open", e);
        } catch (UnsupportedOperationException | SecurityException e) {
            throw new ReskernException(ErrorCode.IO, file + ": cannot open: " + e, e);
        }
    }

    /**
     * Fills {@code buf} from {@code position}; end of file before it is full is {@code BAD_FILE} (the file is
     * shorter than its header says, or shrank after it was opened). A closed channel is an
     * {@link IllegalStateException}.
     */
    static void readFully(Path file, FileChannel ch, ByteBuffer buf, long position, String what)
            throws ReskernException {
        long pos = position;
        try {
            while (buf.hasRemaining()) {
                int n = ch.read(buf, pos);
                if (n < 0) {
                    throw bad(file, what + ": unexpected end of file at byte " + pos + " (truncated?)");
                }
                pos += n;
            }
        } catch (ClosedByInterruptException e) {
            throw new ReskernException(ErrorCode.IO, file + ": read interrupted (" + what + ")", e);
        } catch (ClosedChannelException e) {
            throw new IllegalStateException(file + ": closed", e);
        } catch (IOException e) {
            throw io(file, "read failed (" + what + ")", e);
        }
    }

    static long size(Path file, FileChannel ch) throws ReskernException {
        try {
            return ch.size();
        } catch (IOException e) {
            throw io(file, "cannot get size", e);
        }
    }

    /**
     * Writes a file through a temporary sibling that replaces {@code file} at the end (atomically if possible). The
     * file gets the permissions a plain new file gets (the umask's), or keeps those of the file it replaces; a
     * {@code createTempFile} sibling would be owner-only (0600). A symbolic link to a file stays a link: the file it
     * names is replaced (or created, for a dangling link). Something that exists and is not a regular file (a device
     * such as {@code /dev/null}, a FIFO, {@code /dev/stdout}) is written to in place, never replaced by a file; a folder
     * is refused.
     */
    interface Body {
        void write(FileChannel ch) throws IOException;
    }

    static void writeAtomically(Path file, Body body) throws ReskernException {
        Path abs = file.toAbsolutePath();
        if (Files.isDirectory(abs)) {
            throw new ReskernException(ErrorCode.IO, file + ": cannot write: is a folder");
        }
        if (Files.exists(abs) && !Files.isRegularFile(abs)) {
            writeInPlace(file, body);
            return;
        }
        if (Files.isSymbolicLink(abs)) {
            try {
                if (Files.exists(abs)) {
                    abs = abs.toRealPath(); // the link's file, so the link itself stays
                } else { // a dangling link: create the file it names (as the shell's > does), not replace the link
                    for (int hops = 0; Files.isSymbolicLink(abs); hops++) {
                        if (hops == 40) {
                            throw new ReskernException(ErrorCode.IO, file + ": cannot write: too many levels of symbolic links");
                        }
                        abs = abs.getParent().resolve(Files.readSymbolicLink(abs)).normalize();
                    }
                }
            } catch (IOException e) {
                throw io(file, "cannot resolve the link", e);
            }
        }
        Path dir = abs.getParent();
        Path tmp = null;
        try {
            tmp = createSibling(dir, "." + abs.getFileName());
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                body.write(ch);
                ch.force(false);
            }
            if (Files.exists(abs)) {
                try {
                    Files.setPosixFilePermissions(tmp, Files.getPosixFilePermissions(abs));
                } catch (UnsupportedOperationException | IOException ignored) {
                    // not a POSIX file system, or not ours to read: the new file keeps the default permissions
                }
            }
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
        } catch (IOException e) {
            throw io(file, "write failed", e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // best effort
                }
            }
        }
    }

    /** Writes into an existing device or FIFO (no truncation, no fsync: neither applies to them). */
    private static void writeInPlace(Path file, Body body) throws ReskernException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            body.write(ch);
        } catch (IOException e) {
            throw io(file, "write failed", e);
        }
    }

    private static Path createSibling(Path dir, String prefix) throws IOException {
        for (int attempt = 0;; attempt++) {
            Path p = dir.resolve(prefix + "." + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
            try {
                return Files.createFile(p);
            } catch (FileAlreadyExistsException e) {
                if (attempt >= 16) {
                    throw e;
                }
            }
        }
    }

    static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }

    /** Product of the dimensions, or -1 if a dimension is negative, or throws ArithmeticException on overflow. */
    static long elementCount(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                return -1;
            }
            n = Math.multiplyExact(n, d);
        }
        return n;
    }
}
