/**
 * Tensor file formats: {@link io.reskern.io.SafeTensors} (read and write) and NumPy {@code .npy}
 * ({@link io.reskern.io.Npy}). The readers treat every file as hostile: everything is bounds-checked before it is
 * allocated or read, and a malformed file is a {@link io.reskern.ReskernException} with code {@code BAD_FILE}
 * (valid but unconvertible content: {@code UNSUPPORTED}; I/O failures: {@code IO}).
 */
package io.reskern.io;
