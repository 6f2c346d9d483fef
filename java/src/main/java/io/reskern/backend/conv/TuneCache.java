package io.reskern.backend.conv;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Logger;

/**
 * The persisted per-layer tuning results: one JSON file ({@value #FILE_NAME}) in a cache folder, keyed by
 * {@link TuneEnv#key} (GPU, versions, precision, conv problem). An entry stores what was <em>measured</em> (the best own
 * and the best cuDNN candidate with their times), not a decision, so every {@link io.reskern.ConvPolicy} can be answered
 * from it by {@link Chooser}.
 *
 * <p>Folder: {@code -Dreskern.tuneCache=DIR}, else {@code $RESKERN_TUNE_CACHE}, else {@code $XDG_CACHE_HOME/reskern},
 * else {@code ~/.cache/reskern}; {@code off} (or {@code none}) keeps results in memory only.
 *
 * <p>Concurrency: writers take a JVM-wide lock and an OS file lock ({@code FILE_NAME.lock}), re-read the file, merge
 * their entries in and write a temporary file that is atomically moved over the old one, so concurrent processes never
 * leave a torn file and never drop each other's entries; readers need no lock (they see the old or the new file). A
 * file that does not parse, or has another format, is ignored with one log line (and replaced on the next write). A
 * folder that cannot be written is reported once; tuning then just is not persisted.
 */
public final class TuneCache {
    private static final Logger LOG = Logger.getLogger(TuneCache.class.getName());
    public static final String FILE_NAME = "conv-tuning.json";
    public static final String FORMAT = "reskern-conv-tuning-1";
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();
    private static final Map<Path, ReentrantLock> JVM_LOCKS = new ConcurrentHashMap<>();

    /**
     * What was measured for one key. {@code ownTimed}/{@code cudnnTimed}: that side was tried; its result may still be
     * null (no candidate ran: cuDNN missing, or it cannot express the problem).
     */
    public static final class Entry {
        public boolean ownTimed;
        public boolean cudnnTimed;
        public Measured own;
        public Measured cudnn;
        /** Candidates that were timed (ids), for the record. */
        public List<String> timed;
        /** Epoch milliseconds of the measurement. */
        public long measuredAt;

        public Entry() {
        }

        public Entry(boolean ownTimed, Measured own, boolean cudnnTimed, Measured cudnn, List<String> timed, long measuredAt) {
            this.ownTimed = ownTimed;
            this.cudnnTimed = cudnnTimed;
            this.own = own;
            this.cudnn = cudnn;
            this.timed = timed;
            this.measuredAt = measuredAt;
        }
    }

    /** The file's JSON shape. */
    static final class FileForm {
        String format;
        Map<String, Entry> entries;
    }

    private final Path dir;
    private final Map<String, Entry> memory = new ConcurrentHashMap<>();
    private volatile boolean loaded;
    private volatile boolean warnedCorrupt;
    private volatile boolean warnedWrite;

    /** A cache in {@code dir}; null dir = in memory only. */
    public TuneCache(Path dir) {
        this.dir = dir;
    }

    /** The cache folder the system properties / environment name (null when turned off). */
    public static Path defaultDir() {
        String p = System.getProperty("reskern.tuneCache");
        if (p == null || p.isBlank()) {
            p = System.getenv("RESKERN_TUNE_CACHE");
        }
        if (p != null && !p.isBlank()) {
            String t = p.trim();
            return t.equalsIgnoreCase("off") || t.equalsIgnoreCase("none") ? null : Path.of(t);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank()) {
            return Path.of(xdg, "reskern");
        }
        return Path.of(System.getProperty("user.home"), ".cache", "reskern");
    }

    public static TuneCache atDefault() {
        return new TuneCache(defaultDir());
    }

    /** The JSON file, or null for an in-memory cache. */
    public Path file() {
        return dir == null ? null : dir.resolve(FILE_NAME);
    }

    public Entry get(String key) {
        ensureLoaded();
        return memory.get(key);
    }

    public int size() {
        ensureLoaded();
        return memory.size();
    }

