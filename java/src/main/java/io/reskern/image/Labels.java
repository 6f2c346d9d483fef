package io.reskern.image;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import io.reskern.ReskernException;
import io.reskern.ReskernException.ErrorCode;
import java.io.IOException;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Class labels: label {@code i} names logit {@code i}. Whether {@link #size()} matches the model's class count is
 * for the caller to check.
 *
 * <p>{@link #load(Path)} reads UTF-8 (a BOM is skipped) in one of three forms, told apart by the first non-blank
 * character ({@code [} or <code>{</code> = JSON, else text):
 * <ul>
 *   <li>Text: one label per line ({@code \n}, {@code \r\n} or a lone {@code \r}, as Python's universal newlines), each
 *       trimmed. A blank line inside the file is an
 *       empty label (so line {@code i + 1} stays class {@code i}); blank lines at the end are dropped.</li>
 *   <li>JSON array of strings: {@code ["tench", "goldfish", …]}.</li>
 *   <li>JSON object from class index to a label or to an array whose last element is the label, as in
 *       {@code imagenet_class_index.json}: <code>{"0": ["n01440764", "tench"], …}</code>. The keys must be exactly
 *       {@code 0 … n−1}.</li>
 * </ul>
 * JSON is parsed strictly (RFC 8259: no unquoted or single-quoted strings, trailing commas or comments). Anything else
 * (malformed JSON, non-string labels, missing or duplicate indices, no labels, invalid UTF-8, over
 * {@value #MAX_BYTES} bytes) is {@code BAD_FILE} naming the file and the problem. Immutable.
 */
public final class Labels {
    /** Largest labels file read. */
    public static final long MAX_BYTES = 64L << 20;

    private final List<String> names;

    private Labels(List<String> names) {
        this.names = List.copyOf(names);
    }

    /** Labels from a list (index = class). */
    public static Labels of(List<String> names) {
        Objects.requireNonNull(names, "names");
        if (names.isEmpty()) {
            throw new IllegalArgumentException("no labels");
        }
        return new Labels(names);
    }

    /** Labels from arguments (index = class). */
    public static Labels of(String... names) {
        return of(Arrays.asList(names));
    }

    /** Reads a labels file (text or JSON, see the class comment). */
    public static Labels load(Path file) throws ReskernException {
        String name = file.toString();
        byte[] bytes;
        try {
            long size = Files.size(file);
            if (size > MAX_BYTES) {
                throw new ReskernException(ErrorCode.BAD_FILE, name + ": " + size + " bytes is too large for a labels file (limit "
                        + MAX_BYTES + ")");
            }
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new ReskernException(ErrorCode.IO, name + ": no such labels file", e);
        } catch (IOException e) {
            throw new ReskernException(ErrorCode.IO, name + ": cannot read labels: " + e.getMessage(), e);
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new ReskernException(ErrorCode.BAD_FILE, name + ": labels file is not valid UTF-8", e);
        }
        return parse(text, name);
    }

    /** Parses labels text (text or JSON); {@code name} is used in messages. */
    public static Labels parse(String text, String name) throws ReskernException {
        if (text.startsWith("\uFEFF")) {
            text = text.substring(1);
        }
        String t = text.strip();
        if (t.isEmpty()) {
            throw new ReskernException(ErrorCode.BAD_FILE, name + ": labels file is empty");
        }
        List<String> out = t.charAt(0) == '[' || t.charAt(0) == '{' ? json(t, name) : lines(text);
        if (out.isEmpty()) {
            throw new ReskernException(ErrorCode.BAD_FILE, name + ": no labels");
        }
        return new Labels(out);
    }

    private static List<String> lines(String text) {
        // \r\n, \n and a lone \r (classic Mac OS) end a line, as in Python's universal newlines (open(f).readlines())
        List<String> out = new ArrayList<>(Arrays.asList(text.split("\r\n|\n|\r", -1)));
        out.replaceAll(String::strip);
        while (!out.isEmpty() && out.get(out.size() - 1).isEmpty()) {
            out.remove(out.size() - 1);
        }
        return out;
    }

    /**
     * Strict JSON (RFC 8259): Gson's {@code JsonParser.parseString} is lenient — it took {@code [tench, goldfish]} and
     * single quotes, read {@code ["a", "b",]} as three elements, and kept the last of two equal keys, so a duplicated
     * class index passed silently. Keys are collected in order here, duplicates included.
     */
    private static List<String> json(String text, String name) throws ReskernException {
        List<Map.Entry<String, JsonElement>> entries = new ArrayList<>();
        JsonElement root;
        try {
            JsonReader r = new JsonReader(new StringReader(text));
            r.setStrictness(Strictness.STRICT);
            if (r.peek() == JsonToken.BEGIN_OBJECT) {
                r.beginObject();
                while (r.hasNext()) {
                    String key = r.nextName();
                    entries.add(Map.entry(key, JsonParser.parseReader(r)));
                }
                r.endObject();
                root = null;
            } else {
                root = JsonParser.parseReader(r);
            }
            if (r.peek() != JsonToken.END_DOCUMENT) {
                throw new ReskernException(ErrorCode.BAD_FILE, name + ": malformed JSON labels: trailing content after the "
                        + "JSON value");
            }
        } catch (IOException | JsonParseException | IllegalStateException e) {
            throw new ReskernException(ErrorCode.BAD_FILE, name + ": malformed JSON labels (a file starting with [ or { is"
                    + " read as JSON): " + jsonError(e), e);
        }
        List<String> out = new ArrayList<>();
        if (root != null && root.isJsonArray()) {
            JsonArray a = root.getAsJsonArray();
            for (int i = 0; i < a.size(); i++) {
                out.add(label(a.get(i), name, "element " + i));
            }
            return out;
        }
        if (root != null) {
            throw new ReskernException(ErrorCode.BAD_FILE, name + ": JSON labels must be an array or an object");
        }
        String[] byIndex = new String[entries.size()];
        for (Map.Entry<String, JsonElement> e : entries) {
            int i;
            try {
                i = Integer.parseInt(e.getKey());
            } catch (NumberFormatException ex) {
                throw new ReskernException(ErrorCode.BAD_FILE, name + ": key \"" + e.getKey() + "\" is not a class index");
            }
            if (i < 0 || i >= byIndex.length || !e.getKey().equals(Integer.toString(i))) {
                throw new ReskernException(ErrorCode.BAD_FILE, name + ": class index " + e.getKey() + " outside 0.."
                        + (byIndex.length - 1) + " (the keys must be 0..n-1)");
            }
            if (byIndex[i] != null) {
                throw new ReskernException(ErrorCode.BAD_FILE, name + ": class index " + i + " given twice");
            }
            byIndex[i] = label(e.getValue(), name, "class " + i);
        }
        for (int i = 0; i < byIndex.length; i++) {
            if (byIndex[i] == null) {
                throw new ReskernException(ErrorCode.BAD_FILE, name + ": class index " + i + " missing");
            }
        }
        return Arrays.asList(byIndex);
    }

    /** Gson's message on one line: without its advice to parse leniently and its troubleshooting link. */
    private static String jsonError(Exception e) {
        Throwable t = e instanceof JsonParseException && e.getCause() != null ? e.getCause() : e;
        String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        int nl = m.indexOf('\n');
        if (nl >= 0) {
            m = m.substring(0, nl);
        }
        m = m.replace("Use JsonReader.setStrictness(Strictness.LENIENT) to accept malformed JSON", "malformed JSON");
        return m.length() > 300 ? m.substring(0, 300) + "..." : m;
    }

    private static String label(JsonElement v, String name, String where) throws ReskernException {
        if (v.isJsonPrimitive() && v.getAsJsonPrimitive().isString()) {
            return v.getAsString();
        }
        if (v.isJsonArray() && !v.getAsJsonArray().isEmpty()) {
            JsonElement last = v.getAsJsonArray().get(v.getAsJsonArray().size() - 1);
            if (last.isJsonPrimitive() && last.getAsJsonPrimitive().isString()) {
                return last.getAsString();
            }
        }
        String shown = v.toString(); // bounded: the value may be a megabyte of nested JSON
        if (shown.length() > 100) {
            shown = shown.substring(0, 100) + "... (" + shown.length() + " chars)";
        }
        throw new ReskernException(ErrorCode.BAD_FILE, name + ": " + where + " is not a label (a string, or an array "
                + "ending in one): " + shown);
    }

    /** Number of labels. */
    public int size() {
        return names.size();
    }

    /** Label of class {@code i}. */
    public String get(int i) {
        return names.get(i);
    }

    /** All labels, unmodifiable. */
    public List<String> asList() {
        return names;
    }

    @Override
    public String toString() {
        return "Labels[" + names.size() + (names.isEmpty() ? "" : ": " + names.get(0) + ", …") + "]";
    }
}