    /** Adds entries (in memory at once) and persists them merged with what other processes wrote meanwhile. */
    public void putAll(Map<String, Entry> entries) {
        if (entries.isEmpty()) {
            return;
        }
        ensureLoaded();
        memory.putAll(entries);
        if (dir == null) {
            return;
        }
        Path file = file();
        ReentrantLock jvm = JVM_LOCKS.computeIfAbsent(file.toAbsolutePath().normalize(), k -> new ReentrantLock());
        jvm.lock();
        try {
            Files.createDirectories(dir);
            try (FileChannel lockCh = FileChannel.open(dir.resolve(FILE_NAME + ".lock"), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE); FileLock ignored = lockCh.lock()) {
                Map<String, Entry> merged = new LinkedHashMap<>(read(file));
                merged.putAll(entries);
                FileForm f = new FileForm();
                f.format = FORMAT;
                f.entries = merged;
                Path tmp = Files.createTempFile(dir, FILE_NAME + ".", ".tmp");
                try {
                    try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                        GSON.toJson(f, w);
                    }
                    try {
                        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                    } catch (AtomicMoveNotSupportedException e) {
                        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
                    }
                } finally {
                    Files.deleteIfExists(tmp);
                }
                for (Map.Entry<String, Entry> e : merged.entrySet()) {
                    memory.putIfAbsent(e.getKey(), e.getValue());
                }
            }
        } catch (IOException | RuntimeException e) {
            if (!warnedWrite) {
                warnedWrite = true;
                LOG.warning("cannot write the tuning cache " + file + " (" + e + "); tuning results are kept in memory only");
            }
        } finally {
            jvm.unlock();
        }
    }

    private void ensureLoaded() {
        if (!loaded) {
            synchronized (this) {
                if (!loaded) {
                    if (dir != null) {
                        for (Map.Entry<String, Entry> e : read(file()).entrySet()) {
                            memory.putIfAbsent(e.getKey(), e.getValue());
                        }
                    }
                    loaded = true;
                }
            }
        }
    }

    /** The file's valid entries; empty (with one log line per cache object) when it is missing, corrupt or foreign. */
    private Map<String, Entry> read(Path file) {
        if (!Files.isRegularFile(file)) {
            return Map.of(); // none yet (or its folder is not one: reported once when writing)
        }
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            FileForm f = GSON.fromJson(r, FileForm.class);
            if (f == null || !FORMAT.equals(f.format) || f.entries == null) {
                corrupt(file, "not a " + FORMAT + " file");
                return Map.of();
            }
            Map<String, Entry> ok = new LinkedHashMap<>();
            for (Map.Entry<String, Entry> e : f.entries.entrySet()) {
                if (e.getKey() != null && valid(e.getValue())) {
                    ok.put(e.getKey(), e.getValue());
                }
            }
            return ok;
        } catch (NoSuchFileException e) {
            return Map.of();
        } catch (IOException | RuntimeException e) { // JsonParseException, or a record constructor rejecting a value
            corrupt(file, e.getClass().getSimpleName() + ": " + e.getMessage());
            return Map.of();
        }
    }

    /** gson bypasses the record constructors: re-check what an edited or truncated file could hold. */
    private static boolean valid(Entry e) {
        if (e == null || !(e.ownTimed || e.cudnnTimed) || (!e.ownTimed && e.own != null) || (!e.cudnnTimed && e.cudnn != null)) {
            return false;
        }
        for (Measured m : new Measured[] {e.own, e.cudnn}) {
            if (m != null && (m.id() == null || !(m.ms() > 0) || Double.isInfinite(m.ms()) || !(m.spread() >= 0))) {
                return false;
            }
        }
        return (e.own == null || e.own.id().startsWith(Chooser.OWN_PREFIX))
                && (e.cudnn == null || e.cudnn.id().startsWith(Chooser.CUDNN_PREFIX));
    }

    private void corrupt(Path file, String why) {
        if (!warnedCorrupt) {
            warnedCorrupt = true;
            LOG.warning("ignoring the tuning cache " + file + ": " + why + " (it is rewritten on the next tuning)");
        }
    }
}
